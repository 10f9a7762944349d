"""Every neuron model: spike trains computed by hand, and the shared contract."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from snn_core import IFParameters, LIFParameters, Plugins, SignedIFParameters
from snn_core.neurons import IF_SUBTRACT, IF_ZERO, LIF, SIGNED_IF, IFState
from snn_core.testing import check_neuron_model

# Golden trains are exact: every current and threshold below is a float32 value
# whose sums round the same way as the hand computation.
TOLERANCE = 0.0


def _trains(model, currents, params) -> np.ndarray:
    """Run ``model`` on a [T, ...] sequence of currents and return the [T, ...] spikes."""
    currents = np.asarray(currents, np.float32)
    state = model.initial_state(tf.TensorShape(currents.shape[1:]), params)
    trains = []
    for current in currents:
        spikes, state = model.step(tf.constant(current), state, params)
        trains.append(spikes.numpy())
    return np.stack(trains)


def test_reset_to_zero_discards_surplus():
    # v: 0.75, 1.5 -> spike, reset to 0 (the surplus 0.5 is lost), 0.75, 1.5 -> spike ...
    trains = _trains(IF_ZERO, np.full((6, 1), 0.75), IFParameters(v_threshold=1.0))

    np.testing.assert_allclose(trains[:, 0], [0, 1, 0, 1, 0, 1], atol=TOLERANCE)


def test_reset_by_subtraction_keeps_surplus():
    # v before reset: 0.75, 1.5 (spike), 1.25 (spike), 1.0 (spike), 0.75, 1.5 (spike) ...
    # so 6 spikes in 8 steps, the rate 0.75 exactly.
    trains = _trains(IF_SUBTRACT, np.full((8, 1), 0.75), IFParameters(v_threshold=1.0))

    np.testing.assert_allclose(trains[:, 0], [0, 1, 1, 1, 0, 1, 1, 1], atol=TOLERANCE)


def test_leaky_trace_by_hand():
    # leak 0.5, current 0.625: v 0.625, 0.9375, 1.09375 -> spike 0.09375, 0.671875, 0.9609375, 1.10546875 -> spike
    trains = _trains(LIF, np.full((6, 1), 0.625), LIFParameters(v_threshold=1.0, leak=0.5))

    np.testing.assert_allclose(trains[:, 0], [0, 0, 1, 0, 0, 1], atol=TOLERANCE)


def test_leak_silences_small_current():
    # With leak 0.5 the potential tends to 2 * 0.375 = 0.75, below the threshold.
    trains = _trains(LIF, np.full((50, 1), 0.375), LIFParameters(v_threshold=1.0, leak=0.5))

    assert trains.sum() == 0


def test_zero_leak_equals_reset_by_subtraction():
    currents = np.random.default_rng(0).uniform(-0.5, 1.5, (40, 7)).astype(np.float32)

    leaky = _trains(LIF, currents, LIFParameters(v_threshold=1.0, leak=0.0))
    plain = _trains(IF_SUBTRACT, currents, IFParameters(v_threshold=1.0))

    np.testing.assert_array_equal(leaky, plain)


def test_signed_takes_back_own_spikes():
    # v: 1 -> +1, 1 -> +1, -1 -> -1, -1 -> -1, -1 -> none (net count 0), -1 -> none
    currents = np.array([[1.0], [1.0], [-1.0], [-1.0], [-1.0], [-1.0]], np.float32)

    trains = _trains(SIGNED_IF, currents, SignedIFParameters(v_threshold=1.0))

    np.testing.assert_allclose(trains[:, 0], [1, 1, -1, -1, 0, 0], atol=TOLERANCE)


def test_unrectified_signed_goes_negative():
    currents = np.array([[1.0], [1.0], [-1.0], [-1.0], [-1.0], [-0.5], [-0.5]], np.float32)

    trains = _trains(SIGNED_IF, currents, SignedIFParameters(v_threshold=1.0, rectify=False))

    np.testing.assert_allclose(trains[:, 0], [1, 1, -1, -1, -1, 0, -1], atol=TOLERANCE)


def test_per_channel_thresholds_for_every_model():
    thresholds = np.array([1.0, 2.0], np.float32)
    expected = [[1, 0], [1, 1], [1, 0], [1, 1]]
    for model in (IF_SUBTRACT, IF_ZERO, LIF, SIGNED_IF):
        params = model.parameters.__class__(v_threshold=thresholds)
        if model is LIF:
            params = LIFParameters(v_threshold=thresholds, leak=0.0)

        trains = _trains(model, np.ones((4, 1, 2), np.float32), params)

        np.testing.assert_array_equal(trains[:, 0, :], expected, err_msg=model.name)


def _registered_models():
    plugins = Plugins()
    return [plugins.neuron_models.get(name) for name in plugins.neuron_models.names()]


@pytest.mark.parametrize("model", _registered_models(), ids=lambda model: model.name)
def test_registered_model_meets_contract(model):
    check_neuron_model(model)


def test_unrectified_signed_meets_contract():
    check_neuron_model(
        SIGNED_IF, SignedIFParameters(rectify=False), expected_rate=lambda ratio: np.clip(ratio, -1.0, 1.0)
    )


def test_contract_rejects_stateful_step():
    calls = []

    def leaky_memory_step(current, state, params):
        calls.append(1)
        spikes, state = IF_SUBTRACT.step(current + float(len(calls)), state, params)
        return spikes, state

    impure = IF_SUBTRACT.__class__(
        name="impure", step=leaky_memory_step, initial_state=IF_SUBTRACT.initial_state, parameters=IFParameters()
    )

    with pytest.raises(AssertionError, match="impure"):
        check_neuron_model(impure)


def test_contract_rejects_wrong_rate():
    def double_step(current, state, params):
        return IF_SUBTRACT.step(2.0 * current, state, params)

    wrong = IF_SUBTRACT.__class__(
        name="double", step=double_step, initial_state=IF_SUBTRACT.initial_state, parameters=IFParameters()
    )

    with pytest.raises(AssertionError, match="rate after"):
        check_neuron_model(wrong)


def test_pytest_fixture_sets_plugins(snn_plugins):
    from snn_core import get_plugins

    assert get_plugins() is snn_plugins
    assert "if_zero" in snn_plugins.neuron_models


def test_contract_rejects_wrong_fused_update():
    def unscaled_update(params):
        # Passes on the spikes without multiplying them by the threshold.
        return lambda current, state: IF_SUBTRACT.step(current, state, params)

    wrong = dataclasses.replace(IF_SUBTRACT, name="unscaled", fused_update=unscaled_update)

    with pytest.raises(AssertionError, match="fused_update outputs differ"):
        check_neuron_model(wrong)


def _above_threshold_update(params):
    """Return a wrong fused update, which fires only above the threshold, not at it."""

    def update(current, state):
        v = state.v + current
        spikes = tf.cast(v > params.v_threshold, v.dtype)
        return spikes * params.v_threshold, IFState(v=v - spikes * params.v_threshold)

    return update


def _flattening_update(params):
    """Return a wrong fused update, which flattens its outputs to [batch, features]."""

    def update(current, state):
        spikes, state = IF_SUBTRACT.step(current, state, params)
        return tf.reshape(spikes * params.v_threshold, [tf.shape(current)[0], -1]), state

    return update


def _channels_only_update(params):
    """Return a wrong fused update, which assumes one threshold per channel."""
    channels = len(params.v_threshold)

    def update(current, state):
        spikes, state = IF_SUBTRACT.step(current, state, params)
        return spikes * params.v_threshold[:channels], state

    return update


@pytest.mark.parametrize(
    ("fused_update", "message"),
    [
        (_above_threshold_update, "outputs differ from step's spikes times the per-channel threshold at step"),
        (_flattening_update, r"returned outputs of shape \(2, 36\)"),
        (_channels_only_update, "fused_update failed with a scalar threshold"),
    ],
    ids=["fires-above-threshold", "flattens-outputs", "assumes-channels"],
)
def test_contract_rejects_subtly_wrong_fused_update(fused_update, message):
    wrong = dataclasses.replace(IF_SUBTRACT, name="subtle", fused_update=fused_update)

    with pytest.raises(AssertionError, match=message):
        check_neuron_model(wrong)
