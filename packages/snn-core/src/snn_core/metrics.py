"""Operation counts and energy estimates of a spiking network and its ANN.

Counting rules, applied by the simulator inside its time loop:

- A *weighted layer* is one with a kernel (``Dense``, ``Conv1D``, ``Conv2D``,
  ``DepthwiseConv2D``, ``SeparableConv2D``). Its *fan-out map* gives, for every
  input element, how many multiplications that element takes part in: the kernel
  size times the output channels of a convolution (less at a ``same``-padded
  border), the number of units of a dense layer. Summed over all inputs it is the
  layer's multiply-accumulate count (MACs) in the ANN.
- A *synaptic operation* (SynOp) is one accumulate: each spike that reaches a
  weighted layer costs the fan-out of the input element it arrives at. Layers that
  only move or select values between a neuron layer and a weighted layer
  (``Flatten``, ``Reshape``, padding, cropping, up-sampling, concatenation, max
  pooling) pass spikes on unchanged. Average pooling is counted as if merged into
  the next kernel, the way an event-driven implementation would run it. So each
  spike in a window costs the fan-out of the window's pooled element, once per
  window it falls in.
  Where no such spike count exists (signed spikes, or an addition of differently
  scaled spikes), each nonzero input value counts once instead.
- Weighted layers that see only a non-spiking input (the analog encoder) do their
  full ANN MACs at every time step, as a neuromorphic chip would inject the
  current every step, even though the simulator computes them once.
- Neuron updates, biases, pooling and additions are not counted, on either side.

Energy is an estimate: operations times a cost per operation. The defaults are
Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014,
for 45 nm CMOS: 32-bit float add 0.9 pJ and multiply 3.7 pJ, so one MAC costs
4.6 pJ and one accumulate (AC) 0.9 pJ. Memory access, which often dominates on
real hardware, is left out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np
import tensorflow as tf

WEIGHTED_LAYER_TYPES = ("Dense", "Conv1D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D")

MOVING_LAYER_TYPES = frozenset({
    "Concatenate", "Cropping1D", "Cropping2D", "Cropping3D", "Flatten", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "GlobalMaxPooling3D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "Permute", "Reshape", "UpSampling1D",
    "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
})
"""Keras layers whose every output element is a copy of one input element, or zero."""

AVERAGING_LAYER_TYPES = frozenset({
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
})
"""Keras layers whose every output element is the mean of a window of input elements."""


@dataclass(frozen=True)
class EnergyModel:
    """Energy per operation.

    Attributes:
        mac_pj: energy of one multiply-accumulate, in picojoules.
        ac_pj: energy of one accumulate (a synaptic operation), in picojoules.
        source: where the values come from.
    """

    mac_pj: float = 4.6
    ac_pj: float = 0.9
    source: str = (
        "Horowitz, Computing's energy problem (and what we can do about it), ISSCC 2014: 45 nm, "
        "32-bit float add 0.9 pJ, multiply 3.7 pJ"
    )


def is_weighted(layer: keras.layers.Layer) -> bool:
    """Return whether ``layer`` multiplies its input by a kernel (see :data:`WEIGHTED_LAYER_TYPES`)."""
    return type(layer).__name__ in WEIGHTED_LAYER_TYPES


def fan_out_map(layer: keras.layers.Layer, input_shape: tuple[int, ...]) -> np.ndarray:
    """Return, per input element, the number of multiplications it takes part in.

    Args:
        layer: a weighted layer (see :func:`is_weighted`).
        input_shape: the layer's input shape without the batch axis.

    Returns:
        float32 array of ``input_shape``.
    """
    config = layer.get_config()
    config.update(activation="linear", name=f"{layer.name}_fan_out")
    if "use_bias" in config:
        config["use_bias"] = False
    ones = type(layer).from_config(config)
    ones.build((1, *input_shape))
    ones.set_weights([np.ones(weight.shape, np.float32) for weight in ones.get_weights()])

    # The layer with all-ones kernels is linear, so the gradient of its summed
    # output with respect to each input is the number of products that input enters.
    inputs = tf.zeros((1, *input_shape), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        total = tf.reduce_sum(ones(inputs))
    # NOTE: for SeparableConv2D this counts depthwise-then-pointwise paths, which
    # overstates the layer's MACs (the pointwise products are shared by the paths).
    return tape.gradient(total, inputs).numpy()[0]


def spike_factor_maps(nodes, thresholds: dict[str, np.ndarray], shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Return, per layer whose values are spikes seen through moves and averages, the spikes per unit of value.

    For such a layer, the value of an element at one time step times its factor is
    the number of spikes that reached the element at that step. The factor is one
    over the threshold for a layer of unsigned neurons, multiplied by the window
    size at every average pooling. Layers that are missing have no such factor: signed spikes,
    additions of spikes of different thresholds, or windows mixing thresholds.

    Args:
        nodes: the network's layer nodes in topological order (see
            :func:`snn_core.graph.layer_graph`), without the input layer.
        thresholds: per neuron layer, its positive threshold (scalar or one per
            channel); pass an empty mapping for signed neurons.
        shapes: per layer, its output shape without the batch axis.

    Returns:
        float32 arrays of each layer's output shape.
    """
    from snn_core.graph import call_node

    factors: dict[str, np.ndarray] = {}
    for node in nodes:
        type_name = type(node.layer).__name__
        if node.name in thresholds:
            factors[node.name] = np.broadcast_to(1.0 / np.abs(np.asarray(thresholds[node.name], np.float32)), shapes[node.name])
            continue
        if not node.inputs or not all(name in factors for name in node.inputs):
            continue

        inputs = [factors[name] for name in node.inputs]
        if node.layer.get_config().get("data_format", "channels_last") != "channels_last":
            continue
        if type_name == "Add" and all(np.array_equal(inputs[0], other) for other in inputs[1:]):
            factors[node.name] = inputs[0]
        elif type_name in MOVING_LAYER_TYPES | AVERAGING_LAYER_TYPES:
            # Where the factor is the same across each window, a max pool's choice
            # and an average's weights do not change it, so the layer maps factors as values.
            if type_name not in {"Concatenate", "Flatten", "Reshape", "Permute"} and not _constant_per_channel(inputs[0]):
                continue
            moved = call_node(node.layer, node, [tf.constant(factor[None], tf.float32) for factor in inputs])
            factor = moved.numpy()[0]
            if type_name in AVERAGING_LAYER_TYPES:
                factor = factor * _window_sizes(node.layer, inputs[0].shape)
            factors[node.name] = factor.astype(np.float32)
    return factors


