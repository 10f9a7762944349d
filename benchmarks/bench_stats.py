"""Benchmark activation statistics against plain DNN inference over the same images.

Each side runs in a fresh subprocess, so that its peak resident memory
(``ru_maxrss``) is its own:

- ``dnn``: the fused model called on every batch inside a ``tf.function``, with
  the predicted classes fetched (plain inference, no metrics);
- ``stats``: :func:`snn_core.collect_activation_stats` over the same batches
  (layer histograms, maxima and per-channel maxima; ``--channel-histograms`` adds
  the per-channel histograms).

Both sides read the real CIFAR-10 training images (both ``train_part*.npz`` files,
shuffled with a fixed seed) through the same ``tf.data`` pipeline and build the same
untrained, batch-norm-fused model. Each times its whole call, tracing included. The
statistics side also builds its probe model and traces a larger graph, about one
second more, which weighs on the ratio only for small ``--images``. The sides alternate (dnn, stats, dnn, ...) and the
report gives medians and the median of the pairwise ratios, of wall time and of
CPU time (user and system, all threads). On a shared machine, other processes
stretch the wall time of whichever side runs beside them, while the CPU time
stays close to the work done. Results are
printed and written to ``bench-results/stats-*.json``.

Examples::

    python benchmarks/bench_stats.py                          # 50,000 images, resnet20 (long on a CPU)
    python benchmarks/bench_stats.py --images 2000 --repeats 3
    python benchmarks/bench_stats.py --images 2000 --model he_resnet20 --channel-histograms
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import harness  # noqa: E402

# Targets: statistics may take at most this much more time and memory than inference.
TIME_TARGET = 1.3
MEMORY_TARGET = 1.5
FALLBACK_MODEL = "cifar_cnn"


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    if arguments.child:
        child(arguments)
        return

    figures: dict[str, list[dict]] = {"dnn": [], "stats": []}
    for repeat in range(arguments.repeats):
        for side in ("dnn", "stats"):
            figure = run_child(side, arguments)
            figures[side].append(figure)
            print(
                f"repeat {repeat + 1}/{arguments.repeats} {side}: {figure['seconds']:.2f} s, "
                f"{figure['cpu_seconds']:.2f} CPU s, {figure['peak_rss_mib']:.0f} MiB",
                flush=True,
            )

    time_ratios = [s["seconds"] / d["seconds"] for d, s in zip(figures["dnn"], figures["stats"], strict=True)]
    cpu_ratios = [s["cpu_seconds"] / d["cpu_seconds"] for d, s in zip(figures["dnn"], figures["stats"], strict=True)]
    memory_ratios = [s["peak_rss_mib"] / d["peak_rss_mib"] for d, s in zip(figures["dnn"], figures["stats"], strict=True)]
    summary = {
        "model": figures["dnn"][0]["model"],
        "images": arguments.images,
        "batch_size": arguments.batch_size,
        "channel_histograms": arguments.channel_histograms,
        "data": figures["dnn"][0]["data"],
        "dnn_seconds_median": harness.median([f["seconds"] for f in figures["dnn"]]),
        "stats_seconds_median": harness.median([f["seconds"] for f in figures["stats"]]),
        "dnn_peak_rss_mib_median": harness.median([f["peak_rss_mib"] for f in figures["dnn"]]),
        "stats_peak_rss_mib_median": harness.median([f["peak_rss_mib"] for f in figures["stats"]]),
        "dnn_cpu_seconds_median": harness.median([f["cpu_seconds"] for f in figures["dnn"]]),
        "stats_cpu_seconds_median": harness.median([f["cpu_seconds"] for f in figures["stats"]]),
        "time_ratio_median": harness.median(time_ratios),
        "cpu_time_ratio_median": harness.median(cpu_ratios),
        "memory_ratio_median": harness.median(memory_ratios),
        "time_target": TIME_TARGET,
        "memory_target": MEMORY_TARGET,
    }
    print()
    print(
        harness.format_table(
            ["", "DNN inference", "statistics", "ratio", "target"],
            [
                ["seconds (median)", summary["dnn_seconds_median"], summary["stats_seconds_median"], summary["time_ratio_median"], TIME_TARGET],
                ["CPU seconds (median)", summary["dnn_cpu_seconds_median"], summary["stats_cpu_seconds_median"], summary["cpu_time_ratio_median"], TIME_TARGET],
                ["peak RSS, MiB (median)", summary["dnn_peak_rss_mib_median"], summary["stats_peak_rss_mib_median"], summary["memory_ratio_median"], MEMORY_TARGET],
            ],
        )
    )
    print(f"{summary['model']}, {arguments.images} images of {summary['data']}, {arguments.repeats} repeats")
    path = harness.save_results("stats", {"summary": summary, "runs": figures, "environment": harness.environment()})
    print(f"wrote {path}")


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=50_000, help="training images to process (default 50,000)")
    parser.add_argument("--model", default=None, help="zoo model (default: resnet20 if registered)")
    parser.add_argument("--batch-size", type=int, default=250, help="images per batch (default 250)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side, alternating (default 3)")
    parser.add_argument("--channel-histograms", action="store_true", help="also collect per-channel histograms")
    parser.add_argument("--child", choices=["dnn", "stats"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_child(side: str, arguments: argparse.Namespace) -> dict:
    command = [
        sys.executable, __file__, "--child", side, "--images", str(arguments.images),
        "--batch-size", str(arguments.batch_size),
    ]
    if arguments.model:
        command += ["--model", arguments.model]
    if arguments.channel_histograms:
        command.append("--channel-histograms")
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"the {side} subprocess failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def load_training_images(count: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """Return ``count`` shuffled CIFAR-10 training images (uint8 NHWC) and where they came from."""
    parts = [harness.CIFAR_DIRECTORY / f"train_part{index}.npz" for index in (0, 1)]
    if not all(path.is_file() for path in parts):
        raise SystemExit(f"the CIFAR-10 training images are missing: {parts[0]} and {parts[1]}")
    images = np.concatenate([np.load(path)["x"] for path in parts])
    order = np.random.default_rng(seed).permutation(len(images))[:count]
    return images[order], f"CIFAR-10 training images ({harness.CIFAR_DIRECTORY})"


def build_fused(name: str | None):
    from snn_core import fuse_batch_norm, get_plugins
    from snn_models import get_model_spec

    if name is None:
        name = "resnet20" if "resnet20" in get_plugins().models.names() else FALLBACK_MODEL
    if name == FALLBACK_MODEL:
        model = _cifar_cnn()
    else:
        model = get_model_spec(name).build((32, 32, 3), 10)
    fused, _ = fuse_batch_norm(model)
    return name, fused


def _cifar_cnn():
    """Build a 20-layer plain CNN for 32x32x3 images, used only when the zoo has no resnet20."""
    import keras

    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    for stage, filters in enumerate((16, 32, 64)):
        for index in range(6):
            strides = 2 if stage and index == 0 else 1
            x = keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
            x = keras.layers.BatchNormalization()(x)
            x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


def child(arguments: argparse.Namespace) -> None:
    import tensorflow as tf

    from snn_core import collect_activation_stats

    images, source = load_training_images(arguments.images)
    name, fused = build_fused(arguments.model)
    dataset = (
        tf.data.Dataset.from_tensor_slices((images, np.zeros(len(images), np.int32)))
        .batch(arguments.batch_size)
        .map(lambda x, y: (tf.cast(x, tf.float32), y))
        .prefetch(tf.data.AUTOTUNE)
    )

    if arguments.child == "dnn":
        predict = tf.function(lambda x: tf.argmax(fused(x, training=False), axis=-1))
        start, cpu_start = time.perf_counter(), time.process_time()
        for batch, _ in dataset:
            predict(batch).numpy()
    else:
        start, cpu_start = time.perf_counter(), time.process_time()
        collect_activation_stats(fused, dataset, channel_histograms=arguments.channel_histograms)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    json.dump(
        {
            "side": arguments.child,
            "model": name,
            "data": source,
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "peak_rss_mib": harness.peak_resident_mib(),
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
