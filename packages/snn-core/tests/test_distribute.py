"""Steps under a mirrored strategy over 2 logical CPUs give the one-device results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snn_core import SnnError
from snn_core.distribute import make_strategy


@pytest.fixture(scope="module")
def mirrored_results() -> dict:
    script = Path(__file__).with_name("mirrored_checks.py")
    completed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)


def test_mirrored_uses_two_replicas(mirrored_results):
    assert mirrored_results["replicas"] == 2


def test_mirrored_accuracy_equals_one_device(mirrored_results):
    assert mirrored_results["mirrored_accuracy"] == mirrored_results["default_accuracy"]


def test_mirrored_reductions_equal_one_device(mirrored_results):
    largest, count, images = mirrored_results["mirrored_reductions"]
    expected_largest, expected_count, expected_images = mirrored_results["default_reductions"]

    np.testing.assert_allclose(largest, expected_largest, rtol=1e-6)
    assert len(largest) == 10
    assert count == expected_count == 1000
    assert images == expected_images == 1000


def test_mirrored_simulation_equals_one_device(mirrored_results):
    assert mirrored_results["mirrored_samples"] == 1000
    assert mirrored_results["mirrored_snn_accuracy"] == mirrored_results["default_snn_accuracy"]
    assert mirrored_results["mirrored_spike_counts"] == mirrored_results["default_spike_counts"]


def test_mirrored_poisson_equals_one_device(mirrored_results):
    assert mirrored_results["poisson_mirrored_spike_counts"] == mirrored_results["poisson_default_spike_counts"]
    assert mirrored_results["poisson_mirrored_snn_accuracy"] == mirrored_results["poisson_default_snn_accuracy"]
    assert sum(mirrored_results["poisson_default_spike_counts"].values()) > 0


def test_bfloat16_accuracy_close_to_float32(mirrored_results):
    assert abs(mirrored_results["bfloat16_accuracy"] - mirrored_results["default_accuracy"]) <= 0.01


def test_unknown_strategy_lists_valid_names():
    with pytest.raises(SnnError, match="valid strategies: default, mirrored, multi-worker"):
        make_strategy("pods")


def test_multi_worker_without_tf_config_explains(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)

    with pytest.raises(SnnError, match="needs the TF_CONFIG environment variable"):
        make_strategy("multi-worker")
