"""Rate-gated spiking max pooling: a hand-computed window and a tiny network."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from snn_core import NormalizationMethod, Plugins, Simulator, Stateful, collect_activation_stats, convert, hookimpl
from snn_core.max_pooling import rate_gated_max_pooling


def _pool_trains(layer, trains: np.ndarray) -> np.ndarray:
    """Feed [T, batch, H, W, C] spike trains through the spiking max pool and return its [T, ...] output."""
    stage = rate_gated_max_pooling(layer)
    totals = stage.initial_state([tf.constant(trains.shape[1:])])
    outputs = []
    for values in trains:
        output, totals = stage.step([tf.constant(values)], totals)
        outputs.append(output.numpy())
    return np.stack(outputs)


def test_window_passes_most_active_input():
    # One 2x2 window; inputs in row-major order A, B, C, D.
    a = [1, 0, 0, 0, 0, 0]
    b = [0, 1, 1, 0, 1, 1]
    c = [0, 0, 0, 0, 0, 0]
    d = [0, 1, 0, 1, 0, 0]
    trains = np.array([a, b, c, d], np.float32).T.reshape(6, 1, 2, 2, 1)

    output = _pool_trains(keras.layers.MaxPooling2D(2), trains)[:, 0, 0, 0, 0]

    # Totals after each step (A, B, D) and the winner (the first of equal totals):
    # (1,0,0) A -> 1; (1,1,1) A -> 0; (1,2,1) B -> 1; (1,2,2) B -> 0; (1,3,2) B -> 1; (1,4,2) B -> 1.
    np.testing.assert_array_equal(output, [1, 0, 1, 0, 1, 1])
    # Passing every spike would have given 7 spikes; the maximum count is B's 4.
    assert output.sum() == 4


def test_regular_trains_pool_to_max_count():
    rng = np.random.default_rng(0)
    rates = rng.uniform(0, 1, (1, 4, 6, 3)).astype(np.float32)
    steps = 200
    t = np.arange(steps, dtype=np.float32).reshape(-1, 1, 1, 1, 1)
    trains = np.floor((t + 1) * rates) - np.floor(t * rates)

    output = _pool_trains(keras.layers.MaxPooling2D(2), trains.astype(np.float32))

    expected = keras.layers.MaxPooling2D(2)(trains.sum(axis=0)).numpy()
    # Where two inputs' counts stay close, the gate switches between them and
    # passes a few spikes of both, so the output may exceed the maximum count a little.
    np.testing.assert_allclose(output.sum(axis=0), expected, rtol=0.03, atol=2.0)
    assert np.all(output.sum(axis=0) >= expected - 1)


def test_channels_first_is_unsupported():
    stage = rate_gated_max_pooling(keras.layers.MaxPooling2D(2, data_format="channels_first"))

    assert not isinstance(stage, Stateful)
    assert "channels_last" in stage.reason


class _UnitScale:
    @hookimpl
    def snn_normalizers(self):
        return [NormalizationMethod("unit", lambda stats, argument: dict.fromkeys(stats.layers, 1.0))]


@pytest.fixture
def plugins() -> Plugins:
    plugins = Plugins()
    plugins.register(_UnitScale(), name="unit-scale")
    return plugins


def _max_network() -> keras.Model:
    # Class 0 reads the pooled maximum, class 1 is a constant 0.5: class 0 wins iff max > 0.5.
    inputs = keras.Input((2, 2, 1))
    x = keras.layers.ReLU(name="relu")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(2, name="out")(x)
    model = keras.Model(inputs, outputs)
    model.get_layer("out").set_weights([np.array([[1.0, 0.0]], np.float32), np.array([0.0, 0.5], np.float32)])
    return model


def test_network_with_max_pool_classifies_by_max(plugins):
    # Summing the window would put the second and fourth image in class 0, averaging the first and third in class 1.
    images = np.array(
        [[0.8, 0.1, 0.1, 0.1], [0.3, 0.3, 0.3, 0.3], [0.1, 0.2, 0.7, 0.0], [0.4, 0.35, 0.2, 0.0]], np.float32
    ).reshape(4, 2, 2, 1)
    labels = np.array([0, 1, 0, 1], np.int32)
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
    model = _max_network()
    assert np.array_equal(np.argmax(model.predict(images, verbose=0), axis=-1), labels)

    network = convert(model, collect_activation_stats(model, data, plugins=plugins), "unit", plugins=plugins)
    result = Simulator(network, plugins=plugins).run(data, 32)

    assert isinstance(network.topology.get_layer("pool"), keras.layers.MaxPooling2D)
    assert result.accuracy_per_step[-1] == 1.0
    # The pooled spikes are the only input of "out": one synaptic operation per spike and class.
    assert result.synaptic_operations["out"] > 0
