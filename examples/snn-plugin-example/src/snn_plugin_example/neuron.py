r"""Integrate-and-fire neurons with a floor on the membrane potential.

.. math::

    v_t = \max(v_{t-1} + I_t,\; -f \vartheta), \qquad s_t = H(v_t - \vartheta),
    \qquad v_t \leftarrow v_t - s_t \vartheta

A neuron that receives a long negative input stops at :math:`-f \vartheta` instead
of sinking without bound, so it fires sooner when its input turns positive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import tensorflow as tf

from snn_core import IFState, NeuronModel


@dataclass(frozen=True)
class FloorParameters:
    """Parameters of :data:`IF_FLOOR`.

    Attributes:
        v_threshold: firing threshold; set by the converter from normalization.
        v_initial: initial membrane potential, as a fraction of ``v_threshold``.
        v_floor: lowest membrane potential, in thresholds below zero.
    """

    v_threshold: Any = 1.0
    v_initial: float = 0.0
    v_floor: float = 1.0


def initial_state(shape: tf.TensorShape, params: FloorParameters) -> IFState:
    """Return membrane potentials at ``params.v_initial * v_threshold``."""
    return IFState(v=tf.zeros(shape, tf.float32) + params.v_initial * params.v_threshold)


def step(current: tf.Tensor, state: IFState, params: FloorParameters) -> tuple[tf.Tensor, IFState]:
    """Advance the neurons by one time step."""
    v = tf.maximum(state.v + current, -params.v_floor * params.v_threshold)

    spikes = tf.cast(v >= params.v_threshold, v.dtype)

    v = v - spikes * params.v_threshold
    return spikes, IFState(v=v)


IF_FLOOR = NeuronModel(
    name="example_if_floor",
    step=step,
    initial_state=initial_state,
    parameters=FloorParameters(),
    summary="integrate-and-fire with the membrane potential floored at -1 threshold (example plugin)",
)
