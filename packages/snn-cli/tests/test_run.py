"""`snn run` end to end on the embedded digits, and its errors for bad input."""

from __future__ import annotations

import json

import keras
import pytest
from click.testing import CliRunner

from snn_cli.main import cli


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """Run the default pipeline once at T = 64 and return the run directory and output."""
    directory = tmp_path_factory.mktemp("demo") / "run"
    result = CliRunner().invoke(cli, ["run", "--output", str(directory), "--timesteps", "64"])
    assert result.exit_code == 0, result.output
    return directory, result.output


def test_run_writes_every_artifact(demo_run):
    directory, _ = demo_run

    for name in ("model.keras", "training.json", "dnn.json", "fused.keras", "fusion.json", "activations.npz", "results.json"):
        assert (directory / name).is_file(), name
    assert (directory / "snn" / "config.json").is_file()
    assert not [path.name for path in directory.iterdir() if path.name.startswith(".")]


def test_run_results_meet_accuracy_targets(demo_run):
    directory, _ = demo_run
    results = json.loads((directory / "results.json").read_text())

    assert results["timesteps"] == 64
    assert len(results["snn_accuracy_per_step"]) == 64
    assert results["dnn_accuracy"] > 0.95
    assert results["fused_accuracy"] == results["dnn_accuracy"]
    assert results["fusion_max_relative_difference"] < 1e-4
    assert results["snn_accuracy_per_step"][-1] >= results["dnn_accuracy"] - 0.01
    assert results["first_t_within_1_point"] <= 64


def test_run_prints_accuracy_table(demo_run):
    _, output = demo_run

    assert "DNN, batch norm fused" in output
    for t in (1, 2, 4, 8, 16, 32, 64):
        assert f"SNN, T = {t}\n" in output or f"SNN, T = {t} " in output
    assert "first T within 1 point of the DNN:" in output


@pytest.mark.parametrize("chunking", [[], ["--chunk-size", "7"]], ids=["default-chunks", "chunks-of-7"])
def test_simulate_command_reuses_run_artifacts(demo_run, tmp_path, chunking):
    directory, _ = demo_run
    output = tmp_path / "again.json"

    command = ["simulate", str(directory / "snn"), "--timesteps", "8", "--output", str(output), *chunking]
    result = CliRunner().invoke(cli, command)

    assert result.exit_code == 0, result.output
    first_run = json.loads((directory / "results.json").read_text())
    again = json.loads(output.read_text())
    assert again["snn_accuracy_per_step"] == first_run["snn_accuracy_per_step"][:8]
    assert again["chunk_size"] == (7 if chunking else first_run["chunk_size"])


def test_simulate_without_kernels_warns(demo_run, tmp_path, monkeypatch):
    from snn_core import kernels

    def failing_build(directory):
        raise kernels.KernelBuildError("the C++ compiler 'c++' failed with exit status 1: test")

    directory, _ = demo_run
    output = tmp_path / "fallback.json"
    monkeypatch.setattr(kernels, "build", failing_build)
    kernels.load_library.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["simulate", str(directory / "snn"), "--timesteps", "8", "--output", str(output)])
    finally:
        kernels.load_library.cache_clear()

    assert result.exit_code == 0, result.output
    assert result.stderr.count("warning: the compiled neuron kernels are not available") == 1
    assert "failed with exit status 1: test" in result.stderr
    first_run = json.loads((directory / "results.json").read_text())
    assert json.loads(output.read_text())["snn_accuracy_per_step"] == first_run["snn_accuracy_per_step"][:8]


def _single_line_error(result) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    return lines[0]


def test_unknown_dataset_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["run", "--dataset", "nope", "--output", str(tmp_path / "run")])

    line = _single_line_error(result)
    assert "'nope'" in line
    assert "valid datasets:" in line
    assert "digits" in line
    assert not (tmp_path / "run").exists()


def test_missing_model_is_one_line():
    result = CliRunner().invoke(cli, ["evaluate", "missing.keras"])

    line = _single_line_error(result)
    assert "missing.keras" in line
    assert "not found" in line


def test_lstm_model_is_one_line(tmp_path):
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Reshape((28, 28))(inputs)
    x = keras.layers.LSTM(16, name="rnn")(x)
    model = keras.Model(inputs, keras.layers.Dense(10)(x))
    model.save(tmp_path / "lstm.keras")

    result = CliRunner().invoke(cli, ["run", "--model-file", str(tmp_path / "lstm.keras"), "--output", str(tmp_path / "run")])

    line = _single_line_error(result)
    assert "LSTM" in line
    assert ": rnn" in line
    assert "snn_layer_converters" in line
    assert not (tmp_path / "run").exists()


def test_unknown_normalization_lists_methods(tmp_path):
    result = CliRunner().invoke(cli, ["run", "--norm", "median", "--output", str(tmp_path / "run")])

    line = _single_line_error(result)
    assert "'median'" in line
    assert "max" in line
    assert "p<number>" in line


def test_dataset_shape_mismatch_is_one_line(demo_run):
    directory, _ = demo_run

    result = CliRunner().invoke(cli, ["evaluate", str(directory / "model.keras"), "--dataset", "cifar10-npz"])

    line = _single_line_error(result)
    assert "expects images of shape 28x28x1" in line
    assert "'cifar10-npz' has 32x32x3" in line


def test_percentile_out_of_range_fails_first(tmp_path):
    result = CliRunner().invoke(cli, ["run", "--norm", "p200", "--output", str(tmp_path / "run")])

    line = _single_line_error(result)
    assert "'p200'" in line
    assert "(0, 100]" in line
    assert not (tmp_path / "run").exists()
