"""Streaming activation statistics: accuracy against numpy, merging, and the file format."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from snn_core import ActivationStatistics, ArtifactError, SnnError, collect_activation_stats, merge_statistics
from snn_core.statistics import (
    CHANNEL_BINS,
    NUM_BINS,
    LayerStatistics,
    bin_edges,
    channel_histogram_counts,
    histogram_counts,
)

PERCENTILES = (50, 99, 99.9, 99.99, 99.999)
SAMPLES = 10**7


def _heavy_tailed(kind: str) -> np.ndarray:
    rng = np.random.default_rng(7)
    if kind == "lognormal":
        return rng.lognormal(0.0, 1.0, SAMPLES).astype(np.float32)
    # ReLU of a Gaussian, plus a spike at zero: 30% of the values are exactly 0.
    values = np.maximum(rng.normal(0.0, 1.0, SAMPLES), 0.0).astype(np.float32)
    values[rng.random(SAMPLES) < 0.3] = 0.0
    return values


def _layer_statistics(values: np.ndarray) -> LayerStatistics:
    counts, nonpositive = histogram_counts(tf.constant(values))
    return LayerStatistics(counts.numpy(), int(nonpositive), float(values.max()))


@pytest.mark.parametrize("kind", ["lognormal", "relu_gaussian"])
def test_percentiles_within_one_percent(kind):
    values = _heavy_tailed(kind)
    stats = _layer_statistics(values)

    # Percentiles of the positive values, as normalization uses them.
    positive = values[values > 0].astype(np.float64)
    exact = np.percentile(positive, PERCENTILES)
    assert stats.positive == positive.size
    assert stats.nonpositive == values.size - positive.size
    for q, expected in zip(PERCENTILES, exact, strict=True):
        estimate = stats.percentile(q)
        assert abs(estimate - expected) / expected < 0.01, (kind, q, estimate, expected)


def test_channel_percentiles_within_one_percent():
    rng = np.random.default_rng(3)
    scales = np.array([0.01, 0.3, 1.0, 40.0], np.float32)
    values = (rng.lognormal(0.0, 1.0, (250_000, 4)) * scales).astype(np.float32)
    stats = LayerStatistics(
        channel_max=values.max(axis=0).astype(np.float64),
        channel_histogram=channel_histogram_counts(tf.constant(values)).numpy(),
    )

    for q in (50, 99.9, 99.99):
        estimates = stats.channel_percentiles(q)
        exact = np.percentile(values.astype(np.float64), q, axis=0)
        np.testing.assert_array_less(np.abs(estimates - exact) / exact, 0.01)


def test_histogram_counts_hand_example():
    values = tf.constant([-1.0, -0.0, 0.0, 0.5, 1.0, 1.0, 3.0, 1e-45], tf.float32)
    counts, nonpositive = histogram_counts(values)
    counts = counts.numpy()

    # 1e-45 is a subnormal below 2**-133, so it counts with the nonpositive values.
    assert int(nonpositive) == 4
    assert counts.sum() == 4
    edges = bin_edges(0, NUM_BINS)
    for value, expected in ((0.5, 1), (1.0, 2), (3.0, 1)):
        index = int(np.searchsorted(edges, value, side="right")) - 1
        assert counts[index] == expected, value
    assert counts[0] == 0


def test_bin_edges_bracket_their_values():
    rng = np.random.default_rng(0)
    values = np.exp(rng.uniform(-30, 30, 10_000)).astype(np.float32)
    bins = (values.view(np.uint32) >> 16).astype(np.int64)
    edges = bin_edges(0, NUM_BINS)

    assert np.all(edges[bins] <= values)
    assert np.all(values < edges[bins + 1])
    widths = edges[bins + 1] / edges[bins] - 1
    assert widths.max() <= 2**-7 + 1e-12


def test_channel_histogram_clamps_out_of_range():
    values = tf.constant([[1e-9, 0.0], [1e9, 2.0], [1.0, -3.0]], tf.float32)
    counts = channel_histogram_counts(values).numpy()

    assert counts.shape == (2, CHANNEL_BINS)
    assert counts[0, 0] == 1  # 1e-9 is below 2**-16
    assert counts[0, -1] == 1  # 1e9 is above 2**16
    assert counts[0].sum() == 3
    assert counts[1].sum() == 1  # only 2.0 is positive


def _small_cnn() -> keras.Model:
    keras.utils.set_random_seed(1)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv")(x)
    x = keras.layers.AveragePooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(16, activation="relu", name="dense")(x)
    return keras.Model(inputs, keras.layers.Dense(10, name="logits")(x))


@pytest.fixture(scope="module")
def digits_train():
    from snn_core import get_dataset

    return get_dataset("digits").load("train")


def _assert_statistics_equal(first: ActivationStatistics, second: ActivationStatistics) -> None:
    assert list(first.layers) == list(second.layers)
    for name in first.layers:
        a, b = first[name], second[name]
        np.testing.assert_array_equal(a.histogram, b.histogram, err_msg=name)
        assert a.nonpositive == b.nonpositive, name
        assert a.max == b.max, name
        np.testing.assert_array_equal(a.channel_max, b.channel_max, err_msg=name)
        np.testing.assert_array_equal(a.channel_histogram, b.channel_histogram, err_msg=name)


def test_four_shards_merge_to_one_pass(digits_train, tmp_path):
    model = _small_cnn()
    one_pass = collect_activation_stats(model, digits_train.batch(256), channel_histograms=True)

    shards = [
        collect_activation_stats(model, digits_train.shard(4, index).batch(100), channel_histograms=True)
        for index in range(4)
    ]
    _assert_statistics_equal(merge_statistics(shards), one_pass)
    assert one_pass["conv_relu"].positive + one_pass["conv_relu"].nonpositive == 4000 * 26 * 26 * 8

    # The same through the saved files.
    for index, shard in enumerate(shards):
        shard.save(tmp_path / f"shard{index}.npz")
    loaded = [ActivationStatistics.load(tmp_path / f"shard{index}.npz") for index in range(4)]
    _assert_statistics_equal(merge_statistics(loaded), one_pass)
    one_pass.save(tmp_path / "one.npz")
    _assert_statistics_equal(ActivationStatistics.load(tmp_path / "one.npz"), one_pass)


def test_saved_file_readable_with_numpy(digits_train, tmp_path):
    stats = collect_activation_stats(_small_cnn(), digits_train.take(64).batch(64))
    stats.save(tmp_path / "activations.npz")

    with np.load(tmp_path / "activations.npz", allow_pickle=False) as data:
        assert str(data["format"]) == "snn-activation-statistics"
        assert int(data["format_version"]) == 2
        assert list(data["layers"]) == ["conv_relu", "dense_relu"]
        # The documented recipe for a percentile, with numpy alone.
        counts = data["histogram_1"]
        lower = (np.arange(counts.size, dtype=np.uint64) << int(data["bin_shift"])).astype(np.uint32).view(np.float32)
        median_bin = int(np.searchsorted(np.cumsum(counts), counts.sum() / 2))
        assert lower[median_bin] <= stats["dense_relu"].percentile(50) <= lower[median_bin + 1]
        assert data["channel_histogram_0"].shape == (0, CHANNEL_BINS)


def test_load_rejects_other_versions(tmp_path):
    path = tmp_path / "old.npz"
    np.savez(path, format=np.array("snn-activation-statistics"), format_version=np.array(1))
    with pytest.raises(ArtifactError, match="format version 1"):
        ActivationStatistics.load(path)

    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ArtifactError, match="not an activation statistics file"):
        ActivationStatistics.load(tmp_path / "junk.npz")


def test_merge_rejects_other_models():
    first = ActivationStatistics({"a": LayerStatistics()})
    second = ActivationStatistics({"b": LayerStatistics()})
    with pytest.raises(SnnError, match="layer names differ"):
        first.merge(second)
    with pytest.raises(SnnError, match="no activation statistics"):
        merge_statistics([])


def test_channel_percentiles_need_channel_histograms():
    with pytest.raises(SnnError, match="no per-channel histograms"):
        LayerStatistics().channel_percentiles(99.9)


def test_mirrored_replicas_merge_to_one_pass():
    # Logical devices must be configured before TensorFlow starts, so the check
    # runs in a fresh process.
    script = Path(__file__).with_name("mirrored_statistics_check.py")
    completed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])

    assert result["replicas"] == 2
    assert result["equal"], result
