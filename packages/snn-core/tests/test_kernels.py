"""The compiled integrate-and-fire kernel: its build, its cache, its fallback and its arithmetic."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from snn_core import kernels
from snn_core.neurons import IF_SUBTRACT, IF_ZERO, LIF

needs_compiler = pytest.mark.skipif(kernels.find_compiler() is None, reason="no C++ compiler on this machine")


@needs_compiler
def test_library_loads_where_compiler_exists():
    assert kernels.enabled(), "SNN_KERNELS turns the kernels off in this environment"
    assert kernels.load_library() is not None


@needs_compiler
@pytest.mark.parametrize("model", [IF_SUBTRACT, IF_ZERO, LIF], ids=lambda model: model.name)
@pytest.mark.parametrize("threshold", [np.float32(0.7), np.array([0.5, 1.0, 2.0], np.float32)], ids=["scalar", "channels"])
def test_kernel_equals_step_bit_for_bit(model, threshold):
    parameters = model.parameters.__class__(v_threshold=threshold, v_initial=0.5)
    update = model.fused_update(parameters)
    rng = np.random.default_rng(1)
    shape = (4, 5, 3)

    reference = fused = model.initial_state(tf.TensorShape(shape), parameters)
    spike_total = 0.0
    for _ in range(60):
        current = tf.constant(rng.normal(0.3, 1.0, shape).astype(np.float32))
        spikes, reference = model.step(current, reference, parameters)
        outputs, fused = update(current, fused)

        np.testing.assert_array_equal(outputs.numpy(), (spikes * threshold).numpy())
        np.testing.assert_array_equal(fused.v.numpy(), reference.v.numpy())
        spike_total += float(tf.reduce_sum(spikes))

    assert spike_total > 0


@needs_compiler
def test_kernel_rejects_mismatched_shapes():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"same shape, got \[2,3\] and \[3,2\]"):
        kernels.integrate_and_fire(tf.zeros([2, 3]), tf.zeros([3, 2]), np.float32(1.0))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"one per channel \(3\), got 2"):
        kernels.integrate_and_fire(tf.zeros([2, 3]), tf.zeros([2, 3]), np.ones(2, np.float32))


@needs_compiler
def test_build_reuses_cached_library(tmp_path):
    first = kernels.build(tmp_path)
    built_at = first.stat().st_mtime_ns

    second = kernels.build(tmp_path)

    assert second == first
    assert second.stat().st_mtime_ns == built_at
    assert sorted(path.name for path in tmp_path.iterdir()) == [first.with_suffix(".sha256").name, first.name]


@needs_compiler
def test_build_replaces_damaged_library(tmp_path):
    # A compiler command with an argument, split like a shell's.
    compiler = f"env {kernels.find_compiler()}"
    library = kernels.build(tmp_path, compiler=compiler)
    size = library.stat().st_size
    library.write_bytes(library.read_bytes()[:1000])

    rebuilt = kernels.build(tmp_path, compiler=compiler)

    assert rebuilt == library
    assert rebuilt.stat().st_size == size
    assert not list(tmp_path.glob(f"{kernels.TEMPORARY_PREFIX}*"))


@pytest.mark.parametrize(
    ("compiler", "message"),
    [
        ("false", "failed with exit status 1"),
        ("/no/such/c++", "failed to start"),
        ("true", "exited with status 0 but wrote no library"),
        ("   ", "is empty"),
        ('g++ "-O2', "is invalid"),
    ],
)
def test_failed_build_leaves_no_file(tmp_path, compiler, message):
    with pytest.raises(kernels.KernelBuildError, match=message):
        kernels.build(tmp_path, compiler=compiler)

    assert list(tmp_path.iterdir()) == []


def test_unwritable_cache_is_build_error(tmp_path):
    cache = tmp_path / "file"
    cache.write_text("not a directory")

    with pytest.raises(kernels.KernelBuildError, match=f"the kernel cache {cache} is not writable.*Set SNN_CACHE_DIR"):
        kernels.build(cache, compiler="c++")


def test_build_deletes_stale_temporary_files(tmp_path):
    stale = tmp_path / f"{kernels.TEMPORARY_PREFIX}killed.so"
    recent = tmp_path / f"{kernels.TEMPORARY_PREFIX}running.so"
    stale.write_bytes(b"")
    recent.write_bytes(b"")
    old = time.time() - kernels.STALE_SECONDS - 60
    os.utime(stale, (old, old))

    with pytest.raises(kernels.KernelBuildError):
        kernels.build(tmp_path, compiler="false")

    assert not stale.exists()
    assert recent.exists()


def test_interrupted_build_leaves_no_file(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(kernels.subprocess, "run", interrupted)

    with pytest.raises(KeyboardInterrupt):
        kernels.build(tmp_path, compiler="c++")

    assert list(tmp_path.iterdir()) == []


def test_unavailable_kernels_fall_back_with_warning(tmp_path):
    # A fresh process, because the library is loaded once per process.
    script = (
        "import numpy as np, tensorflow as tf\n"
        "from snn_core import kernels\n"
        "from snn_core.neurons import IF_SUBTRACT, IFParameters\n"
        "assert kernels.load_library() is None\n"
        "assert IF_SUBTRACT.fused_update(IFParameters()) is None\n"
        "print('fell back')\n"
    )
    environment = {**os.environ, "CXX": "false", kernels.CACHE_VARIABLE: str(tmp_path), kernels.SWITCH_VARIABLE: "1"}

    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, timeout=300)

    assert completed.returncode == 0, completed.stderr
    assert "fell back" in completed.stdout
    assert "compiled neuron kernels are not available" in completed.stderr
    assert "set CXX to a working C++ compiler" in completed.stderr
    assert "failed with exit status 1" in completed.stderr
    assert list((tmp_path / "kernels").iterdir()) == []


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("1", True), ("0", False), ("off", False), ("False", False)])
def test_switch_variable(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(kernels.SWITCH_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(kernels.SWITCH_VARIABLE, value)

    assert kernels.enabled() is expected


def test_cache_directory_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(kernels.CACHE_VARIABLE, str(tmp_path / "explicit"))
    assert kernels.cache_directory() == tmp_path / "explicit" / "kernels"

    monkeypatch.delenv(kernels.CACHE_VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert kernels.cache_directory() == tmp_path / "xdg" / "snn" / "kernels"