def _constant_per_channel(values: np.ndarray) -> bool:
    rows = values.reshape(-1, values.shape[-1])
    return bool(np.all(rows == rows[0]))


def _window_sizes(layer: keras.layers.Layer, input_shape: tuple[int, ...]) -> np.ndarray:
    """Return the number of input elements averaged into each output element of a pooling layer."""
    config = layer.get_config()
    spatial = input_shape[:-1]
    if type(layer).__name__.startswith("Global"):
        return np.float32(np.prod(spatial))

    # A convolution of ones with a ones kernel counts the window's inputs, padding
    # excluded, as Keras's average pooling divides by that count.
    ones = tf.ones((1, *spatial, 1), tf.float32)
    kernel = tf.ones((*config["pool_size"], 1, 1), tf.float32)
    counts = tf.nn.convolution(ones, kernel, strides=config["strides"], padding=config["padding"].upper())
    return counts.numpy()[0]


def ann_macs(topology: keras.Model) -> dict[str, int]:
    """Return the multiply-accumulates per image of every weighted layer of a model."""
    from snn_core.graph import layer_graph

    counts = {}
    for node in layer_graph(topology):
        if is_weighted(node.layer):
            input_shape = tuple(node.layer.input.shape[1:])
            counts[node.name] = int(round(float(fan_out_map(node.layer, input_shape).sum())))
    return counts


def energy_estimate(
    synaptic_operations: float,
    multiply_accumulates: float,
    ann_multiply_accumulates: float,
    energy: EnergyModel | None = None,
) -> dict[str, object]:
    """Estimate the energy per image of the SNN and the ANN from their operation counts.

    Args:
        synaptic_operations: accumulates per image in the SNN.
        multiply_accumulates: MACs per image in the SNN (weighted layers that see a
            non-spiking input).
        ann_multiply_accumulates: MACs per image in the ANN.
        energy: cost per operation; the 45 nm defaults of :class:`EnergyModel`.

    Returns:
        A JSON-ready dictionary: the per-operation energies and their source, SNN and
        ANN energy per image in joules, and their ratio.
    """
    energy = energy or EnergyModel()
    snn_joules = (synaptic_operations * energy.ac_pj + multiply_accumulates * energy.mac_pj) * 1e-12
    ann_joules = ann_multiply_accumulates * energy.mac_pj * 1e-12
    return {
        **asdict(energy),
        "snn_joules_per_image": snn_joules,
        "ann_joules_per_image": ann_joules,
        "snn_to_ann_ratio": snn_joules / ann_joules if ann_joules else None,
    }
