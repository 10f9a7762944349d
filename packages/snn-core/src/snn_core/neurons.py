r"""Neuron models: pure step functions of input current and state.

Every model here integrates the input current :math:`I_t` into a membrane
potential :math:`v` and emits a spike :math:`s_t` when :math:`v` reaches the
threshold :math:`\vartheta` (:math:`H` is the Heaviside step, :math:`H(0) = 1`):

.. math::

    \text{if (reset by subtraction):}\quad & v_t = v_{t-1} + I_t,\;
        s_t = H(v_t - \vartheta),\; v_t \leftarrow v_t - s_t \vartheta \\
    \text{if\_zero (reset to zero):}\quad & v_t = v_{t-1} + I_t,\;
        s_t = H(v_t - \vartheta),\; v_t \leftarrow (1 - s_t)\, v_t \\
    \text{lif (leaky):}\quad & v_t = (1 - \lambda)\, v_{t-1} + I_t,\;
        s_t = H(v_t - \vartheta),\; v_t \leftarrow v_t - s_t \vartheta \\
    \text{if\_signed:}\quad & v_t = v_{t-1} + I_t,\;
        s_t = H(v_t - \vartheta) - H(-v_t - \vartheta)\,[\,n_{t-1} > 0 \lor \neg r\,],\;
        v_t \leftarrow v_t - s_t \vartheta,\; n_t = n_{t-1} + s_t

Reset by subtraction (Rueckauer et al., "Conversion of continuous-valued deep
networks to efficient event-driven networks", Frontiers in Neuroscience 2017)
keeps the surplus above the threshold, so with a constant current :math:`I` the
firing rate after :math:`T` steps is :math:`\min(\max(I, 0), \vartheta) / \vartheta`
up to an error of at most :math:`1 / T`. Reset to zero (Diehl et al., "Fast-classifying,
high-accuracy spiking deep networks through weight and threshold balancing", IJCNN
2015) discards that surplus: the rate is :math:`1 / \lceil \vartheta / I \rceil`,
exact only when :math:`\vartheta / I` is an integer. The leak :math:`\lambda` is the
fraction of the membrane potential lost per time step; it lowers every rate a
little and silences currents below :math:`\lambda \vartheta`.

The signed model sends negative spikes as well, when :math:`v` falls to
:math:`-\vartheta`. With ``rectify=True`` (its default) a neuron may only take back
spikes it has sent (its net count :math:`n` stays non-negative), so its rate tends
to the clipped ReLU like ``if`` but corrects early over-firing when the input turns
negative later. With ``rectify=False`` its rate tends to the input clipped to
:math:`[-1, 1]`, for layers whose ANN output is not rectified.

Every model is a :class:`NeuronModel`: an immutable parameter container, a state
(a ``NamedTuple`` of tensors), and ``step(current, state, params) -> (spikes,
state)``. Spikes are 0/1 (or -1/0/1 for signed models) in the current's dtype; the
simulator multiplies them by ``v_threshold`` before passing them on. ``v_threshold``
is a scalar or one value per channel, broadcast over the last axis.

A model may also offer a ``fused_update``, which does the step and that
multiply in one kernel. The integrate-and-fire models here use :mod:`snn_core.kernels`, which
reads and writes each neuron once per step where TensorFlow's operations take
five passes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import numpy as np
import tensorflow as tf

from snn_core import kernels


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
        signed: whether ``step`` may emit -1 spikes.
        fused_update: optional ``fused_update(params)``, called once per layer
            outside the graph. It returns ``update(current, state) -> (outputs,
            new_state)``, whose outputs are the spikes times ``v_threshold``,
            or ``None`` where it cannot run on this machine. Its results must
            equal ``step`` followed by that multiply, bit for bit, because the
            simulator uses it in place of both on CPUs (see
            :class:`~snn_core.simulation.Simulator`).
    """

    name: str
    step: Callable[[tf.Tensor, Any, Any], tuple[tf.Tensor, Any]]
    initial_state: Callable[[tf.TensorShape, Any], Any]
    parameters: Any
    summary: str = ""
    citation: str = ""
    signed: bool = False
    fused_update: Callable[[Any], Callable[[tf.Tensor, Any], tuple[tf.Tensor, Any]] | None] | None = None


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


@dataclass(frozen=True)
class LIFParameters:
    """Parameters of leaky integrate-and-fire neurons.

    Attributes:
        v_threshold: firing threshold, as in :class:`IFParameters`.
        v_initial: initial membrane potential, as a fraction of ``v_threshold``.
        leak: fraction of the membrane potential lost per time step, in [0, 1)
            (the inverse of the membrane time constant in steps). 0 gives ``if``.
    """

    v_threshold: Any = 1.0
    v_initial: float = 0.0
    leak: float = 0.01


@dataclass(frozen=True)
class SignedIFParameters:
    """Parameters of signed integrate-and-fire neurons.

    Attributes:
        v_threshold: threshold of both signs, as in :class:`IFParameters`.
        v_initial: initial membrane potential, as a fraction of ``v_threshold``.
        rectify: keep each neuron's net spike count non-negative, so that the
            neuron represents a ReLU; ``False`` represents the identity.
    """

    v_threshold: Any = 1.0
    v_initial: float = 0.0
    rectify: bool = True


