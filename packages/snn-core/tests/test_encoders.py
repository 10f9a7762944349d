"""Input encoders: hand-computed spike trains, reproducibility and the shared contract."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from snn_core import Plugins
from snn_core.encoders import ANALOG, PIXEL_MAX, POISSON, REGULAR, InputEncoder, image_uniform, spike_probability
from snn_core.testing import check_input_encoder


def _trains(encoder, pixels, steps, seed=0, first_index=0) -> np.ndarray:
    pixels = tf.constant(np.asarray(pixels, np.float32))
    position = (tf.constant(first_index),) if encoder.indexed else ()
    return np.stack([encoder.encode(pixels, tf.constant(t), seed, *position).numpy() for t in range(steps)])


def test_regular_spike_trains_by_hand():
    # Rates 0, 0.2, 0.5, 1 and two pixels outside 0..255 that clip to 1 and 0.
    pixels = [0.0, 51.0, 127.5, 255.0, 300.0, -10.0]

    trains = _trains(REGULAR, pixels, 10) / PIXEL_MAX

    np.testing.assert_array_equal(trains[:, 0], [0] * 10)
    np.testing.assert_array_equal(trains[:, 1], [0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(trains[:, 2], [0, 1, 0, 1, 0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(trains[:, 3], [1] * 10)
    np.testing.assert_array_equal(trains[:, 4], [1] * 10)
    np.testing.assert_array_equal(trains[:, 5], [0] * 10)


def test_regular_count_is_floor_of_rate():
    pixels = np.arange(256, dtype=np.float32)

    counts = _trains(REGULAR, pixels, 100).sum(axis=0) / PIXEL_MAX

    # floor(100 * x / 255), allowing float32 rounding to move an exact multiple by one.
    np.testing.assert_allclose(counts, np.floor(100 * pixels / 255.0), atol=1.0)
    assert np.mean(counts == np.floor(100 * pixels / 255.0)) > 0.95


def test_poisson_reproduces_with_same_seed():
    pixels = np.linspace(0, 255, 50, dtype=np.float32)

    first = _trains(POISSON, pixels, 20, seed=3)
    again = _trains(POISSON, pixels, 20, seed=3)
    other = _trains(POISSON, pixels, 20, seed=4)

    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert set(np.unique(first)) <= {0.0, PIXEL_MAX}


def test_poisson_draws_follow_position():
    pixels = np.full((6, 2, 2, 1), 127.5, np.float32)

    together = _trains(POISSON, pixels, 30, first_index=10)
    apart = np.concatenate(
        [_trains(POISSON, pixels[:1], 30, first_index=10), _trains(POISSON, pixels[1:], 30, first_index=11)], axis=1
    )
    shifted = _trains(POISSON, pixels, 30, first_index=11)

    np.testing.assert_array_equal(together, apart)
    # Equal images at different positions get different spike trains.
    assert not np.array_equal(together[:, 0], together[:, 1])
    np.testing.assert_array_equal(together[:, 1:], shifted[:, :-1])


def test_poisson_rate_matches_pixel():
    pixels = np.array([0.0, 25.5, 76.5, 178.5, 255.0], np.float32)
    steps = 4000

    rates = _trains(POISSON, pixels, steps).mean(axis=0) / PIXEL_MAX

    expected = pixels / 255.0
    # Four standard deviations of a binomial rate over 4000 steps is at most 0.032.
    np.testing.assert_allclose(rates, expected, atol=4 * np.sqrt(0.25 / steps))


def test_analog_is_the_image():
    pixels = np.array([[3.0, 200.0]], np.float32)

    np.testing.assert_array_equal(_trains(ANALOG, pixels, 3), np.stack([pixels] * 3))


def _registered_encoders():
    plugins = Plugins()
    return [plugins.input_encoders.get(name) for name in plugins.input_encoders.names()]


@pytest.mark.parametrize("encoder", _registered_encoders(), ids=lambda encoder: encoder.name)
def test_registered_encoder_meets_contract(encoder):
    check_input_encoder(encoder)


def _batch_dependent(inputs, step, seed, first_index):
    # Declared indexed, but the spike probability follows the batch's mean brightness.
    scale = tf.reduce_mean(inputs) / 127.5
    uniform = image_uniform(tf.shape(inputs), seed, step, first_index)
    return tf.cast(uniform < spike_probability(inputs) * scale, inputs.dtype) * PIXEL_MAX


def test_contract_catches_batch_dependent_encoder():
    encoder = InputEncoder(name="batch_mean", encode=_batch_dependent, spikes=True, indexed=True)

    with pytest.raises(AssertionError, match="depend on the images beside it"):
        check_input_encoder(encoder)
