"""Keras ImageNet applications: preprocessing attached, flat graphs, conversion or a clear refusal."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import snn_models
from snn_core import (
    SnnError,
    UnsupportedLayerError,
    check_fusion,
    collect_activation_stats,
    convert,
    fuse_batch_norm,
    prepare_for_conversion,
)
from snn_models.applications import APPLICATIONS


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 255, (4, 96, 96, 3)).astype(np.float32)


def test_mobilenetv2_fuses_converts_and_simulates(images):
    from snn_core import Simulator

    keras.backend.clear_session()
    model = snn_models.build("mobilenetv2", (96, 96, 3), 10)
    assert not any(isinstance(layer, keras.Model) for layer in model.layers)
    fused, report = fuse_batch_norm(model)
    assert report.kept == ()
    assert check_fusion(model, fused, images).max_relative_difference < 1e-4

    stats = collect_activation_stats(fused, tf.data.Dataset.from_tensor_slices((images, np.zeros(4, np.int32))).batch(4))
    network = convert(fused, stats, normalization="p99.9")
    result = Simulator(network).run(tf.data.Dataset.from_tensor_slices((images[:2], np.zeros(2, np.int32))).batch(2), 2)
    assert result.samples == 2


# resnet152 is built by the same code with more blocks; the benchmark covers it.
@pytest.mark.parametrize("name", ["resnet101"])
def test_imagenet_resnet_fuses_and_prepares(name, images):
    keras.backend.clear_session()
    model = snn_models.build(name, (64, 64, 3), 10)
    assert isinstance(model.layers[1], snn_models.ReverseChannels)
    fused, report = fuse_batch_norm(model)
    assert report.kept == ()
    assert check_fusion(model, fused, images[:2, :64, :64]).max_relative_difference < 1e-4
    topology = prepare_for_conversion(fused)
    assert any(isinstance(layer, keras.layers.MaxPooling2D) or "MaxPool" in type(layer).__name__
               for layer in topology.layers)


def test_efficientnet_refusal_lists_every_layer_once(images):
    keras.backend.clear_session()
    model = snn_models.build("efficientnetv2s", (64, 64, 3), 10)
    logits = model.predict(images[:2, :64, :64], verbose=0)
    assert logits.shape == (2, 10)
    assert np.isfinite(logits).all()

    with pytest.raises(UnsupportedLayerError) as caught:
        prepare_for_conversion(model)
    message = str(caught.value)
    assert "\n" not in message
    assert "Multiply" in message
    offenders = {name for name, _ in caught.value.layers}
    multiplies = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Multiply)]
    assert multiplies and set(multiplies) <= offenders
    for name in offenders:
        assert message.count(f" {name},") + message.count(f" {name};") + message.count(f" {name}.") == 1


def test_caffe_preprocessing_matches_keras():
    keras.backend.clear_session()
    model = snn_models.build("resnet101", (32, 32, 3), 10)
    probe = keras.Model(model.inputs, model.get_layer("subtract_mean").output)
    pixels = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    expected = keras.applications.resnet.preprocess_input(pixels.copy())
    np.testing.assert_allclose(probe.predict(pixels, verbose=0), expected, rtol=1e-5, atol=1e-3)


def test_application_weights_file_must_exist(tmp_path):
    with pytest.raises(SnnError, match="mobilenet_v2_weights"):
        snn_models.build_application("mobilenetv2", (96, 96, 3), 1000, weights=tmp_path / "missing.h5")


def test_every_application_is_registered():
    from snn_core import get_plugins

    assert set(APPLICATIONS) <= set(get_plugins().models.names())