class IFState(NamedTuple):
    """State of integrate-and-fire neurons: the membrane potential ``v``."""

    v: tf.Tensor


class SignedIFState(NamedTuple):
    """State of signed neurons: membrane potential ``v`` and net spike count ``count``."""

    v: tf.Tensor
    count: tf.Tensor


def _initial_potential(shape: tf.TensorShape, params: Any) -> tf.Tensor:
    return tf.zeros(shape, tf.float32) + tf.cast(params.v_initial, tf.float32) * params.v_threshold


def if_initial_state(shape: tf.TensorShape, params: IFParameters) -> IFState:
    """Return membrane potentials at ``params.v_initial * v_threshold``."""
    return IFState(v=_initial_potential(shape, params))


def signed_initial_state(shape: tf.TensorShape, params: SignedIFParameters) -> SignedIFState:
    """Return potentials at ``params.v_initial * v_threshold`` and zero spike counts."""
    v = _initial_potential(shape, params)
    return SignedIFState(v=v, count=tf.zeros_like(v))


def if_subtract_step(current: tf.Tensor, state: IFState, params: IFParameters) -> tuple[tf.Tensor, IFState]:
    """Advance integrate-and-fire neurons with reset by subtraction by one step."""
    v = state.v + current

    spikes = tf.cast(v >= params.v_threshold, v.dtype)

    v = v - spikes * params.v_threshold
    return spikes, IFState(v=v)


def if_zero_step(current: tf.Tensor, state: IFState, params: IFParameters) -> tuple[tf.Tensor, IFState]:
    """Advance integrate-and-fire neurons with reset to zero by one step."""
    v = state.v + current

    spikes = tf.cast(v >= params.v_threshold, v.dtype)

    v = v * (1.0 - spikes)
    return spikes, IFState(v=v)


def lif_step(current: tf.Tensor, state: IFState, params: LIFParameters) -> tuple[tf.Tensor, IFState]:
    """Advance leaky integrate-and-fire neurons (reset by subtraction) by one step."""
    v = (1.0 - params.leak) * state.v + current

    spikes = tf.cast(v >= params.v_threshold, v.dtype)

    v = v - spikes * params.v_threshold
    return spikes, IFState(v=v)


def signed_if_step(
    current: tf.Tensor, state: SignedIFState, params: SignedIFParameters
) -> tuple[tf.Tensor, SignedIFState]:
    """Advance signed integrate-and-fire neurons (reset by subtraction) by one step."""
    v = state.v + current

    positive = tf.cast(v >= params.v_threshold, v.dtype)
    negative = tf.cast(v <= -params.v_threshold, v.dtype)
    if params.rectify:
        negative = negative * tf.cast(state.count > 0, v.dtype)
    spikes = positive - negative

    v = v - spikes * params.v_threshold
    return spikes, SignedIFState(v=v, count=state.count + spikes)


def compiled_update(reset: str) -> Callable[[Any], Callable | None]:
    """Return a ``fused_update`` for integrate-and-fire neurons with ``reset`` (``"subtract"`` or ``"zero"``).

    The update runs :func:`snn_core.kernels.integrate_and_fire`. A ``leak``
    parameter, where there is one, keeps ``1 - leak`` of the potential per step.
    """

    def fused_update(params: Any) -> Callable | None:
        if kernels.load_library() is None:
            return None
        threshold = np.reshape(np.asarray(params.v_threshold, np.float32), [-1])
        retain = 1.0 - getattr(params, "leak", 0.0)

        def update(current: tf.Tensor, state: IFState) -> tuple[tf.Tensor, IFState]:
            outputs, v = kernels.integrate_and_fire(current, state.v, threshold, retain=retain, reset=reset)
            return outputs, IFState(v=v)

        return update

    return fused_update


IF_SUBTRACT = NeuronModel(
    name="if",
    step=if_subtract_step,
    initial_state=if_initial_state,
    parameters=IFParameters(),
    summary="integrate-and-fire, reset by subtraction",
    citation="Rueckauer et al., Frontiers in Neuroscience 2017",
    fused_update=compiled_update("subtract"),
)

IF_ZERO = NeuronModel(
    name="if_zero",
    step=if_zero_step,
    initial_state=if_initial_state,
    parameters=IFParameters(),
    summary="integrate-and-fire, reset to zero",
    citation="Diehl et al., IJCNN 2015",
    fused_update=compiled_update("zero"),
)

LIF = NeuronModel(
    name="lif",
    step=lif_step,
    initial_state=if_initial_state,
    parameters=LIFParameters(),
    summary="leaky integrate-and-fire, 1% leak per step, reset by subtraction",
    fused_update=compiled_update("subtract"),
)

SIGNED_IF = NeuronModel(
    name="if_signed",
    step=signed_if_step,
    initial_state=signed_initial_state,
    parameters=SignedIFParameters(),
    summary="integrate-and-fire with +1/-1 spikes; rectify=False for layers without ReLU",
    signed=True,
)

BUILTIN_NEURON_MODELS = (IF_SUBTRACT, IF_ZERO, LIF, SIGNED_IF)
