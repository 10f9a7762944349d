"""Loading weights a user already has into zoo models, by layer name."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import snn_models
from snn_core import SnnError


@pytest.fixture(scope="module")
def trained():
    """A he_resnet20 with weights different from a fresh build's."""
    keras.utils.set_random_seed(7)
    model = snn_models.build("he_resnet20", (32, 32, 3), 10)
    return model


@pytest.mark.parametrize("filename", ["model.keras", "model.h5", "model.weights.h5"])
def test_weights_load_by_layer_name(tmp_path, trained, filename):
    path = tmp_path / filename
    if filename.endswith(".weights.h5"):
        trained.save_weights(path)
    else:
        trained.save(path)

    keras.utils.set_random_seed(8)
    model = snn_models.build("he_resnet20", (32, 32, 3), 10)
    assert not np.array_equal(model.get_layer("stem_conv").get_weights()[0], trained.get_layer("stem_conv").get_weights()[0])
    report = snn_models.load_weights(model, path)
    assert report.missing == ()
    for layer in trained.layers:
        for expected, actual in zip(layer.get_weights(), model.get_layer(layer.name).get_weights(), strict=True):
            np.testing.assert_array_equal(actual, expected)


def test_weights_with_other_classes_fail(tmp_path, trained):
    trained.save_weights(tmp_path / "ten.weights.h5")
    model = snn_models.build("he_resnet20", (32, 32, 3), 100)
    with pytest.raises(SnnError, match="logits"):
        snn_models.load_weights(model, tmp_path / "ten.weights.h5")


def test_weights_of_other_model_fail(tmp_path):
    snn_models.build("demo_cnn", (28, 28, 1), 10).save_weights(tmp_path / "demo.weights.h5")
    model = snn_models.build("he_resnet20", (32, 32, 3), 10)
    with pytest.raises(SnnError):
        snn_models.load_weights(model, tmp_path / "demo.weights.h5")


def test_cli_train_zero_epochs_saves_loaded_weights(tmp_path, trained):
    from click.testing import CliRunner

    from snn_cli.main import cli
    from snn_core import load_model

    trained.save(tmp_path / "mine.keras")
    result = CliRunner().invoke(
        cli,
        ["train", "--model", "he_resnet20", "--dataset", "cifar10-npz", "--epochs", "0",
         "--weights", str(tmp_path / "mine.keras"), "--output", str(tmp_path / "runs")],
    )
    assert result.exit_code == 0, result.output
    saved = list((tmp_path / "runs").glob("he_resnet20-cifar10-npz/ep-0_*/model.keras"))
    assert len(saved) == 1
    loaded = load_model(saved[0])
    np.testing.assert_array_equal(loaded.get_layer("logits").get_weights()[0], trained.get_layer("logits").get_weights()[0])
