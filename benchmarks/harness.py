"""Shared parts of the benchmarks: data, model preparation, timing and reports.

Timings are taken in one process and compared as ratios: the machine may be shared,
so an absolute time drifts from run to run while the ratio of two interleaved
measurements holds. Every figure is the median of several repeats.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent
CIFAR_DIRECTORY = REPOSITORY.parent / "shared" / "data" / "cifar10"
RESULTS_DIRECTORY = REPOSITORY / "bench-results"

# Models that are trained on the embedded digits; every other model gets
# CIFAR-10-sized images (32x32x3).
DIGITS_MODELS = ("demo_cnn",)


@dataclass
class Prepared:
    """A model ready to benchmark.

    Attributes:
        name: model name as given on the command line.
        fused: the Keras model with batch norm fused (the ANN of the comparison).
        network: the converted spiking network.
        images: float32 test images in the model's raw input units.
        labels: int32 labels of ``images``.
        conversion_seconds: wall time of fusion, statistics collection and
            conversion, each measured once.
        trained: whether the weights were trained (untrained weights are fine for
            timing, but their accuracy means nothing).
    """

    name: str
    fused: object
    network: object
    images: np.ndarray
    labels: np.ndarray
    conversion_seconds: dict[str, float]
    trained: bool


def load_test_images(model_name: str, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """Return ``count`` test images and labels for ``model_name`` and where they came from.

    Digits models get the embedded digits. Other models get CIFAR-10 test images,
    shuffled with ``seed`` because the files are sorted by class. Without the
    CIFAR-10 files they get random images of the same shape, which take the same
    time to simulate.
    """
    if model_name in DIGITS_MODELS:
        from snn_core.digits import load_arrays

        images, labels = load_arrays("test")
        return images[:count].astype(np.float32), labels[:count].astype(np.int32), "digits test split"

    path = CIFAR_DIRECTORY / "test.npz"
    if path.is_file():
        with np.load(path) as data:
            order = np.random.default_rng(seed).permutation(len(data["y"]))[:count]
            images, labels = data["x"][order], data["y"][order]
        return images.astype(np.float32), labels.astype(np.int32).reshape(-1), f"CIFAR-10 test split ({path})"

    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, 32, 32, 3)).astype(np.float32)
    labels = rng.integers(0, 10, count).astype(np.int32)
    return images, labels, f"random 32x32x3 images ({path} not found)"


def load_training_images(model_name: str, count: int, seed: int = 0) -> np.ndarray:
    """Return ``count`` training images for activation statistics (see :func:`load_test_images`)."""
    if model_name in DIGITS_MODELS:
        from snn_core.digits import load_arrays

        images, _ = load_arrays("train")
        return images[:count].astype(np.float32)

    path = CIFAR_DIRECTORY / "train_part0.npz"
    if path.is_file():
        with np.load(path) as data:
            order = np.random.default_rng(seed).permutation(len(data["y"]))[:count]
            return data["x"][order].astype(np.float32)
    return np.random.default_rng(seed + 1).integers(0, 256, (count, 32, 32, 3)).astype(np.float32)


def registered_models() -> list[str]:
    """Return the names of every model registered through the ``snn_models`` hook."""
    from snn_core import get_plugins

    return sorted(get_plugins().models.names())


def prepare(
    model_name: str,
    test_images: int,
    statistics_images: int = 1000,
    normalization: str = "p99.9",
    run_directory: Path | None = None,
) -> Prepared:
    """Build, fuse, collect statistics and convert ``model_name``, timing each step.

    With ``run_directory`` (the output of ``snn run``), the fused model and the
    converted network are loaded from it instead, and conversion is timed on the
    loaded fused model and activation statistics.
    """
    import tensorflow as tf

    from snn_core import (
        ActivationStatistics,
        batched,
        collect_activation_stats,
        convert,
        fuse_batch_norm,
        load_model,
    )

    images, labels, _source = load_test_images(model_name, test_images)
    seconds: dict[str, float] = {}

    if run_directory is not None:
        fused = load_model(run_directory / "fused.keras")
        stats = ActivationStatistics.load(run_directory / "activations.npz")
        start = time.perf_counter()
        network = convert(fused, stats, normalization=normalization)
        seconds["convert"] = time.perf_counter() - start
        return Prepared(model_name, fused, network, images, labels, seconds, trained=True)

    from snn_models import get_model_spec

    spec = get_model_spec(model_name)
    model = spec.build(tuple(images.shape[1:]), 10)

    start = time.perf_counter()
    fused, _report = fuse_batch_norm(model)
    seconds["fuse"] = time.perf_counter() - start

    training = load_training_images(model_name, statistics_images)
    dataset = batched(tf.data.Dataset.from_tensor_slices((training, np.zeros(len(training), np.int32))), 250)
    start = time.perf_counter()
    stats = collect_activation_stats(fused, dataset)
    seconds["statistics"] = time.perf_counter() - start

    start = time.perf_counter()
    network = convert(fused, stats, normalization=normalization)
    seconds["convert"] = time.perf_counter() - start
    return Prepared(model_name, fused, network, images, labels, seconds, trained=False)


def seconds_per_call(function: Callable[[], object], minimum_seconds: float = 0.3, fetch: Callable | None = None) -> float:
    """Return the mean wall time of ``function()``, calling it until ``minimum_seconds`` have passed.

    ``fetch(result)`` (default: convert every tensor to NumPy) is part of each call,
    so asynchronous work is waited for.
    """
    fetch = fetch or _fetch
    calls, start = 0, time.perf_counter()
    while True:
        fetch(function())
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= minimum_seconds:
            return elapsed / calls


def _fetch(result) -> None:
    import tensorflow as tf

    for value in tf.nest.flatten(result):
        np.asarray(value)


def interleaved(measurements: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Run each measurement once per repeat, in turn, and return every figure by name."""
    figures: dict[str, list[float]] = {name: [] for name in measurements}
    for _ in range(repeats):
        for name, measure in measurements.items():
            figures[name].append(measure())
    return figures


def median(values: list[float]) -> float:
    """Return the median of ``values``."""
    return float(statistics.median(values))


def peak_resident_mib() -> float:
    """Return this process's peak resident set size so far, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def environment() -> dict[str, object]:
    """Return the software and machine the figures were measured on."""
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on for x86)"),
    }


def save_results(name: str, document: dict, directory: Path = RESULTS_DIRECTORY) -> Path:
    """Write ``document`` to ``directory/<name>-<UTC time>.json`` and return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{name}-{stamp}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


def format_table(header: list[str], rows: list[list[object]]) -> str:
    """Format rows as a plain text table, right-aligning every column but the first."""
    cells = [header, *[[_format_cell(value) for value in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for index, row in enumerate(cells):
        parts = [row[0].ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))]
        lines.append("  ".join(parts))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _format_cell(value: object) -> str:
    if isinstance(value, float):
        if value == 0 or 0.01 <= abs(value) < 10_000:
            return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
        return f"{value:.3g}"
    return str(value)


def parse_list(text: str, convert: Callable[[str], object] = str) -> list:
    """Split a comma-separated option value."""
    return [convert(item.strip()) for item in text.split(",") if item.strip()]
