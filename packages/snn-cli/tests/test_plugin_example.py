"""The example plugin distribution installed into a fresh virtual environment."""

from __future__ import annotations

import json
import os
import site
import subprocess
import venv
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[3]
EXAMPLE = REPOSITORY / "examples" / "snn-plugin-example"


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory) -> Path:
    """Create a virtual environment that reuses this one's packages and contains the example plugin.

    A ``.pth`` line adds the running environment's site-packages (with their own
    ``.pth`` files, so editable installs work) instead of downloading TensorFlow again.
    """
    directory = tmp_path_factory.mktemp("plugin") / "venv"
    venv.create(directory, with_pip=False)
    python = directory / "bin" / "python"
    target = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True).strip())
    paths = [path for path in site.getsitepackages() if Path(path).is_dir()]
    (target / "_reuse_parent.pth").write_text("".join(f"import site; site.addsitedir({path!r})\n" for path in paths))

    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", str(EXAMPLE)],
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    return python


def _snn(python: Path, *arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, "-m", "snn_cli.main", *arguments], capture_output=True, text=True, cwd=cwd,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )


def test_plugins_lists_example(plugin_venv, tmp_path):
    result = _snn(plugin_venv, "plugins", "--json", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    infos = {info["name"]: info for info in json.loads(result.stdout)}
    assert infos["example"]["distribution"] == "snn-plugin-example"
    assert infos["example"]["contributions"]["neuron models"] == ["example_if_floor"]
    assert infos["example"]["contributions"]["normalization methods"] == ["example_channel_max"]
    assert infos["example"]["contributions"]["datasets"] == ["example_digits_inverted"]


def test_run_with_example_neuron(plugin_venv, tmp_path):
    output = tmp_path / "run"
    result = _snn(
        plugin_venv, "run", "-o", str(output), "--epochs", "1", "-T", "8", "--neuron", "example_if_floor",
        "--norm", "example_channel_max", "-q", cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    document = json.loads((output / "results.json").read_text())
    assert document["neuron"] == "example_if_floor"
    assert document["normalization"] == "example_channel_max"
    assert document["snn_accuracy"] > 0.5


def test_example_own_tests_pass(plugin_venv, tmp_path):
    result = subprocess.run(
        [plugin_venv, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        capture_output=True, text=True, cwd=tmp_path,
    )

    assert result.returncode == 0, result.stdout[-3000:]

