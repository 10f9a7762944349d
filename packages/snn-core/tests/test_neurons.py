"""Integrate-and-fire neurons: hand-computed spike trains and rates."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from snn_core import IFParameters
from snn_core.neurons import IF_SUBTRACT


def _run(current: np.ndarray, steps: int, params: IFParameters) -> np.ndarray:
    current = tf.constant(current, tf.float32)
    state = IF_SUBTRACT.initial_state(current.shape, params)
    trains = []
    for _ in range(steps):
        spikes, state = IF_SUBTRACT.step(current, state, params)
        trains.append(spikes.numpy())
    return np.stack(trains)


def test_if_spike_train_by_hand():
    # v: 0.4, 0.8, 1.2 -> spike, 0.2 + 0.4 = 0.6, 1.0 -> spike, 0.0 + 0.4 ...
    trains = _run(np.array([0.4], np.float32), 6, IFParameters(v_threshold=1.0))

    np.testing.assert_array_equal(trains[:, 0], [0, 0, 1, 0, 1, 0])


def test_if_rate_matches_clipped_relu():
    threshold = 2.0
    currents = np.array([-1.0, 0.0, 0.3, 1.0, 1.5, 2.0, 3.0], np.float32)
    steps = 1000

    rates = _run(currents, steps, IFParameters(v_threshold=threshold)).mean(axis=0) * threshold

    expected = np.clip(currents, 0.0, threshold)
    # Reset by subtraction loses at most one threshold over T steps.
    np.testing.assert_allclose(rates, expected, atol=threshold / steps + 1e-6)


def test_if_per_channel_thresholds_broadcast():
    params = IFParameters(v_threshold=tf.constant([1.0, 2.0]))
    trains = _run(np.full((1, 2), 1.0, np.float32), 4, params)

    np.testing.assert_array_equal(trains[:, 0, 0], [1, 1, 1, 1])
    np.testing.assert_array_equal(trains[:, 0, 1], [0, 1, 0, 1])


def test_if_initial_potential_is_fraction_of_threshold():
    trains = _run(np.array([0.5], np.float32), 2, IFParameters(v_threshold=1.0, v_initial=0.5))

    np.testing.assert_array_equal(trains[:, 0], [1, 0])
