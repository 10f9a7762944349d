"""Metrics in results.json, `snn report`, and the --neuron/--encoder/--decoder options."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from snn_cli.main import cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """Train one epoch and simulate 8 steps with LIF neurons and Poisson input."""
    directory = tmp_path_factory.mktemp("report") / "run"
    arguments = ["run", "-o", str(directory), "--epochs", "1", "-T", "8", "--neuron", "lif", "--encoder", "poisson", "-q"]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    return directory


def test_results_carry_operations_and_energy(short_run):
    document = json.loads((short_run / "results.json").read_text())

    assert document["neuron"] == "lif"
    assert document["encoder"] == "poisson"
    assert document["decoder"] == "potential"
    assert document["synaptic_operations_per_image"] > 0
    # Poisson input is spikes, so the first convolution does accumulates, not MACs.
    assert document["snn_multiply_accumulates_per_image"] == 0
    assert document["ann_multiply_accumulates_per_image"] == sum(document["ann_multiply_accumulates_per_layer"].values())
    assert document["synaptic_operations_to_ann_macs"] == pytest.approx(
        document["synaptic_operations_per_image"] / document["ann_multiply_accumulates_per_image"]
    )
    assert len(document["cumulative_synaptic_operations_per_image_per_step"]) == 8
    assert document["energy"]["mac_pj"] == 4.6
    assert document["energy"]["ac_pj"] == 0.9
    assert "first_t_within_1_point" in document


def test_report_prints_tables_and_plots(short_run):
    result = CliRunner().invoke(cli, ["report", str(short_run)])

    assert result.exit_code == 0, result.output
    assert "SNN, T = 8" in result.output
    assert "spikes/neuron/step" in result.output
    assert "SynOps / ANN MACs" in result.output
    assert "Horowitz" in result.output
    for name in ("accuracy.png", "firing_rates.png"):
        assert (short_run / name).read_bytes()[:8] == PNG_SIGNATURE, name


def test_simulate_swaps_neuron_and_decoder(short_run, tmp_path):
    output = tmp_path / "results.json"
    arguments = [
        "simulate", str(short_run / "snn"), "-T", "8", "--neuron", "if_zero", "--encoder", "rate",
        "--decoder", "spikes", "-o", str(output),
    ]

    result = CliRunner().invoke(cli, arguments)

    assert result.exit_code == 0, result.output
    document = json.loads(output.read_text())
    assert (document["neuron"], document["encoder"], document["decoder"]) == ("if_zero", "rate", "spikes")
    # Spike counts of 8 steps already beat chance on the digits.
    assert document["snn_accuracy"] > 0.3


def test_report_without_results_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["report", str(tmp_path)])

    assert result.exit_code == 1
    assert "no results.json" in result.output
    assert "Traceback" not in result.output


def test_unknown_decoder_is_rejected(tmp_path):
    result = CliRunner().invoke(cli, ["run", "-o", str(tmp_path / "run"), "--decoder", "rates"])

    assert result.exit_code != 0
    assert "potential" in result.output
