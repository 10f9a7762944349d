"""The example plugin's contributions checked against snn-core's contracts."""

from __future__ import annotations

import numpy as np
from snn_plugin_example import CHANNEL_MAX, DIGITS_INVERTED, IF_FLOOR

from snn_core import ActivationStatistics, LayerStatistics
from snn_core.testing import check_neuron_model, check_normalization_method


def test_floor_neuron_meets_contract():
    check_neuron_model(IF_FLOOR)


def test_floor_stops_negative_potential():
    import tensorflow as tf

    params = IF_FLOOR.parameters
    state = IF_FLOOR.initial_state(tf.TensorShape([1]), params)
    for _ in range(5):
        _, state = IF_FLOOR.step(tf.constant([-3.0]), state, params)

    assert float(state.v[0]) == -1.0


def test_channel_max_scales_per_channel():
    layer = LayerStatistics(max=4.0, channel_max=np.array([4.0, 0.0, 2.0]))
    stats = ActivationStatistics({"relu": layer})

    scales = check_normalization_method(CHANNEL_MAX, stats)

    np.testing.assert_array_equal(scales["relu"], [4.0, 4.0, 2.0])


def test_inverted_digits_invert_pixels():
    image, _ = next(iter(DIGITS_INVERTED.load("test")))

    assert float(image.numpy().max()) == 255.0
    assert image.shape == (28, 28, 1)
