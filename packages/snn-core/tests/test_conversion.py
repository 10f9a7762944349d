"""Conversion and simulation of small networks with results computed by hand."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from snn_core import (
    Simulator,
    SpikingNetwork,
    UnsupportedLayerError,
    collect_activation_stats,
    convert,
    neuron_layer_names,
    prepare_for_conversion,
)


def _identity_network() -> keras.Model:
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(3, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", name="out")(hidden)
    model = keras.Model(inputs, outputs)
    model.get_layer("hidden").set_weights([np.eye(3, dtype=np.float32), np.zeros(3, np.float32)])
    model.get_layer("out").set_weights([np.array([[1, 0], [0, 0], [0, 1]], np.float32), np.zeros(2, np.float32)])
    return model


def test_spiking_topology_splits_activations(plugins):
    topology = prepare_for_conversion(_identity_network(), plugins)

    assert [layer.name for layer in topology.layers[1:]] == ["hidden", "hidden_relu", "out"]
    assert neuron_layer_names(topology) == ["hidden_relu"]
    assert topology.get_layer("out").activation.__name__ == "linear"


def test_spike_counts_match_hand_computation(plugins):
    model = _identity_network()
    images = np.array([[0.25, 0.7, 1.7]], np.float32)
    data = tf.data.Dataset.from_tensor_slices((images, np.array([1], np.int32))).batch(1)
    stats = collect_activation_stats(model, data, plugins=plugins)

    network = convert(model, stats, normalization="fixed", plugins=plugins)
    result = Simulator(network, plugins=plugins).run(data, timesteps=64)

    # Rates 0.25/2, 0.7/2, 1.7/2 over 64 steps: floor(8), floor(22.4), floor(54.4).
    assert result.spike_counts == {"hidden_relu": 8 + 22 + 54}
    assert result.neurons == {"hidden_relu": 3}
    # Output sums: class 0 reads neuron 0, class 1 reads neuron 2, so class 1 wins from the first spike on.
    assert result.accuracy_per_step[-1] == 1.0


def test_saved_network_simulates_identically(plugins, tmp_path):
    model = _identity_network()
    images = np.random.default_rng(0).uniform(0, 2, (16, 3)).astype(np.float32)
    labels = np.argmax(model.predict(images, verbose=0), axis=-1).astype(np.int32)
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    network = convert(model, collect_activation_stats(model, data, plugins=plugins), "fixed", plugins=plugins)

    network.save(tmp_path / "snn")
    loaded = SpikingNetwork.load(tmp_path / "snn", plugins=plugins)

    original = Simulator(network, plugins=plugins).run(data, 32)
    again = Simulator(loaded, plugins=plugins).run(data, 32)
    np.testing.assert_array_equal(original.accuracy_per_step, again.accuracy_per_step)
    assert original.spike_counts == again.spike_counts


def test_lstm_is_rejected_with_its_name_and_type(plugins):
    inputs = keras.Input((5, 4))
    x = keras.layers.LSTM(8, name="memory")(inputs)
    x = keras.layers.Dense(8, activation="tanh", name="squash")(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))

    with pytest.raises(UnsupportedLayerError) as raised:
        prepare_for_conversion(model, plugins)

    assert raised.value.layers == [("memory", "LSTM"), ("squash", "Dense")]
    message = str(raised.value)
    assert "1 LSTM (no layer converter is registered for this type): memory" in message
    assert "activation 'tanh'" in message
    assert "\n" not in message
