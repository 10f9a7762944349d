"""Benchmark the model zoo: size, fusion error, conversion and SNN step time per model.

For every model this builds it with random weights and random non-trivial
batch-norm statistics, then reports:

- parameters (Keras ``count_params``, trainable plus non-trainable),
- the largest relative difference between fused and unfused logits on real
  CIFAR-10 test images (random images when the files are absent),
- whether conversion succeeds (or the first part of its error),
- seconds per SNN time step at the given batch size, the median of several
  simulations of T steps after one compiling run.

The table is printed and written to ``bench-results/zoo-<time>.json``. Timings are
absolute seconds on the machine that runs the script; compare them only within
one run.

Examples::

    python benchmarks/bench_zoo.py                          # every CIFAR model
    python benchmarks/bench_zoo.py --models resnet20,vgg16 --batch 32 --timesteps 8
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent
CIFAR_TEST = REPOSITORY.parent / "shared" / "data" / "cifar10" / "test.npz"
RESULTS_DIRECTORY = REPOSITORY / "bench-results"
CIFAR_MODELS = [
    "vgg16", "vgg16_maxpool",
    *(f"resnet{depth}{form}" for depth in (20, 32, 44, 56, 18, 34, 50) for form in ("", "v2")),
    *(f"he_resnet{depth}" for depth in (20, 32, 44, 56, 110)),
]


def load_images(count: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Return ``count`` shuffled CIFAR-10 test images (float32 0..255), labels and their source."""
    if CIFAR_TEST.is_file():
        with np.load(CIFAR_TEST) as data:
            order = np.random.default_rng(0).permutation(len(data["y"]))[:count]
            return data["x"][order].astype(np.float32), data["y"][order].astype(np.int32), str(CIFAR_TEST)
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, (count, 32, 32, 3)).astype(np.float32), rng.integers(0, 10, count).astype(np.int32), "random"


def randomize_batch_norms(model, seed: int = 0) -> None:
    import keras

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.gamma.shape[0]
            layer.set_weights([
                rng.uniform(0.5, 1.5, channels), rng.normal(0.0, 0.2, channels),
                rng.normal(0.0, 0.2, channels), rng.uniform(0.5, 2.0, channels),
            ])


def measure(name: str, images: np.ndarray, labels: np.ndarray, batch: int, timesteps: int, repeats: int) -> dict:
    import keras
    import tensorflow as tf

    import snn_models
    from snn_core import Simulator, SnnError, check_fusion, collect_activation_stats, convert, fuse_batch_norm

    keras.backend.clear_session()
    model = snn_models.build(name, (32, 32, 3), 10)
    randomize_batch_norms(model)
    row = {"model": name, "parameters": int(model.count_params())}

    fused, report = fuse_batch_norm(model)
    check = check_fusion(model, fused, images, tolerance=float("inf"))
    row.update(
        max_relative_difference=check.max_relative_difference,
        batch_norms_folded=len(report.folded),
        batch_norms_kept=len(report.kept),
    )

    try:
        stats = collect_activation_stats(fused, tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch))
        network = convert(fused, stats, normalization="p99.9")
    except SnnError as error:
        row.update(conversion=f"failed: {str(error)[:120]}", seconds_per_step=None)
        return row

    simulator = Simulator(network)
    data = tf.data.Dataset.from_tensor_slices((images[:batch], labels[:batch])).batch(batch)
    simulator.run(data, timesteps)  # compiles the step loop
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        simulator.run(data, timesteps)
        durations.append((time.perf_counter() - start) / timesteps)
    row.update(conversion="ok", seconds_per_step=statistics.median(durations), neuron_layers=len(network.thresholds))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(CIFAR_MODELS), help="comma-separated zoo model names")
    parser.add_argument("--batch", type=int, default=32, help="images per simulated batch")
    parser.add_argument("--timesteps", type=int, default=8, help="time steps per timed simulation")
    parser.add_argument("--repeats", type=int, default=3, help="timed simulations per model (median reported)")
    arguments = parser.parse_args()

    images, labels, source = load_images(max(arguments.batch, 32))
    rows = []
    header = f"{'model':<15} {'parameters':>11} {'fused vs unfused':>17} {'conversion':>11} {'s / step':>9}"
    print(header)
    print("-" * len(header))
    for name in arguments.models.split(","):
        row = measure(name, images, labels, arguments.batch, arguments.timesteps, arguments.repeats)
        rows.append(row)
        step = f"{row['seconds_per_step']:.4f}" if row["seconds_per_step"] is not None else "-"
        conversion = "ok" if row["conversion"] == "ok" else "failed"
        print(
            f"{name:<15} {row['parameters'] / 1e6:>10.2f}M {row['max_relative_difference']:>17.2e} "
            f"{conversion:>11} {step:>9}",
            flush=True,
        )

    RESULTS_DIRECTORY.mkdir(exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIRECTORY / f"zoo-{stamp}.json"
    document = {
        "benchmark": "zoo",
        "batch": arguments.batch,
        "timesteps": arguments.timesteps,
        "repeats": arguments.repeats,
        "images": source,
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "python": platform.python_version()},
        "rows": rows,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
