"""Simulate a spiking network for T time steps in one compiled TensorFlow graph.

Each time step evaluates the spiking topology once: the input encoder gives the
input layer's value, affine layers are applied to their inputs as they are, and
every neuron layer advances its neuron model by one step, passing on its spikes
multiplied by its threshold. The output layer does not spike: its values are
summed over time (the membrane potential of a non-spiking readout), and the
prediction after step ``t`` is the arg-max of that sum.

The whole loop over time runs inside one ``tf.function`` as a ``tf.while_loop``, so
Python runs once per batch, not once per step. On a CPU, a batch whose per-step
state would not stay in the cache is split into chunks of images, each simulated
for all T steps by an outer loop in the same graph. With a constant encoder
(analog input) the layers that see only the input are computed once per chunk,
before the time loop. Only the neuron states, the state of stateful layers
(spiking max pooling), the output sum and one row of figures per step persist
across steps, so memory does not grow with T beyond those rows.

Decoders read the prediction from the output layer: ``potential`` (the default)
takes the arg-max of the summed output, ``spikes`` makes the output layer a layer
of neurons of the network's model with threshold ``output_threshold`` and takes the
arg-max of their spike counts (ties go to the lowest class index). Synaptic
operations are counted in the loop as :mod:`snn_core.metrics` describes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from snn_core.conversion import SpikingNetwork
from snn_core.distribute import SUM, reduce_over_dataset
from snn_core.errors import SnnError
from snn_core.graph import call_node, input_layer_name, layer_graph, output_layer_name
from snn_core.layer_converters import Stateful
from snn_core.metrics import (
    AVERAGING_LAYER_TYPES,
    MOVING_LAYER_TYPES,
    fan_out_map,
    is_weighted,
    spike_factor_maps,
)
from snn_core.plugins import Plugins, get_plugins

DECODERS = ("potential", "spikes")
"""Valid ``decoder`` values of :class:`Simulator`."""

SIGN_PRESERVING_LAYER_TYPES = MOVING_LAYER_TYPES | AVERAGING_LAYER_TYPES | {"Add"}
"""Keras layers whose output is never negative when no input is: they move, pad, sum, average or take maxima."""

CHUNK_BYTES_RANGE = (16 << 20, 48 << 20)
"""The minimum and maximum bytes of per-step state (potential, current and output of every neuron) in a default chunk.

Within this range, the budget is half the CPU's level-3 cache (see :func:`chunk_budget`).
"""

MIN_CHUNK = 64
"""The smallest default chunk. Where fewer images fit in the budget, batches stay whole.

