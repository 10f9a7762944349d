"""`snn compare-norm` and `snn stats --plot` on the embedded digits, and their errors on bad input."""

from __future__ import annotations

import csv
import json

import keras
import pytest
from click.testing import CliRunner

from snn_cli.main import cli


def _small_cnn() -> keras.Model:
    keras.utils.set_random_seed(4)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(x)
    x = keras.layers.AveragePooling2D(2, name="pool")(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(10, name="logits")(x))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run directory with fused.keras and activations.npz written by `snn stats --plot`."""
    from snn_core import save_model

    directory = tmp_path_factory.mktemp("compare") / "run"
    directory.mkdir()
    save_model(_small_cnn(), directory / "fused.keras")
    result = CliRunner().invoke(
        cli,
        ["stats", str(directory / "fused.keras"), "-o", str(directory / "activations.npz"),
         "--plot", str(directory / "plots"), "--norm", "channel-p99.9"],
    )
    assert result.exit_code == 0, result.output
    return directory, result.output


def test_stats_plot_writes_one_png_per_layer(run_dir):
    directory, output = run_dir

    plots = sorted(path.name for path in (directory / "plots").iterdir())
    assert plots == ["00_conv_relu.png"]
    assert (directory / "plots" / plots[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "wrote 1 plots" in output


def test_compare_norm_writes_side_by_side_table(run_dir, tmp_path):
    directory, _ = run_dir
    arguments = ["compare-norm", str(directory), "--norm", "max", "--norm", "channel-p99.9",
                 "--norm", "threshold-balancing", "-T", "4,2", "--images", "100", "-o", str(tmp_path)]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output

    header = result.stdout.splitlines()[0].split()
    assert header == ["normalization", "T", "=", "2", "T", "=", "4"]
    with open(tmp_path / "compare_norm.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["normalization"] for row in rows] == ["max", "channel-p99.9", "threshold-balancing"]
    document = json.loads((tmp_path / "compare_norm.json").read_text())
    assert document["timesteps"] == [2, 4]
    for row, method in zip(rows, document["methods"], strict=True):
        assert method["samples"] == 100
        assert float(row["accuracy_T4"]) == pytest.approx(method["accuracy"]["4"], abs=1e-6)
        assert 0.0 <= method["accuracy"]["2"] <= 1.0
    assert document["methods"][1]["thresholds"]["conv_relu"]["count"] == 4
    assert not [path.name for path in tmp_path.iterdir() if path.name.startswith(".")]


def test_compare_norm_explains_missing_files(tmp_path):
    result = CliRunner().invoke(cli, ["compare-norm", str(tmp_path), "--norm", "max"])

    assert result.exit_code == 1
    assert "has no fused.keras" in result.output
    assert "Traceback" not in result.output


def test_compare_norm_rejects_bad_timesteps(run_dir):
    directory, _ = run_dir
    result = CliRunner().invoke(cli, ["compare-norm", str(directory), "--norm", "max", "-T", "16,abc"])

    assert result.exit_code == 1
    assert "comma-separated integers" in result.output


def test_compare_norm_rejects_unknown_method(run_dir):
    directory, _ = run_dir
    result = CliRunner().invoke(cli, ["compare-norm", str(directory), "--norm", "maxx"])

    assert result.exit_code == 1
    assert "channel-p<number>" in result.output
