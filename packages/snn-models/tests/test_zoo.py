"""The CIFAR zoo: parameter counts, exact batch-norm fusion and conversion of every model."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import snn_models
from snn_core import (
    Simulator,
    check_fusion,
    collect_activation_stats,
    convert,
    fuse_batch_norm,
    get_plugins,
    prepare_for_conversion,
)

# Parameters (Keras count_params: trainable plus non-trainable) in millions, for
# 10 and 100 classes; each build must be within 0.5%.
PARAMETER_COUNTS = {
    "vgg16": (15.27, 15.31),
    "resnet20": (4.34, 4.36),
    "resnet32": (7.45, 7.47),
    "resnet44": (10.55, 10.58),
    "resnet56": (13.66, 13.68),
    "resnet18": (11.19, 11.24),
    "resnet34": (21.31, 21.36),
    "resnet50": (23.60, 23.78),
    "resnet20v2": (4.34, 4.37),
    "resnet32v2": (7.45, 7.47),
    "resnet44v2": (10.55, 10.58),
    "resnet56v2": (13.66, 13.68),
    "resnet18v2": (11.19, 11.24),
    "resnet34v2": (21.31, 21.36),
    "resnet50v2": (23.61, 23.79),
}
CIFAR_MODELS = [
    "vgg16", "vgg16_maxpool",
    *(f"resnet{depth}{form}" for depth in (20, 32, 44, 56, 18, 34, 50) for form in ("", "v2")),
    "he_resnet20",
]
# Deeper builds of he_resnet20's code: fusion and the spiking topology are checked,
# but not simulated, which keeps the suite within its time budget.
DEEPER_HE_RESNETS = ["he_resnet32", "he_resnet44", "he_resnet56"]


def randomize_batch_norms(model: keras.Model, seed: int = 0) -> None:
    """Give every batch norm non-trivial statistics, so fusion has something to fold."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.gamma.shape[0]
            layer.set_weights([
                rng.uniform(0.5, 1.5, channels),  # gamma
                rng.normal(0.0, 0.2, channels),  # beta
                rng.normal(0.0, 0.2, channels),  # moving mean
                rng.uniform(0.5, 2.0, channels),  # moving variance
            ])


@pytest.mark.parametrize("name", sorted(PARAMETER_COUNTS))
def test_parameter_count_matches_table(name):
    for num_classes, millions in zip((10, 100), PARAMETER_COUNTS[name], strict=True):
        keras.backend.clear_session()
        count = snn_models.build(name, (32, 32, 3), num_classes).count_params()
        assert abs(count / 1e6 - millions) / millions < 0.005, f"{name} with {num_classes} classes: {count}"


def test_he_resnet20_has_published_size():
    assert snn_models.build("he_resnet20", (32, 32, 3), 10).count_params() == pytest.approx(0.27e6, rel=0.01)


@pytest.mark.parametrize("name", CIFAR_MODELS)
def test_zoo_model_fuses_and_converts(name, cifar_test_images):
    keras.backend.clear_session()
    images, labels = cifar_test_images
    model = snn_models.build(name, "cifar10-npz")
    randomize_batch_norms(model)

    fused, report = fuse_batch_norm(model)
    check = check_fusion(model, fused, images[:8], tolerance=1e-4)
    assert check.max_relative_difference < 1e-4
    if name.endswith("v2"):
        assert all("preact_bn" in norm or norm == "final_bn" for norm, _ in report.kept)
        assert report.kept
    else:
        assert report.kept == ()

    stats = collect_activation_stats(fused, tf.data.Dataset.from_tensor_slices((images[:16], labels[:16])).batch(8))
    network = convert(fused, stats, normalization="p99.9")
    result = Simulator(network).run(tf.data.Dataset.from_tensor_slices((images[:8], labels[:8])).batch(8), 8)
    assert result.samples == 8
    assert len(result.accuracy_per_step) == 8
    assert sum(result.spike_counts.values()) > 0


@pytest.mark.parametrize("name", DEEPER_HE_RESNETS)
def test_deeper_he_resnet_fuses_and_prepares(name, cifar_test_images):
    keras.backend.clear_session()
    images, _ = cifar_test_images
    model = snn_models.build(name, "cifar10-npz")
    randomize_batch_norms(model)

    fused, report = fuse_batch_norm(model)
    assert report.kept == ()
    assert check_fusion(model, fused, images[:8], tolerance=1e-4).max_relative_difference < 1e-4
    topology = prepare_for_conversion(fused)
    assert sum(isinstance(layer, snn_models.ShortcutPadding) for layer in topology.layers) == 2


def test_shortcut_padding_round_trips_and_pads():
    layer = snn_models.ShortcutPadding(filters=8, stride=2, name="shortcut")
    inputs = np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3)
    outputs = keras.ops.convert_to_numpy(layer(inputs))
    assert outputs.shape == (2, 2, 2, 8)
    np.testing.assert_array_equal(outputs[..., 2:5], inputs[:, ::2, ::2, :])
    assert not outputs[..., :2].any()
    assert not outputs[..., 5:].any()

    clone = snn_models.ShortcutPadding.from_config(layer.get_config())
    assert (clone.filters, clone.stride, clone.name) == (8, 2, "shortcut")


def test_shortcut_padding_model_saves_and_loads(tmp_path, cifar_test_images):
    from snn_core import load_model

    images, _ = cifar_test_images
    model = snn_models.build("he_resnet20", (32, 32, 3), 10)
    model.save(tmp_path / "model.keras")
    loaded = load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded.predict(images[:4], verbose=0), model.predict(images[:4], verbose=0), rtol=1e-5)


def test_custom_layers_have_converters():
    converters = get_plugins().layer_converters
    assert "ShortcutPadding" in converters
    assert "ReverseChannels" in converters


def test_build_needs_classes_with_shape():
    from snn_core import SnnError

    with pytest.raises(SnnError, match="num_classes"):
        snn_models.build("resnet20", (32, 32, 3))


def test_unknown_model_lists_valid_names():
    from snn_core import UnknownNameError

    with pytest.raises(UnknownNameError, match="resnet20v2"):
        snn_models.build("resnet21", (32, 32, 3), 10)