Each TensorFlow operation has a fixed cost, which small chunks multiply. On the
Intel Xeon, chunks lost to the whole batch for every model but the demo CNN.
VGG16 at batch 128 took 1.33 forward passes per step in chunks of 15 images,
1.18 in chunks of 32 and 1.09 whole. MobileNetV2 at batch 256 took 2.53 in
chunks of 33, 2.05 in chunks of 64 and 1.69 whole. The demo CNN at batch 1,000
took 1.13 in chunks of 221 and 1.65 whole.
"""

WHOLE_BATCH = 1 << 24
"""A chunk size that leaves every batch whole. It is the default where a GPU is visible, because a GPU wants large batches."""


@dataclass(frozen=True)
class SimulationResult:
    """The measurements of one simulation.

    Attributes:
        timesteps: number of simulated time steps T.
        samples: number of images simulated.
        accuracy_per_step: float64 ``[T]``; entry ``t - 1`` is the accuracy after
            ``t`` steps, as a fraction.
        spike_counts: per neuron layer, spikes summed over all images and steps.
        neurons: per neuron layer, neurons per image.
        synaptic_operations: per weighted layer that receives spikes, accumulates
            summed over all images and steps.
        multiply_accumulates: per weighted layer that receives a non-spiking input,
            MACs summed over all images and steps.
        ann_multiply_accumulates: per weighted layer, the ANN's MACs per image.
        synaptic_operations_per_step: float64 ``[T]``; entry ``t - 1`` is the
            number of accumulates of all layers and images at step ``t``.
        chunk_size: the most images the simulator advanced together (see
            :class:`Simulator`). The results do not depend on it.
        seed: the seed of stochastic encoders.
        compiled_kernels: whether every neuron layer ran the model's
            ``fused_update`` (see :class:`Simulator`). The results do not depend on it.
    """

    timesteps: int
    samples: int
    accuracy_per_step: np.ndarray
    spike_counts: dict[str, float]
    neurons: dict[str, int]
    synaptic_operations: dict[str, float] = field(default_factory=dict)
    multiply_accumulates: dict[str, float] = field(default_factory=dict)
    ann_multiply_accumulates: dict[str, int] = field(default_factory=dict)
    synaptic_operations_per_step: np.ndarray | None = None
    chunk_size: int | None = None
    seed: int | None = None
    compiled_kernels: bool | None = None

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

    def operations_per_image(self) -> dict[str, float]:
        """Return SNN accumulates, SNN MACs and ANN MACs per image, over all T steps."""
        return {
            "synaptic_operations": sum(self.synaptic_operations.values()) / self.samples,
            "multiply_accumulates": sum(self.multiply_accumulates.values()) / self.samples,
            "ann_multiply_accumulates": float(sum(self.ann_multiply_accumulates.values())),
        }


class Simulator:
    """A compiled simulation of one network with one encoder.

    Args:
        network: the converted network.
        encoder: input encoder name.
        seed: seed for stochastic encoders.
        jit_compile: compile the whole step loop with XLA. Off by default: XLA's
            CPU convolutions are slower than oneDNN's.
        fuse_neurons: compile each neuron layer's update (step, spike times
            threshold) with XLA into one kernel, while convolutions and matrix
            products stay on TensorFlow's own kernels. It does less work per
            step, but XLA runs the kernel on one thread, and on a shared 2-core
            CPU TensorFlow's separate multi-threaded kernels were faster in wall
            time (``benchmarks/bench_simulation.py --modes default,unfused``), so
            it is off by default. The neuron model's ``step`` must then use only
            operations that XLA can compile.
        compiled_kernels: advance neuron layers with the model's
            ``fused_update`` (for the built-in integrate-and-fire models, the
            compiled kernel of :mod:`snn_core.kernels`), which gives the same
            results in one pass over memory. ``None`` uses it where it is
            available, except under XLA (``jit_compile``, ``fuse_neurons``) and
            where a GPU is visible, since the kernel runs on CPUs only.
            ``True`` raises :class:`~snn_core.errors.SnnError` where it is not
            available, and ``False`` keeps TensorFlow's own operations.
        decoder: ``"potential"`` or ``"spikes"`` (see the module docstring).
        output_threshold: threshold of the output neurons of the ``spikes``
            decoder, in the units of the ANN's logits; see
            :func:`output_threshold_from_data`.
        chunk_size: the maximum number of images simulated together. A larger batch is
            simulated in chunks, one after the other, inside the same compiled
            graph, so that one step's membrane potentials stay in the CPU's
            caches instead of streaming through main memory at every step.
            The chunks are as few as this maximum allows and differ in size by
            at most one image: 1,000 images with a maximum of 221 make five
            chunks of 200. ``None`` picks the maximum from the network's size
            and the CPU's cache (see :func:`default_chunk_size`), and leaves
            batches whole where a GPU is visible.
    """

    def __init__(
        self,
        network: SpikingNetwork,
        encoder: str = "analog",
        seed: int = 0,
        jit_compile: bool = False,
        fuse_neurons: bool = False,
        plugins: Plugins | None = None,
        decoder: str = "potential",
        output_threshold: float | None = None,
        chunk_size: int | None = None,
        compiled_kernels: bool | None = None,
    ):
        plugins = plugins or get_plugins()
        self.network = network
        self.encoder = plugins.input_encoders.get(encoder)
        self.seed = seed
        if decoder not in DECODERS:
            raise SnnError(f"unknown --decoder value {decoder!r}; valid decoders: {', '.join(DECODERS)}")
        if decoder == "spikes" and (output_threshold is None or not output_threshold > 0):
            raise SnnError(
                f"the spikes decoder needs a positive output threshold, got {output_threshold}; "
                "estimate one with output_threshold_from_data"
            )
        self.decoder = decoder
        self._output_parameters = (
            dataclasses.replace(network.neuron_parameters, v_threshold=np.float32(output_threshold))
            if decoder == "spikes"
            else None
        )

        topology = network.topology
        self._nodes = [node for node in layer_graph(topology) if node.name != input_layer_name(topology)]
        self._input = input_layer_name(topology)
        self._output = output_layer_name(topology)
        self._neurons = set(network.thresholds)
        if self._output in self._neurons:
            raise SnnError(f"the output layer {self._output!r} is a neuron layer; the last layer must be affine (logits)")

        self._stateful = self._stateful_stages(plugins)
        self._constant = self._constant_nodes() if self.encoder.constant else set()
        self._parameters = {name: network.parameters_for(name) for name in self._neurons}
        gpu_visible = bool(tf.config.list_logical_devices("GPU"))
        fused_updates = self._fused_updates(compiled_kernels, jit_compile or fuse_neurons, gpu_visible)
        self.compiled_kernels = bool(self._neurons) and fused_updates.keys() == self._neurons
        """Whether every neuron layer runs the model's ``fused_update``."""
        self._neuron_updates = {
            name: fused_updates.get(name) or self._neuron_update(name, fuse_neurons) for name in self._neurons
        }
        self._shapes = {node.name: tuple(node.layer.output.shape[1:]) for node in self._nodes}
        self._shapes[self._input] = tuple(topology.inputs[0].shape[1:])
        self._node_inputs = {node.name: node.inputs for node in self._nodes}

        # Weighted layers that see only a non-spiking input do MACs. The others
        # receive spikes and are charged accumulates per spike (see snn_core.metrics).
        weighted = [node for node in self._nodes if is_weighted(node.layer)]
        self._fan_out = {node.name: fan_out_map(node.layer, tuple(node.layer.input.shape[1:])) for node in weighted}
        self.ann_macs = {name: int(round(float(fan_out.sum()))) for name, fan_out in self._fan_out.items()}
        input_only = self._input_only_nodes()
        self._mac_layers = [node.name for node in weighted if node.name in input_only and not self.encoder.spikes]
        self._synapse_layers = [node.name for node in weighted if node.name not in self._mac_layers]
        self._nonnegative = self._nonnegative_nodes()
        signed = network.neuron_model.signed
        thresholds = {} if signed else {name: self._parameters[name].v_threshold for name in self._neurons}
        self._spike_factors = spike_factor_maps(self._nodes, thresholds, self._shapes)
        self._counted_with = self._spikes_counted_with_operations()

        # Every step writes one row of per-step figures: correct predictions, then
        # the spikes of every neuron layer, then the accumulates of every layer
        # that receives spikes.
        self._count_columns = sorted(self._neurons)
        self._columns = ["correct", *self._count_columns, *self._synapse_layers]
        # Spikes counted with a weighted layer's accumulates are already whole
        # numbers. The other spike sums carry a scalar threshold, which
        # _spike_scale divides out.
        self._spikes_counted_downstream = set(self._counted_with.values())
        self._column_scales = np.array(
            [1.0,
             *(1.0 if name in self._spikes_counted_downstream else _spike_scale(self._parameters[name].v_threshold) for name in self._count_columns),
             *(1.0 for _ in self._synapse_layers)],
            np.float32,
        )

        if chunk_size is None:
            neurons = sum(int(np.prod(self._shapes[name])) for name in self._neurons)
            chunk_size = WHOLE_BATCH if gpu_visible else default_chunk_size(neurons)
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
            raise SnnError(f"the chunk size must be a whole number of images, at least 1, got {chunk_size!r}")
        # Larger sizes change nothing, and the cap keeps the graph's int32 arithmetic from overflowing.
        self.chunk_size = min(int(chunk_size), WHOLE_BATCH)

        input_shape = topology.inputs[0].shape[1:]
        self._run = tf.function(
            self._run_batch,
            input_signature=[
                tf.TensorSpec([None, *input_shape], tf.float32),
                tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([], tf.int32),
                tf.TensorSpec([], tf.int32),
            ],
            jit_compile=jit_compile,
        )

    def _fused_updates(self, requested: bool | None, xla: bool, gpu_visible: bool) -> dict[str, Callable]:
        """Return the model's fused update of every neuron layer where it is requested (see ``compiled_kernels``) and available."""
        if requested is not None and not isinstance(requested, (bool, np.bool_)):
            raise SnnError(f"compiled_kernels must be None, True or False, got {requested!r}")
        if requested and xla:
            raise SnnError("compiled kernels cannot run under XLA, so pass compiled_kernels=False with jit_compile or fuse_neurons")
        required = requested is not None and bool(requested)
        if requested is None:
            requested = not (xla or gpu_visible)

        model = self.network.neuron_model
        if not requested or not self._neurons:
            return {}
        if model.fused_update is None:
            if required:
                raise SnnError(f"neuron model {model.name!r} has no fused update, so pass compiled_kernels=None or False")
            return {}

        updates = {name: model.fused_update(self._parameters[name]) for name in sorted(self._neurons)}
        if required and None in updates.values():
            raise SnnError(
                f"the compiled kernels of neuron model {model.name!r} are not available here: their build failed "
                "(see the logged warning) or SNN_KERNELS turned them off. Pass compiled_kernels=None to fall back "
                "to TensorFlow's operations"
            )
        return {name: update for name, update in updates.items() if update is not None}

    def _neuron_update(self, name: str, fuse: bool) -> Callable:
        model = self.network.neuron_model
        parameters = self._parameters[name]

        def update(current, state):
            spikes, state = model.step(current, state, parameters)
            return spikes * parameters.v_threshold, state

        # Unfused, the update is five or six elementwise kernels (add, compare,
        # cast, one or two multiplies, subtract), each a pass over the layer's
        # memory. XLA makes it one.
        return tf.function(update, jit_compile=True) if fuse else update

    def _synaptic_operations(self, node, inputs: tf.Tensor, batch: tf.Tensor) -> dict[str, tf.Tensor]:
        """Return this step's accumulates of weighted layer ``node``, and the spikes of the neuron layer counted with them."""
        fan_out = self._fan_out[node.name].reshape(-1)
        source = node.inputs[0]
        rows = tf.reshape(inputs, [batch, -1])
        if source in self._spike_factors:
            # The input times its spike factor is the spikes arriving at each
            # element, so one matrix product with fan-out times factor counts the
            # accumulates without building an event mask first. A second column
            # of the same product counts the spikes themselves.
            factor = self._spike_factors[source].reshape(-1)
            if node.name not in self._counted_with:
                return {node.name: _weighted_sum(rows, fan_out * factor)}
            operations, spikes = tf.unstack(_weighted_sum(rows, np.stack([fan_out * factor, factor], axis=1)))
            return {node.name: operations, self._counted_with[node.name]: spikes}

        # Otherwise every nonzero input counts once. The sign of a non-negative
        # input is its 0/1 event mask in one unary pass, where a comparison with
        # zero and a cast take two.
        if source in self._nonnegative:
            events = tf.sign(rows)
        else:
            events = tf.cast(tf.not_equal(rows, 0.0), tf.float32)
        return {node.name: _weighted_sum(events, fan_out)}

    def _spikes_counted_with_operations(self) -> dict[str, str]:
        """Return weighted layers whose accumulate count can count the spikes of a neuron layer too.

        That is the case where every spike of the neuron layer reaches the weighted
        layer's input exactly once, which :func:`_passes_each_value_once` checks
        layer by layer: directly, or through flattening, reshaping and average
        pooling with windows that tile the input. The spikes are then counted on
        the (smaller) pooled input, in a second column of the product that counts
        the accumulates, instead of in a pass over the neuron layer.
        """
        nodes = {node.name: node for node in self._nodes}
        counted_with: dict[str, str] = {}
        for name in self._synapse_layers:
            source = nodes[name].inputs[0]
            if source not in self._spike_factors:
                continue
            while source not in self._neurons and source in nodes and _passes_each_value_once(nodes[source], self._shapes):
                source = nodes[source].inputs[0]
            if source in self._neurons and source not in counted_with.values():
                counted_with[name] = source
        return counted_with

    def _constant_nodes(self) -> set[str]:
        constant = {self._input}
        for node in self._nodes:
            if node.name not in self._neurons and node.name not in self._stateful and all(name in constant for name in node.inputs):
                constant.add(node.name)
        return constant

    def _nonnegative_nodes(self) -> set[str]:
        """Return the layers whose values are never negative: those of unsigned spikes and what only moves or averages them."""
        if self.network.neuron_model.signed:
            return set()
        nonnegative = set(self._neurons)
        for node in self._nodes:
            if type(node.layer).__name__ in SIGN_PRESERVING_LAYER_TYPES and all(name in nonnegative for name in node.inputs):
                nonnegative.add(node.name)
        return nonnegative

    def _input_only_nodes(self) -> set[str]:
        reached = {self._input}
        for node in self._nodes:
            if node.name not in self._neurons and all(name in reached for name in node.inputs):
                reached.add(node.name)
        return reached

    def _stateful_stages(self, plugins: Plugins) -> dict[str, Stateful]:
        converters = plugins.layer_converters
        stages = {}
        for node in self._nodes:
            type_name = type(node.layer).__name__
            if node.name in self._neurons or type_name not in converters:
                continue
            for stage in converters.get(type_name).convert(node.layer, node.name == self._output):
                if isinstance(stage, Stateful):
                    stages[node.name] = stage
        return stages

    def _encode(self, images: tf.Tensor, step: tf.Tensor, first_index: tf.Tensor) -> tf.Tensor:
        """Return the input layer's value at ``step`` for ``images``, the run's images from ``first_index`` on."""
        if self.encoder.indexed:
            return self.encoder.encode(images, step, self.seed, first_index)
        return self.encoder.encode(images, step, self.seed)

    def _run_batch(self, images: tf.Tensor, labels: tf.Tensor, timesteps: tf.Tensor, first_index: tf.Tensor):
        """Simulate one batch chunk by chunk and return its per-step correct counts and its metric sums.

        ``first_index`` is the position of ``images[0]`` among the run's images,
        for encoders that draw random numbers per image.

        Returns ``(correct, spike_counts, synaptic_operations, synaptic_operations_per_step)``:
        float64 ``[T]``, two dicts of float64 scalars, and float64 ``[T]``, every
        value a whole number.
        """
        batch = tf.shape(images)[0]
        chunks = (batch + self.chunk_size - 1) // self.chunk_size

        # Balanced chunks: the first `extra` chunks take one image more than the rest.
        # An empty batch has no chunks, and the divisor of one keeps that defined.
        divisor = tf.maximum(chunks, 1)
        size, extra = batch // divisor, batch % divisor

        def simulate_chunk(index, totals):
            start = index * size + tf.minimum(index, extra)
            end = start + size + tf.cast(index < extra, tf.int32)
            per_step = self._run_chunk(images[start:end], labels[start:end], timesteps, first_index + start)
            return index + 1, totals + tf.cast(per_step, tf.float64)

        totals = tf.zeros(tf.stack([timesteps, len(self._columns)]), tf.float64)
        _, totals = tf.while_loop(lambda index, _: index < chunks, simulate_chunk, (tf.constant(0), totals))

        sums = tf.reduce_sum(totals, axis=0)
        columns = {name: index for index, name in enumerate(self._columns)}
        spike_counts = {name: sums[columns[name]] for name in self._count_columns}
        synops = {name: sums[columns[name]] for name in self._synapse_layers}
        synops_per_step = tf.reduce_sum(totals[:, 1 + len(self._count_columns):], axis=1)
        return totals[:, 0], spike_counts, synops, synops_per_step

    def _run_chunk(self, images: tf.Tensor, labels: tf.Tensor, timesteps: tf.Tensor, first_index: tf.Tensor) -> tf.Tensor:
        """Simulate a chunk of images for ``timesteps`` steps and return float32 ``[T, len(self._columns)]``.

        Row ``t`` contains the figures of step ``t + 1`` for the columns of
        ``self._columns``, each rounded to a whole number.
        """
        batch = tf.shape(images)[0]
        model = self.network.neuron_model

        constant_values: dict[str, tf.Tensor] = {}
        if self.encoder.constant:
            constant_values[self._input] = self._encode(images, tf.constant(0), first_index)
            for node in self._nodes:
                if node.name in self._constant:
                    constant_values[node.name] = call_node(node.layer, node, [constant_values[n] for n in node.inputs])

        def batch_shape(name):
            return tf.concat([[batch], self._shapes[name]], axis=0)

        states = {name: model.initial_state(batch_shape(name), self._parameters[name]) for name in sorted(self._neurons)}
        layer_states = {
            name: stage.initial_state([batch_shape(n) for n in self._node_inputs[name]])
            for name, stage in sorted(self._stateful.items())
        }
        # The readout sums the output layer's values (potential decoder), or counts
        # the spikes of output neurons (spikes decoder), whose state it also carries.
        readout = {"sum": tf.zeros(batch_shape(self._output), tf.float32)}
        if self.decoder == "spikes":
            readout["state"] = model.initial_state(batch_shape(self._output), self._output_parameters)
        rows = tf.TensorArray(tf.float32, size=timesteps, element_shape=[len(self._columns)])

        def step(t, states, layer_states, readout, rows):
            values = dict(constant_values)
            if not self.encoder.constant:
                values[self._input] = self._encode(images, t, first_index)

            new_states, new_layer_states, figures = {}, {}, {}
            for node in self._nodes:
                if node.name in self._constant:
                    continue
                inputs = [values[name] for name in node.inputs]
                if node.name in self._synapse_layers:
                    figures.update(self._synaptic_operations(node, inputs[0], batch))
                if node.name in self._neurons:
                    parameters = self._parameters[node.name]
                    values[node.name], new_states[node.name] = self._neuron_updates[node.name](inputs[0], states[node.name])
                    if node.name not in self._spikes_counted_downstream:
                        figures[node.name] = _spike_sum(values[node.name], parameters.v_threshold, model.signed)
                elif node.name in self._stateful:
                    stage = self._stateful[node.name]
                    values[node.name], new_layer_states[node.name] = stage.step(inputs, layer_states[node.name])
                else:
                    values[node.name] = call_node(node.layer, node, inputs)

            new_readout = {}
            if self.decoder == "spikes":
                output_spikes, new_readout["state"] = model.step(values[self._output], readout["state"], self._output_parameters)
                new_readout["sum"] = readout["sum"] + output_spikes
            else:
                new_readout["sum"] = readout["sum"] + values[self._output]
            predictions = tf.argmax(new_readout["sum"], axis=-1, output_type=tf.int32)
            figures["correct"] = tf.reduce_sum(tf.cast(predictions == labels, tf.float32))

            # One write per step keeps the loop short. Scaling and rounding the
            # figures wait until after the loop.
            row = tf.stack([figures[name] for name in self._columns])
            return t + 1, new_states, new_layer_states, new_readout, rows.write(t, row)

        # The loop keeps TensorFlow's default parallel iterations, so the next
        # step's first layers run while this step's last ones do. Serialising the
        # steps made the demo CNN's step 36% slower.
        loop_variables = (tf.constant(0), states, layer_states, readout, rows)
        *_, rows = tf.while_loop(lambda t, *_: t < timesteps, step, loop_variables)

        # Scaled, every figure is a whole number up to float32 rounding, which
        # rounding removes.
        return tf.round(rows.stack() * self._column_scales)

    def run(
        self,
        dataset: tf.data.Dataset,
        timesteps: int,
        progress: Callable[[int], None] | None = None,
        strategy: tf.distribute.Strategy | None = None,
    ) -> SimulationResult:
        """Simulate every batch of ``dataset`` (batched ``(images, labels)``) for ``timesteps`` steps.

        Under a ``strategy`` with several replicas, each replica simulates its share
        of every batch for all T steps, and the per-step correct counts and the
        spike and operation counts are summed, which equals a one-device run.
        """
        if timesteps < 1:
            raise SnnError(f"the number of time steps must be at least 1, got {timesteps}")

        if strategy is not None and strategy.num_replicas_in_sync > 1:
            correct, counts, synops, synops_per_step, samples = self._run_distributed(dataset, timesteps, progress, strategy)
        else:
            correct = np.zeros(timesteps, np.int64)
            counts = {name: 0.0 for name in self._neurons}
            synops = {name: 0.0 for name in self._synapse_layers}
            synops_per_step = np.zeros(timesteps, np.float64)
            samples = 0
            for images, labels in dataset:
                batch_correct, batch_counts, batch_synops, batch_synops_per_step = self._run(
                    tf.cast(images, tf.float32),
                    tf.cast(labels, tf.int32),
                    tf.constant(timesteps, tf.int32),
                    tf.constant(samples, tf.int32),
                )
                correct += np.rint(batch_correct.numpy()).astype(np.int64)
                for name, value in batch_counts.items():
                    counts[name] += float(value)
                for name, value in batch_synops.items():
                    synops[name] += float(value)
                synops_per_step += batch_synops_per_step.numpy()
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
            synaptic_operations=synops,
            multiply_accumulates={name: float(self.ann_macs[name]) * samples * timesteps for name in self._mac_layers},
            ann_multiply_accumulates=dict(self.ann_macs),
            synaptic_operations_per_step=synops_per_step,
            chunk_size=self.chunk_size,
            seed=self.seed,
            compiled_kernels=self.compiled_kernels,
        )


    def _run_distributed(self, dataset, timesteps: int, progress, strategy: tf.distribute.Strategy):
        # Images carry their positions, because a replica's share does not say where
        # it starts. Shares are consecutive, so the smallest position is the first.
        def replica_batch(images, labels, positions):
            return self._run_batch(
                tf.cast(images, tf.float32),
                tf.cast(labels, tf.int32),
                tf.constant(timesteps, tf.int32),
                tf.reduce_min(positions),
            )

        reductions = (
            SUM,
            {name: SUM for name in sorted(self._neurons)},
            {name: SUM for name in sorted(self._synapse_layers)},
            SUM,
        )
        (correct, counts, synops, synops_per_step), samples = reduce_over_dataset(
            _with_positions(dataset), replica_batch, reductions, strategy, progress
        )
        counts = {name: float(value) for name, value in counts.items()}
        synops = {name: float(value) for name, value in synops.items()}
        return np.rint(correct).astype(np.int64), counts, synops, synops_per_step, samples


