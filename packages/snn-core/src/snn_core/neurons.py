r"""Neuron models: pure step functions of input current and state.

Integrate-and-fire with reset by subtraction (Rueckauer et al., "Conversion of
continuous-valued deep networks to efficient event-driven networks", Frontiers in
Neuroscience 2017) integrates the input current :math:`I_t` into the membrane
potential and fires when it reaches the threshold :math:`\vartheta`:

.. math::

    v_t = v_{t-1} + I_t, \qquad s_t = H(v_t - \vartheta), \qquad v_t \leftarrow v_t - s_t \vartheta

With a constant current :math:`I`, the firing rate after :math:`T` steps is
:math:`\min(\max(I, 0), \vartheta) / \vartheta` up to an error of at most
:math:`1 / T`, which is why a converted ReLU network approaches its ANN as
:math:`T` grows.

Every model is a :class:`NeuronModel`: an immutable parameter container, a state
(a ``NamedTuple`` of tensors), and ``step(current, state, params) -> (spikes,
state)``. Spikes are 0/1 (or -1/0/1 for signed models) in the current's dtype; the
simulator multiplies them by ``v_threshold`` before passing them on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import tensorflow as tf


class NeuronParameters(Protocol):
    """What the simulator needs of any parameter container."""

    v_threshold: Any
    v_initial: float


@dataclass(frozen=True)
class NeuronModel:
    """A neuron model contributed through the ``snn_neuron_models`` hook.

    Attributes:
        name: registry key, as typed after ``--neuron``.
        step: ``step(current, state, params) -> (spikes, new_state)``, traced by
            TensorFlow once per simulation; it must use TensorFlow operations only.
        initial_state: ``initial_state(shape, params) -> state`` for a batch of
            neurons of ``shape``.
        parameters: default parameters, a frozen dataclass with at least
            ``v_threshold`` and ``v_initial``. The converter replaces ``v_threshold``
            by the layer's (or channels') normalization scale.
        summary: one line for ``snn plugins`` and help texts.
        citation: where the model comes from.
    """

    name: str
    step: Callable[[tf.Tensor, Any, Any], tuple[tf.Tensor, Any]]
    initial_state: Callable[[tf.TensorShape, Any], Any]
    parameters: Any
    summary: str = ""
    citation: str = ""


@dataclass(frozen=True)
class IFParameters:
    """Parameters of integrate-and-fire neurons.

    Attributes:
        v_threshold: firing threshold, in the units of the input current; a scalar
            or one value per channel (broadcast over the last axis).
        v_initial: membrane potential at the first step, as a fraction of
            ``v_threshold``. 0.5 halves the worst-case quantization error at small T.
    """

    v_threshold: Any = 1.0
    v_initial: float = 0.0


class IFState(NamedTuple):
    """State of integrate-and-fire neurons: the membrane potential ``v``."""

    v: tf.Tensor


def if_initial_state(shape: tf.TensorShape, params: IFParameters) -> IFState:
    """Return membrane potentials at ``params.v_initial * v_threshold``."""
    v = tf.zeros(shape, tf.float32) + tf.cast(params.v_initial, tf.float32) * params.v_threshold
    return IFState(v=v)


def if_subtract_step(current: tf.Tensor, state: IFState, params: IFParameters) -> tuple[tf.Tensor, IFState]:
    """Advance integrate-and-fire neurons with reset by subtraction by one step."""
    v = state.v + current

    spikes = tf.cast(v >= params.v_threshold, v.dtype)

    v = v - spikes * params.v_threshold
    return spikes, IFState(v=v)


IF_SUBTRACT = NeuronModel(
    name="if",
    step=if_subtract_step,
    initial_state=if_initial_state,
    parameters=IFParameters(),
    summary="integrate-and-fire, reset by subtraction",
    citation="Rueckauer et al., Frontiers in Neuroscience 2017",
)
