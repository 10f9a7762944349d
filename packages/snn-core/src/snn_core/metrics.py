"""Operation counts and energy estimates of a spiking network and its ANN.

Counting rules, applied by the simulator inside its time loop:

- A *weighted layer* is one with a kernel (``Dense``, ``Conv1D``, ``Conv2D``,
  ``DepthwiseConv2D``, ``SeparableConv2D``). Its *fan-out map* gives, for every
  input element, how many multiplications that element takes part in: the kernel
  size times the output channels of a convolution (less at a ``same``-padded
  border), the number of units of a dense layer. Summed over all inputs it is the
  layer's multiply-accumulate count (MACs) in the ANN.
- A *synaptic operation* (SynOp) is one accumulate: each nonzero value arriving at
  a weighted layer's input at one time step costs its fan-out. A neuron layer that
  feeds a weighted layer directly (or through ``Flatten``, padding or max pooling)
  is charged exactly spikes times fan-out. Average pooling between them merges the
  spikes of a window into one nonzero value, which counts once.
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
