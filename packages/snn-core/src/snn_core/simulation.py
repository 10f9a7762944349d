"""Simulate a spiking network for T time steps in one compiled TensorFlow graph.

Each time step evaluates the spiking topology once: the input encoder gives the
input layer's value, affine layers are applied to their inputs as they are, and
every neuron layer advances its neuron model by one step, passing on its spikes
multiplied by its threshold. The output layer does not spike: its values are
summed over time (the membrane potential of a non-spiking readout), and the
prediction after step ``t`` is the arg-max of that sum.

The whole loop over time runs inside one ``tf.function`` as a ``tf.while_loop``, so
Python runs once per batch, not once per step. With a constant encoder (analog
input) the layers that see only the input are computed once before the loop. Only
the neuron states, the output sum and the metric accumulators persist across
steps, so memory does not grow with T.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from snn_core.conversion import SpikingNetwork
from snn_core.errors import SnnError
from snn_core.graph import call_node, input_layer_name, layer_graph, output_layer_name
from snn_core.plugins import Plugins, get_plugins


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation measured.

    Attributes:
        timesteps: number of simulated time steps T.
        samples: number of images simulated.
        accuracy_per_step: float64 ``[T]``; entry ``t - 1`` is the accuracy after
            ``t`` steps, as a fraction.
        spike_counts: per neuron layer, spikes summed over all images and steps.
        neurons: per neuron layer, neurons per image.
    """

    timesteps: int
    samples: int
    accuracy_per_step: np.ndarray
    spike_counts: dict[str, float]
    neurons: dict[str, int]

    def firing_rates(self) -> dict[str, float]:
        """Return the mean spikes per neuron per time step of every neuron layer."""
        return {
            layer: count / (self.neurons[layer] * self.samples * self.timesteps)
            for layer, count in self.spike_counts.items()
        }

    def first_step_within(self, reference_accuracy: float, tolerance: float) -> int | None:
        """Return the first T whose accuracy is at least ``reference_accuracy - tolerance``, or ``None``."""
        reached = np.flatnonzero(self.accuracy_per_step >= reference_accuracy - tolerance - 1e-12)
        return int(reached[0]) + 1 if reached.size else None


