"""Threshold balancing: thresholds from the spiking network's own input currents.

Sengupta et al., "Going deeper in spiking neural networks: VGG and residual
architectures" (Frontiers in Neuroscience 2019), set the threshold of each layer to
the largest input current its neurons receive while the spiking network runs on
training images. Layers are balanced in network order: the threshold of layer
``l`` is measured with the thresholds of the layers before it already set, because
their spike trains are what layer ``l`` integrates. Unlike data-based
normalization, this sees the bursts of spikes that the ANN's averaged activations
hide.

What it needs: a simulation pass (``needs_simulation``) over a sample of training
images, one pass per neuron layer, each ``timesteps`` steps long; no statistics.
Assumptions: the input is analog (the image is the constant input current of every
step, as with the ``analog`` encoder), and the network keeps its biases (the paper's
networks have none). In this converter a spike carries its layer's threshold as
amplitude, so the largest current, measured in the ANN's units, is the threshold
that the paper's unit-amplitude formulation would give.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from snn_core import ActivationStatistics, NormalizationContext, NormalizationMethod, SnnError

# Images simulated together; the largest current is independent of the batching.
BATCH_SIZE = 128


def threshold_balancing_scales(
    stats: ActivationStatistics, argument: float | None, context: NormalizationContext
) -> dict[str, np.ndarray]:
    """Set each layer's threshold to the largest input current it receives, layer by layer."""
    if len(context.images) == 0:
        raise SnnError("threshold balancing needs at least one calibration image, got none")
    if context.timesteps < 1:
        raise SnnError(f"threshold balancing needs at least 1 time step, got {context.timesteps}")

    topology = context.topology
    names = list(context.neuron_layers)
    neuron_outputs = [topology.get_layer(name).output for name in names]

    # segments[k] maps the input image and the outputs of neuron layers 0..k-1 to
    # the input current of neuron layer k; Keras keeps only the layers between them.
    segments = [
        keras.Model([topology.inputs[0], *neuron_outputs[:index]], topology.get_layer(name).input)
        for index, name in enumerate(names)
    ]

    thresholds: dict[str, np.ndarray] = {}
    for index, name in enumerate(names):
        parameters = [
            dataclasses.replace(context.neuron_parameters, v_threshold=tf.constant(thresholds[earlier]))
            for earlier in names[:index]
        ]
        largest = _largest_current(segments[: index + 1], parameters, context)
        thresholds[name] = np.float32(largest)
    return thresholds


def _largest_current(segments: list[keras.Model], parameters: list, context: NormalizationContext) -> float:
    """Simulate the layers before the last segment's and return the largest current into it."""
    model = context.neuron_model
    timesteps = context.timesteps

    @tf.function(input_signature=[tf.TensorSpec([None, *context.images.shape[1:]], tf.float32)])
    def batch_maximum(images):
        batch = tf.shape(images)[0]
        states = tuple(
            model.initial_state(tf.concat([[batch], segment.output.shape[1:]], axis=0), params)
            for segment, params in zip(segments[:-1], parameters, strict=True)
        )

        def step(t, states, largest):
            outputs, new_states = [], []
            for index, segment in enumerate(segments[:-1]):
                current = segment([images, *outputs], training=False)
                spikes, state = model.step(current, states[index], parameters[index])
                new_states.append(state)
                outputs.append(spikes * parameters[index].v_threshold)
            current = segments[-1]([images, *outputs], training=False)
            return t + 1, tuple(new_states), tf.maximum(largest, tf.reduce_max(current))

        _, _, largest = tf.while_loop(
            lambda t, *_: t < timesteps, step, (tf.constant(0), states, tf.constant(float("-inf")))
        )
        return largest

    largest = float("-inf")
    for start in range(0, len(context.images), BATCH_SIZE):
        largest = max(largest, float(batch_maximum(context.images[start : start + BATCH_SIZE])))
    return largest


THRESHOLD_BALANCING = NormalizationMethod(
    name="threshold-balancing",
    compute_scales=threshold_balancing_scales,
    needs_simulation=True,
    summary="largest input current of each layer in a layer-by-layer simulation on training images",
    citation=(
        "Sengupta et al., Going deeper in spiking neural networks: VGG and residual architectures, "
        "Frontiers in Neuroscience 2019"
    ),
)
