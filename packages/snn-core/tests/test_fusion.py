"""Batch-norm fusion gives the unfused model's outputs in inference mode."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from snn_core import FusionMismatchError, check_fusion, fuse_batch_norm


def _conv_model(use_bias: bool) -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(8, 3, use_bias=use_bias, name="conv")(x)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


def _depthwise_model(use_bias: bool) -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, name="conv")(x)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=use_bias, name="depthwise")(x)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


def _dense_model(use_bias: bool) -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(32, use_bias=use_bias, name="dense")(x)
    x = keras.layers.BatchNormalization(center=use_bias, scale=use_bias, name="bn")(x)
    x = keras.layers.ReLU()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("builder", [_conv_model, _depthwise_model, _dense_model], ids=["conv", "depthwise", "dense"])
def test_fused_model_matches_unfused(builder, use_bias, digits_images, randomize_batch_norms):
    model = builder(use_bias)
    randomize_batch_norms(model)

    fused, report = fuse_batch_norm(model)

    assert report.folded == (("bn", model.get_layer("bn").input._keras_history.operation.name),)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in fused.layers)
    expected = model(digits_images, training=False).numpy()
    actual = fused(digits_images).numpy()
    relative = np.max(np.abs(actual - expected)) / np.max(np.abs(expected))
    assert relative < 1e-5
    assert check_fusion(model, fused, digits_images).max_relative_difference < 1e-5


def test_fusion_uses_moving_statistics_only(digits_images, randomize_batch_norms):
    model = _conv_model(use_bias=True)
    randomize_batch_norms(model)

    fused, _ = fuse_batch_norm(model)

    # Training mode normalizes with the batch's own statistics, which fusion must
    # ignore. It also updates the moving statistics, so it runs last.
    in_inference_mode = model(digits_images, training=False).numpy()
    in_training_mode = model(digits_images, training=True).numpy()
    assert not np.allclose(in_training_mode, in_inference_mode, rtol=1e-3)
    np.testing.assert_allclose(fused(digits_images).numpy(), in_inference_mode, rtol=1e-4, atol=1e-5)


def test_batch_norm_after_activation_is_kept(digits_images, randomize_batch_norms):
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(3)(x))
    randomize_batch_norms(model)

    fused, report = fuse_batch_norm(model)

    assert report.folded == ()
    assert [name for name, _ in report.kept] == ["bn"]
    assert "activation" in report.kept[0][1]
    np.testing.assert_allclose(fused(digits_images).numpy(), model(digits_images).numpy(), rtol=1e-5, atol=1e-6)


def test_check_fusion_rejects_different_outputs(digits_images):
    model = _dense_model(use_bias=True)
    other = _dense_model(use_bias=True)

    with pytest.raises(FusionMismatchError, match="above the tolerance"):
        check_fusion(model, other, digits_images)