class Simulator:
    """A compiled simulation of one network with one encoder.

    Args:
        network: the converted network.
        encoder: input encoder name.
        seed: seed for stochastic encoders.
        jit_compile: compile the step loop with XLA.
    """

    def __init__(
        self,
        network: SpikingNetwork,
        encoder: str = "analog",
        seed: int = 0,
        jit_compile: bool = False,
        plugins: Plugins | None = None,
    ):
        self.network = network
        self.encoder = (plugins or get_plugins()).input_encoders.get(encoder)
        self.seed = seed

        topology = network.topology
        self._nodes = [node for node in layer_graph(topology) if node.name != input_layer_name(topology)]
        self._input = input_layer_name(topology)
        self._output = output_layer_name(topology)
        self._neurons = set(network.thresholds)
        if self._output in self._neurons:
            raise SnnError(f"the output layer {self._output!r} is a neuron layer; the last layer must be affine (logits)")

        self._constant = self._constant_nodes() if self.encoder.constant else set()
        self._parameters = {name: network.parameters_for(name) for name in self._neurons}
        self._shapes = {node.name: tuple(node.layer.output.shape[1:]) for node in self._nodes}

        input_shape = topology.inputs[0].shape[1:]
        self._run = tf.function(
            self._run_batch,
            input_signature=[
                tf.TensorSpec([None, *input_shape], tf.float32),
                tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([], tf.int32),
            ],
            jit_compile=jit_compile,
        )

    def _constant_nodes(self) -> set[str]:
        constant = {self._input}
        for node in self._nodes:
            if node.name not in self._neurons and all(name in constant for name in node.inputs):
                constant.add(node.name)
        return constant

    def _run_batch(self, images: tf.Tensor, labels: tf.Tensor, timesteps: tf.Tensor):
        batch = tf.shape(images)[0]
        model = self.network.neuron_model

        constant_values: dict[str, tf.Tensor] = {}
        if self.encoder.constant:
            constant_values[self._input] = self.encoder.encode(images, tf.constant(0), self.seed)
            for node in self._nodes:
                if node.name in self._constant:
                    constant_values[node.name] = call_node(node.layer, node, [constant_values[n] for n in node.inputs])

        states = {
            name: model.initial_state(tf.concat([[batch], self._shapes[name]], axis=0), self._parameters[name])
            for name in sorted(self._neurons)
        }
        spike_counts = {name: tf.constant(0.0, tf.float32) for name in sorted(self._neurons)}
        potential = tf.zeros(tf.concat([[batch], self._shapes[self._output]], axis=0), tf.float32)
        correct = tf.TensorArray(tf.int32, size=timesteps)

        def step(t, states, potential, correct, spike_counts):
            values = dict(constant_values)
            if not self.encoder.constant:
                values[self._input] = self.encoder.encode(images, t, self.seed)

            new_states, new_counts = {}, {}
            for node in self._nodes:
                if node.name in self._constant:
                    continue
                inputs = [values[name] for name in node.inputs]
                if node.name in self._neurons:
                    parameters = self._parameters[node.name]
                    spikes, new_states[node.name] = model.step(inputs[0], states[node.name], parameters)
                    new_counts[node.name] = spike_counts[node.name] + tf.reduce_sum(tf.abs(spikes))
                    values[node.name] = spikes * parameters.v_threshold
                else:
                    values[node.name] = call_node(node.layer, node, inputs)

            potential = potential + values[self._output]
            predictions = tf.argmax(potential, axis=-1, output_type=tf.int32)
            correct = correct.write(t, tf.reduce_sum(tf.cast(predictions == labels, tf.int32)))
            return t + 1, new_states, potential, correct, new_counts

        _, _, _, correct, spike_counts = tf.while_loop(
            lambda t, *_: t < timesteps,
            step,
            (tf.constant(0), states, potential, correct, spike_counts),
        )
        return correct.stack(), spike_counts

    def run(
        self,
        dataset: tf.data.Dataset,
        timesteps: int,
        progress: Callable[[int], None] | None = None,
    ) -> SimulationResult:
        """Simulate every batch of ``dataset`` (batched ``(images, labels)``) for ``timesteps`` steps."""
        if timesteps < 1:
            raise SnnError(f"the number of time steps must be at least 1, got {timesteps}")

        correct = np.zeros(timesteps, np.int64)
        counts = {name: 0.0 for name in self._neurons}
        samples = 0
        for images, labels in dataset:
            batch_correct, batch_counts = self._run(
                tf.cast(images, tf.float32), tf.cast(labels, tf.int32), tf.constant(timesteps, tf.int32)
            )
            correct += batch_correct.numpy()
            for name, value in batch_counts.items():
                counts[name] += float(value)
            samples += int(images.shape[0])
            if progress is not None:
                progress(samples)

        if samples == 0:
            raise SnnError("the dataset to simulate is empty")
        neurons = {name: int(np.prod(self._shapes[name])) for name in self.network.neuron_layers}
        return SimulationResult(
            timesteps=timesteps,
            samples=samples,
            accuracy_per_step=correct / samples,
            spike_counts={name: counts[name] for name in self.network.neuron_layers},
            neurons=neurons,
        )


def simulate(
    network: SpikingNetwork,
    dataset: tf.data.Dataset,
    timesteps: int,
    encoder: str = "analog",
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    plugins: Plugins | None = None,
) -> SimulationResult:
    """Simulate ``network`` on a batched dataset for ``timesteps`` steps; see :class:`Simulator`."""
    return Simulator(network, encoder=encoder, seed=seed, plugins=plugins).run(dataset, timesteps, progress)
