"""Operation counts and energy estimates against hand-computed values."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from snn_core import EnergyModel, Simulator, collect_activation_stats, convert
from snn_core.metrics import ann_macs, energy_estimate, fan_out_map


def test_conv_fan_out_counts_border():
    layer = keras.layers.Conv2D(2, 3, padding="same")
    layer.build((None, 4, 4, 1))

    fan_out = fan_out_map(layer, (4, 4, 1))[:, :, 0]

    # A corner pixel enters 4 of the 3x3 windows, an edge pixel 6, an inner one 9; times 2 filters.
    expected = 2 * np.array([[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]])
    np.testing.assert_array_equal(fan_out, expected)


def test_ann_macs_of_small_model():
    inputs = keras.Input((4, 4, 1))
    x = keras.layers.Conv2D(2, 3, padding="same", name="conv")(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(3, name="dense")(x)

    counts = ann_macs(keras.Model(inputs, outputs))

    # conv: 2 filters x (4*4 + 8*6 + 4*9 = 100 taps); dense: 32 inputs x 3 units.
    assert counts == {"conv": 200, "dense": 96}


def _identity_network() -> keras.Model:
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(3, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(2, name="out")(hidden)
    model = keras.Model(inputs, outputs)
    model.get_layer("hidden").set_weights([np.eye(3, dtype=np.float32), np.zeros(3, np.float32)])
    model.get_layer("out").set_weights([np.array([[1, 0], [0, 0], [0, 1]], np.float32), np.zeros(2, np.float32)])
    return model


def test_synaptic_operations_by_hand(plugins):
    model = _identity_network()
    images = np.array([[0.25, 0.7, 1.7]], np.float32)
    data = tf.data.Dataset.from_tensor_slices((images, np.array([1], np.int32))).batch(1)
    network = convert(model, collect_activation_stats(model, data, plugins=plugins), "fixed", plugins=plugins)

    result = Simulator(network, plugins=plugins).run(data, timesteps=64)

    # Spikes 8 + 22 + 54 = 84 in 64 steps, each reaching both output units.
    assert result.synaptic_operations == {"out": 2 * 84.0}
    # The analog input reaches "hidden" directly: its 9 MACs count at each of the 64 steps.
    assert result.multiply_accumulates == {"hidden": 9.0 * 64}
    assert result.ann_multiply_accumulates == {"hidden": 9, "out": 6}
    assert result.synaptic_operations_per_step.sum() == 2 * 84.0


def test_spiking_input_counts_accumulates(plugins):
    model = _identity_network()
    images = np.array([[0.0, 127.5, 255.0]], np.float32)
    data = tf.data.Dataset.from_tensor_slices((images, np.array([1], np.int32))).batch(1)
    network = convert(model, collect_activation_stats(model, data, plugins=plugins), "fixed", plugins=plugins)

    result = Simulator(network, encoder="rate", plugins=plugins).run(data, timesteps=8)

    # Regular trains: pixel 1 spikes 4 times, pixel 2 eight times, each into 3 hidden units.
    assert result.multiply_accumulates == {}
    assert result.synaptic_operations["hidden"] == 3 * (4 + 8)


def test_energy_uses_stated_costs():
    estimate = energy_estimate(1000.0, 10.0, 500.0)

    assert estimate["mac_pj"] == 4.6
    assert estimate["ac_pj"] == 0.9
    assert "Horowitz" in estimate["source"]
    assert estimate["snn_joules_per_image"] == pytest.approx((1000 * 0.9 + 10 * 4.6) * 1e-12)
    assert estimate["ann_joules_per_image"] == pytest.approx(500 * 4.6e-12)


def test_energy_costs_can_be_overridden():
    estimate = energy_estimate(100.0, 0.0, 100.0, EnergyModel(mac_pj=2.0, ac_pj=0.5, source="my chip"))

    assert estimate["snn_to_ann_ratio"] == pytest.approx(0.25)
    assert estimate["source"] == "my chip"


def test_spike_factors_through_average_pooling():
    from snn_core.graph import layer_graph
    from snn_core.metrics import spike_factor_maps

    inputs = keras.Input((3, 3, 2))
    x = keras.layers.ReLU(name="spikes")(inputs)
    x = keras.layers.AveragePooling2D(2, padding="same", name="pool")(x)
    outputs = keras.layers.Flatten(name="flat")(x)
    model = keras.Model(inputs, outputs)
    nodes = [node for node in layer_graph(model) if node.name in {"spikes", "pool", "flat"}]
    shapes = {node.name: tuple(node.layer.output.shape[1:]) for node in nodes}

    factors = spike_factor_maps(nodes, {"spikes": np.array([0.5, 0.25], np.float32)}, shapes)

    # One over the threshold per channel, then times the inputs of each window: 4
    # inside, 2 on the padded edges and 1 in the padded corner of a 3x3 map.
    np.testing.assert_array_equal(factors["spikes"][0, 0], [2.0, 4.0])
    windows = np.array([[4, 2], [2, 1]], np.float32)
    np.testing.assert_array_equal(factors["pool"][..., 0], 2.0 * windows)
    np.testing.assert_array_equal(factors["pool"][..., 1], 4.0 * windows)
    np.testing.assert_array_equal(factors["flat"], factors["pool"].reshape(-1))


def test_signed_spikes_have_no_factors():
    from snn_core.graph import layer_graph
    from snn_core.metrics import spike_factor_maps

    inputs = keras.Input((4,))
    outputs = keras.layers.ReLU(name="spikes")(inputs)
    nodes = [node for node in layer_graph(keras.Model(inputs, outputs)) if node.name == "spikes"]

    assert spike_factor_maps(nodes, {}, {"spikes": (4,)}) == {}


def test_average_pooled_spikes_count_each(plugins):
    inputs = keras.Input((2, 2, 1))
    x = keras.layers.Conv2D(1, 1, activation="relu", name="hidden")(inputs)
    x = keras.layers.AveragePooling2D(2, name="pool")(x)
    x = keras.layers.Flatten(name="flat")(x)
    outputs = keras.layers.Dense(2, name="out")(x)
    model = keras.Model(inputs, outputs)
    model.get_layer("hidden").set_weights([np.ones((1, 1, 1, 1), np.float32), np.zeros(1, np.float32)])
    model.get_layer("out").set_weights([np.ones((1, 2), np.float32), np.zeros(2, np.float32)])
    images = np.array([[[0.25], [0.7]], [[1.7], [0.0]]], np.float32)[None]
    data = tf.data.Dataset.from_tensor_slices((images, np.array([1], np.int32))).batch(1)
    network = convert(model, collect_activation_stats(model, data, plugins=plugins), "fixed", plugins=plugins)

    result = Simulator(network, plugins=plugins).run(data, timesteps=64)

    # 8 + 22 + 54 spikes share one pooled element, and every spike reaches both
    # output units. Counting the pooled element once per step would give at most 128.
    assert result.spike_counts == {"hidden_relu": 84.0}
    assert result.synaptic_operations == {"out": 2 * 84.0}
