"""Every normalization method of snn-norm, on real digits and on networks with hand-computed results."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from snn_core import (
    ActivationStatistics,
    SnnError,
    SpikingNetwork,
    collect_activation_stats,
    convert,
    get_dataset,
    get_plugins,
    resolve_normalizer,
    simulate,
)
from snn_core.digits import load_arrays

METHODS = ["max", "p99.9", "p99.999", "channel-max", "channel-p99.9", "channel-p99.99", "threshold-balancing"]


def _small_cnn() -> keras.Model:
    keras.utils.set_random_seed(2)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(6, 3, activation="relu", name="conv")(x)
    x = keras.layers.AveragePooling2D(2, name="pool")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(12, activation="relu", name="dense")(x)
    return keras.Model(inputs, keras.layers.Dense(10, name="logits")(x))


@pytest.fixture(scope="module")
def cnn_and_stats():
    model = _small_cnn()
    train = get_dataset("digits").load("train").take(1000).batch(250)
    return model, collect_activation_stats(model, train, channel_histograms=True)


@pytest.fixture(scope="module")
def calibration_images() -> np.ndarray:
    images, _ = load_arrays("train")
    return images[:64]


def test_methods_registered_by_snn_norm():
    registry = get_plugins().normalizers
    for name in ("max", "p", "channel-max", "channel-p", "threshold-balancing"):
        assert registry.plugin_of(name) == "norm (snn-norm)", name


@pytest.mark.parametrize("spec", METHODS)
def test_method_gives_positive_scales(spec, cnn_and_stats, calibration_images):
    model, stats = cnn_and_stats
    network = convert(model, stats, spec, calibration_images=calibration_images, calibration_timesteps=16)

    assert list(network.thresholds) == ["conv_relu", "dense_relu"]
    channel_wise = spec.startswith("channel")
    for name, channels in (("conv_relu", 6), ("dense_relu", 12)):
        threshold = network.thresholds[name]
        assert threshold.shape == ((channels,) if channel_wise else ()), name
        assert threshold.dtype == np.float32
        assert np.all(np.isfinite(threshold)), name
        assert np.all(threshold > 0), name


@pytest.mark.parametrize("spec", METHODS)
def test_method_meets_plugin_contract(spec, cnn_and_stats, calibration_images):
    from snn_core import NormalizationContext, get_plugins, neuron_layer_names, prepare_for_conversion
    from snn_core.testing import check_normalization_method

    model, stats = cnn_and_stats
    normalizer = resolve_normalizer(spec)
    topology = prepare_for_conversion(model)
    neuron = get_plugins().neuron_models.get("if")
    context = NormalizationContext(
        topology, neuron_layer_names(topology), neuron, neuron.parameters, calibration_images, timesteps=8
    )
    scales = check_normalization_method(normalizer.method, stats, normalizer.argument, context)
    assert set(scales) == {"conv_relu", "dense_relu"}


def test_any_percentile_value_accepted():
    for spec, argument in (("p99.99", 99.99), ("p99.999", 99.999), ("channel-p99.99", 99.99), ("channel-p", 99.9)):
        assert resolve_normalizer(spec).argument == argument, spec
    with pytest.raises(SnnError, match="takes no number"):
        resolve_normalizer("channel-max5")


def test_channel_max_equals_activation_maxima(cnn_and_stats):
    model, stats = cnn_and_stats
    images = np.concatenate([images.numpy() for images, _ in get_dataset("digits").load("train").take(1000).batch(250)])
    probe = keras.Model(model.inputs, model.get_layer("conv").output)
    expected = probe.predict(images, verbose=0).max(axis=(0, 1, 2))

    scales = resolve_normalizer("channel-max").scales(stats)
    np.testing.assert_allclose(scales["conv_relu"], expected, rtol=1e-6)


def test_channel_percentile_below_channel_max(cnn_and_stats):
    _, stats = cnn_and_stats
    percentile = resolve_normalizer("channel-p99").scales(stats)["conv_relu"]
    maximum = resolve_normalizer("channel-max").scales(stats)["conv_relu"]

    assert np.all(percentile <= maximum)
    assert np.any(percentile < maximum)


def test_channel_percentile_needs_channel_histograms(cnn_and_stats):
    model, stats = cnn_and_stats
    without = ActivationStatistics(
        {name: type(layer)(layer.histogram, layer.nonpositive, layer.max, layer.channel_max) for name, layer in stats.layers.items()}
    )
    with pytest.raises(SnnError, match="needs per-channel histograms"):
        convert(model, without, "channel-p99.9")
    convert(model, without, "channel-max")  # the maxima are always collected


def test_channel_thresholds_survive_save_and_load(cnn_and_stats, tmp_path):
    model, stats = cnn_and_stats
    network = convert(model, stats, "channel-p99.9")
    test = get_dataset("digits").load("test").take(100).batch(50)
    before = simulate(network, test, 8)

    network.save(tmp_path / "snn")
    loaded = SpikingNetwork.load(tmp_path / "snn")
    for name, threshold in network.thresholds.items():
        np.testing.assert_array_equal(loaded.thresholds[name], threshold)
    after = simulate(loaded, test, 8)
    np.testing.assert_array_equal(after.accuracy_per_step, before.accuracy_per_step)
    assert after.spike_counts == before.spike_counts


def _two_channel_network() -> keras.Model:
    """Input (2,) -> Dense identity + ReLU (2 channels) -> Dense sum (logits)."""
    inputs = keras.Input((2,))
    hidden = keras.layers.Dense(2, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(2, name="out")(hidden)
    model = keras.Model(inputs, outputs)
    model.get_layer("hidden").set_weights([np.eye(2, dtype=np.float32), np.zeros(2, np.float32)])
    model.get_layer("out").set_weights([np.array([[1, 0], [0, 1]], np.float32), np.zeros(2, np.float32)])
    return model


def test_channel_thresholds_set_channel_rates():
    # Channel 0 peaks at 0.1 and channel 1 at 10: one layer-wise scale leaves
    # channel 0 almost silent, channel-wise scales give both the same rate.
    model = _two_channel_network()
    images = np.array([[0.1, 10.0], [0.05, 5.0]], np.float32)
    labels = np.array([0, 1], np.int32)
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(2)
    stats = collect_activation_stats(model, data, channel_histograms=True)

    channel = convert(model, stats, "channel-max")
    layer = convert(model, stats, "max")
    np.testing.assert_allclose(channel.thresholds["hidden_relu"], [0.1, 10.0], rtol=1e-6)
    assert float(layer.thresholds["hidden_relu"]) == pytest.approx(10.0)

    timesteps = 100
    channel_result = simulate(channel, data, timesteps)
    layer_result = simulate(layer, data, timesteps)
    # Rates 1 and 0.5 on both channels, summed over 2 images and T steps:
    # (1 + 0.5) * 2 channels * T spikes.
    assert channel_result.spike_counts["hidden_relu"] == pytest.approx(3 * timesteps, abs=2)
    # Layer-wise: channel 0 runs at rates 0.01 and 0.005, channel 1 at 1 and 0.5.
    assert layer_result.spike_counts["hidden_relu"] == pytest.approx(1.515 * timesteps, abs=2)


def _balancing_network() -> keras.Model:
    """Input (1,) -> Dense(1) + ReLU -> Dense(1) + ReLU -> Dense(1), with weights 1, 2 and 1."""
    inputs = keras.Input((1,))
    first = keras.layers.Dense(1, activation="relu", name="first")(inputs)
    second = keras.layers.Dense(1, activation="relu", name="second")(first)
    outputs = keras.layers.Dense(2, name="out")(second)
    model = keras.Model(inputs, outputs)
    model.get_layer("first").set_weights([np.array([[1.0]], np.float32), np.zeros(1, np.float32)])
    model.get_layer("second").set_weights([np.array([[2.0]], np.float32), np.zeros(1, np.float32)])
    model.get_layer("out").set_weights([np.array([[1.0, -1.0]], np.float32), np.zeros(2, np.float32)])
    return model


def test_threshold_balancing_hand_computed():
    # The first layer sees the constant input current, at most 0.8, so its
    # threshold is 0.8. With that threshold, the image 0.8 makes it spike at every
    # step with amplitude 0.8, and the second layer's current is 2 * 0.8 = 1.6 at
    # every step; the ANN would also give 1.6. The image 0.3 gives less current.
    model = _balancing_network()
    images = np.array([[0.3], [0.8]], np.float32)
    data = tf.data.Dataset.from_tensor_slices((images, np.array([0, 0], np.int32))).batch(2)
    stats = collect_activation_stats(model, data)

    network = convert(model, stats, "threshold-balancing", calibration_images=images, calibration_timesteps=10)

    assert float(network.thresholds["first_relu"]) == pytest.approx(0.8)
    assert float(network.thresholds["second_relu"]) == pytest.approx(1.6)


def test_threshold_balancing_sees_spike_bursts():
    # Input 0.5 against threshold 0.8: the first layer spikes at steps 2, 4, 5, 7, ...
    # (v = 0.5, 1.0 -> 0.2, 0.7, 1.2 -> 0.4, ...), so the second layer receives
    # 2 * 0.8 = 1.6 in a spiking step although its ANN activation is only 1.0.
    model = _balancing_network()
    images = np.array([[0.5], [0.8]], np.float32)
    data = tf.data.Dataset.from_tensor_slices((images, np.array([0, 0], np.int32))).batch(2)
    stats = collect_activation_stats(model, data)

    network = convert(model, stats, "threshold-balancing", calibration_images=images[:1], calibration_timesteps=10)

    assert float(network.thresholds["first_relu"]) == pytest.approx(0.5)
    assert float(network.thresholds["second_relu"]) == pytest.approx(1.0)
    calibrated = convert(model, stats, "threshold-balancing", calibration_images=images, calibration_timesteps=10)
    assert float(calibrated.thresholds["second_relu"]) == pytest.approx(1.6)


def test_threshold_balancing_needs_images(cnn_and_stats):
    model, stats = cnn_and_stats
    with pytest.raises(SnnError, match="pass calibration images"):
        convert(model, stats, "threshold-balancing")
    with pytest.raises(SnnError, match="at least one calibration image"):
        convert(model, stats, "threshold-balancing", calibration_images=np.zeros((0, 28, 28, 1), np.float32))