def _with_positions(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Return batched ``(images, labels)`` as ``(images, labels, positions)``: every image's position in the dataset, from 0."""

    def number(start, batch):
        images, labels = batch
        size = tf.shape(images)[0]
        return start + size, (images, labels, start + tf.range(size))

    return dataset.scan(tf.constant(0, tf.int32), number)


def _spike_sum(outputs: tf.Tensor, threshold, signed: bool) -> tf.Tensor:
    """Return the sum of ``outputs`` (spikes times ``threshold``) as float32, which times :func:`_spike_scale` is the spike count.

    Counting here, outside the fused neuron update, keeps that update a pure
    elementwise kernel: XLA runs a reduction in the same kernel on one thread,
    which on a 2-core CPU made the update about twice as slow. Every element is
    0 or +-threshold. A scalar threshold is left in the sum, because the caller
    divides by it once after the loop. Per-channel thresholds are divided out here.
    """
    magnitudes = tf.abs(outputs) if signed else outputs
    inverse = 1.0 / np.abs(np.asarray(threshold, np.float32))
    if inverse.ndim == 0:
        return tf.reduce_sum(magnitudes)

    return _weighted_sum(tf.reshape(magnitudes, [-1, inverse.shape[-1]]), inverse)


def _passes_each_value_once(node, shapes: dict[str, tuple[int, ...]]) -> bool:
    """Return whether a single-input layer hands every input element, whole, to exactly one output element."""
    layer = node.layer
    type_name = type(layer).__name__
    if len(node.inputs) != 1:
        return False
    if type_name in {"Flatten", "Reshape"}:
        return True
    if not type_name.startswith("AveragePooling"):
        return False

    # Windows that tile the input: as many inputs in each as the window's size,
    # and no input left out or shared.
    config = layer.get_config()
    pool, strides = tuple(config["pool_size"]), tuple(config["strides"])
    spatial = shapes[node.inputs[0]][:-1]
    return (
        config["padding"] == "valid"
        and config.get("data_format", "channels_last") == "channels_last"
        and pool == strides
        and all(size % window == 0 for size, window in zip(spatial, pool, strict=True))
    )


def _spike_scale(threshold) -> float:
    """Return what :func:`_spike_sum` must be multiplied by to count spikes."""
    threshold = np.abs(np.asarray(threshold, np.float32))
    return float(1.0 / threshold) if threshold.ndim == 0 else 1.0


def _weighted_sum(rows: tf.Tensor, weights: np.ndarray) -> tf.Tensor:
    """Return the sum over a ``[n, k]`` tensor's rows of their products with ``weights``: ``[k]`` gives a scalar, ``[k, m]`` gives ``[m]``.

    A matrix product with one column reads the tensor once at full speed. On a
    1 MB input, TensorFlow's CPU kernels ran it twice as fast as a plain sum and
    six times as fast as one product with two columns, so ``m`` columns are ``m``
    products.
    """
    if weights.ndim == 1:
        return tf.reduce_sum(tf.matmul(rows, weights.reshape(-1, 1).astype(np.float32)))
    return tf.stack([_weighted_sum(rows, column) for column in weights.T])


def default_chunk_size(neurons_per_image: int, budget: int | None = None) -> int:
    """Return how many images to simulate together on a CPU, for a network of ``neurons_per_image`` neurons.

    A step reads and writes each neuron's potential, input current and output
    (12 bytes in float32). The chunk is the most images whose state fits in
    ``budget`` bytes (by default :func:`chunk_budget`), so that it stays in the
    cache from one step to the next. Where that is fewer than :data:`MIN_CHUNK`
    images, it is :data:`WHOLE_BATCH`.
    """
    budget = chunk_budget() if budget is None else budget
    chunk = budget // (12 * max(1, neurons_per_image))
    return chunk if chunk >= MIN_CHUNK else WHOLE_BATCH


def chunk_budget(cache_bytes: int | None = None) -> int:
    """Return the bytes of per-step state that a default chunk may take.

    The budget is half of ``cache_bytes``, within :data:`CHUNK_BYTES_RANGE`.
    ``cache_bytes`` defaults to the level-3 cache of the first CPU as Linux
    reports it, and the budget to the minimum where that cannot be read. Other
    processes share the cache, so the budget stops at the maximum. Both ends
    come from the demo CNN on two CPUs. An AMD EPYC with 32 MiB of level-3
    cache ran it fastest in chunks of 16 MiB of state. An Intel Xeon with 480
    MiB ran it fastest in chunks of 45 to 57 MiB.

    NOTE: no other CPU was measured, so the rule between and beyond those two
    points is an estimate. ``chunk_size`` overrides it.
    """
    minimum, maximum = CHUNK_BYTES_RANGE
    if cache_bytes is None:
        cache_bytes = _level3_cache_bytes()
    if cache_bytes is None:
        return minimum
    return int(min(max(cache_bytes // 2, minimum), maximum))


def _level3_cache_bytes() -> int | None:
    """Return the size of the first CPU's level-3 cache from Linux's sysfs, or ``None`` where it is not there."""
    for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            if (index / "level").read_text().strip() != "3":
                continue
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
        if size[-1:] in units and size[:-1].isdigit():
            return int(size[:-1]) * units[size[-1]]
        if size.isdigit():
            return int(size)
    return None


def simulate(
    network: SpikingNetwork,
    dataset: tf.data.Dataset,
    timesteps: int,
    encoder: str = "analog",
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    plugins: Plugins | None = None,
    decoder: str = "potential",
    output_threshold: float | None = None,
    chunk_size: int | None = None,
    compiled_kernels: bool | None = None,
) -> SimulationResult:
    """Simulate ``network`` on a batched dataset for ``timesteps`` steps; see :class:`Simulator`."""
    simulator = Simulator(
        network, encoder=encoder, seed=seed, plugins=plugins, decoder=decoder, output_threshold=output_threshold,
        chunk_size=chunk_size, compiled_kernels=compiled_kernels,
    )
    return simulator.run(dataset, timesteps, progress)


def output_threshold_from_data(network: SpikingNetwork, dataset: tf.data.Dataset) -> float:
    """Return the largest ANN output of ``network`` on a batched dataset, for the ``spikes`` decoder.

    This is max normalization (Diehl et al., IJCNN 2015) applied to the output
    layer: on that data, no output neuron's ANN value exceeds the threshold, so
    none needs more than one spike per step.
    Pass the training split, not the data the simulation will be scored on.
    """
    largest = -np.inf
    for images, _labels in dataset:
        largest = max(largest, float(tf.reduce_max(network.topology(tf.cast(images, tf.float32), training=False))))
    if not largest > 0:
        raise SnnError(f"the network's outputs are never positive on this dataset (max {largest}); the spikes decoder needs positive logits")
    return largest
