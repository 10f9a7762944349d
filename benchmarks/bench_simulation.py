"""Benchmark the simulator against the ANN it was converted from.

For every model and batch size this measures, in one process and interleaved:

- seconds per ANN forward pass (the fused Keras model called inside a
  ``tf.function``, TensorFlow's default CPU kernels),
- seconds per SNN time step (one simulation of T steps, divided by T),
- their ratio, taken pair by pair and reported as the median,
- images times time steps per second of the simulator,

and per model the time to fuse, collect statistics and convert, and how the step
time and the peak resident memory scale with T (memory in a fresh process per T).
Results are printed as tables and written to ``bench-results/simulation-*.json``.

Examples::

    python benchmarks/bench_simulation.py                        # everything (several minutes)
    python benchmarks/bench_simulation.py --quick                # demo CNN only, about a minute
    python benchmarks/bench_simulation.py --models resnet20 --batches 256 --ratio-timesteps 16
    python benchmarks/bench_simulation.py --modes default,unchunked,fused,xla   # compare simulator modes

Untrained zoo models are used unless ``--run-directory`` names the output of
``snn run``: weights do not change the time of a dense simulation, only its
accuracy, which this benchmark does not report.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

# Simulator options of each mode; "default" is what `snn simulate` uses.
# "unchunked" simulates the whole batch at once instead of in cache-sized chunks.
# "tensorflow" advances neurons with TensorFlow's operations instead of the compiled kernel.
MODES = {
    "default": {},
    "unchunked": {"chunk_size": 1 << 24},
    "tensorflow": {"compiled_kernels": False},
    "fused": {"fuse_neurons": True},
    "xla": {"jit_compile": True},
}
FALLBACK_CIFAR_MODEL = "cifar_cnn"


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    if arguments.memory_child:
        memory_child(arguments)
        return

    import tensorflow as tf

    from snn_core import SnnError

    if arguments.threads:
        tf.config.threading.set_intra_op_parallelism_threads(arguments.threads)

    models = choose_models(arguments.models)
    document: dict = {"benchmark": "simulation", "environment": harness.environment(), "arguments": vars(arguments)}
    document["models"] = {}
    for model_name in models:
        print(f"\n== {model_name}", flush=True)
        try:
            document["models"][model_name] = benchmark_model(model_name, arguments)
        except (SnnError, ValueError) as error:
            # A zoo model that cannot be built for 32x32 images or converted is
            # reported and skipped, so one model does not end the whole run.
            print(f"skipped {model_name}: {error}", flush=True)
            document["models"][model_name] = {"error": str(error)}

    path = harness.save_results("simulation", document)
    print(f"\nwrote {path}")


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="demo_cnn,resnet20,he_resnet20",
                        help="comma-separated model names, or 'zoo' for every registered model; a CIFAR model that "
                        f"is not registered is replaced by a plain 20-layer CNN built here ({FALLBACK_CIFAR_MODEL})")
    parser.add_argument("--batches", default="32,256", help="batch sizes for the step/forward ratio")
    parser.add_argument("--demo-batches", default="32,256,1000", help="batch sizes for the digits models")
    parser.add_argument("--ratio-timesteps", type=int, default=64, help="T of the runs that measure the ratio")
    parser.add_argument("--timesteps", default="32,128,512", help="T values of the scaling table")
    parser.add_argument("--scaling-batch", type=int, default=32, help="batch size of the scaling table")
    parser.add_argument("--repeats", type=int, default=None,
                        help="interleaved repeats per figure, median reported (default 5, or 3 with --quick)")
    parser.add_argument("--modes", default="default", help=f"simulator modes to time: {', '.join(MODES)}")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak memory runs (one process per T)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling table")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: TensorFlow's default)")
    parser.add_argument("--run-directory", type=Path, help="output of `snn run` to take the demo CNN from")
    parser.add_argument("--statistics-images", type=int, default=1000,
                        help="training images for activation statistics (fewer: faster for large models)")
    parser.add_argument("--quick", action="store_true",
                        help="demo CNN only, batch 1000, T = 128, 3 repeats, scaling at T = 32 and 512")
    parser.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--memory-model", help=argparse.SUPPRESS)
    parser.add_argument("--memory-batch", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--memory-timesteps", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.quick:
        arguments.models, arguments.demo_batches, arguments.ratio_timesteps = "demo_cnn", "1000", 128
        arguments.timesteps = "32,512"
        arguments.repeats = arguments.repeats or 3
    arguments.repeats = arguments.repeats or 5
    for mode in harness.parse_list(arguments.modes):
        if mode not in MODES:
            parser.error(f"unknown mode {mode!r}; valid modes: {', '.join(MODES)}")
    return arguments


def choose_models(names: str) -> list[str]:
    registered = set(harness.registered_models())
    if names == "zoo":
        return sorted(registered)
    chosen = []
    for name in harness.parse_list(names):
        if name in registered or name == FALLBACK_CIFAR_MODEL:
            chosen.append(name)
        elif name in harness.DIGITS_MODELS:
            raise SystemExit(f"model {name!r} is not registered; install snn-models")
        else:
            print(f"model {name!r} is not registered; benchmarking {FALLBACK_CIFAR_MODEL!r} in its place")
            if FALLBACK_CIFAR_MODEL not in chosen:
                chosen.append(FALLBACK_CIFAR_MODEL)
    return chosen


def build_cifar_cnn(input_shape: tuple[int, ...], num_classes: int):
    """Return a plain CNN of ResNet20's depth and widths (19 convolutions, 16/32/64 channels)."""
    import keras

    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Rescaling(1 / 255.0, name="rescale")(inputs)
    index = 0
    for stage, filters in enumerate((16, 32, 64)):
        for layer in range(7 if stage == 0 else 6):
            index += 1
            strides = 2 if stage > 0 and layer == 0 else 1
            x = keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"conv{index}")(x)
            x = keras.layers.BatchNormalization(name=f"conv{index}_bn")(x)
            x = keras.layers.ReLU(name=f"conv{index}_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=FALLBACK_CIFAR_MODEL)


def prepare_model(model_name: str, arguments: argparse.Namespace, test_images: int) -> harness.Prepared:
    if model_name == FALLBACK_CIFAR_MODEL:
        return prepare_fallback(test_images)
    run_directory = arguments.run_directory if model_name == "demo_cnn" else None
    return harness.prepare(model_name, test_images, arguments.statistics_images, run_directory=run_directory)


def prepare_fallback(test_images: int) -> harness.Prepared:
    import time

    import tensorflow as tf

    from snn_core import batched, collect_activation_stats, convert, fuse_batch_norm

    images, labels, _ = harness.load_test_images(FALLBACK_CIFAR_MODEL, test_images)
    model = build_cifar_cnn(images.shape[1:], 10)
    seconds = {}
    start = time.perf_counter()
    fused, _ = fuse_batch_norm(model)
    seconds["fuse"] = time.perf_counter() - start
    training = harness.load_training_images(FALLBACK_CIFAR_MODEL, 1000)
    start = time.perf_counter()
    stats = collect_activation_stats(
        fused, batched(tf.data.Dataset.from_tensor_slices((training, np.zeros(len(training), np.int32))), 250)
    )
    seconds["statistics"] = time.perf_counter() - start
    start = time.perf_counter()
    network = convert(fused, stats)
    seconds["convert"] = time.perf_counter() - start
    return harness.Prepared(FALLBACK_CIFAR_MODEL, fused, network, images, labels, seconds, trained=False)


def benchmark_model(model_name: str, arguments: argparse.Namespace) -> dict:
    import tensorflow as tf

    from snn_core import Simulator

    digits = model_name in harness.DIGITS_MODELS
    batches = harness.parse_list(arguments.demo_batches if digits else arguments.batches, int)
    scaling_timesteps = [] if arguments.no_scaling else harness.parse_list(arguments.timesteps, int)
    modes = harness.parse_list(arguments.modes)
    prepared = prepare_model(model_name, arguments, max([*batches, arguments.scaling_batch]))
    result: dict = {"conversion_seconds": prepared.conversion_seconds, "trained_weights": prepared.trained}
    print("conversion: " + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in prepared.conversion_seconds.items()))

    ann = tf.function(lambda images: prepared.fused(images, training=False))
    simulators = {mode: Simulator(prepared.network, **MODES[mode]) for mode in modes}
    result["chunk_size"] = {mode: simulator.chunk_size for mode, simulator in simulators.items()}
    print("chunk size: " + ", ".join(f"{mode} {size}" for mode, size in result["chunk_size"].items()))
    result["compiled_kernels"] = {mode: simulator.compiled_kernels for mode, simulator in simulators.items()}
    print("compiled kernels: " + ", ".join(f"{mode} {'yes' if used else 'no'}" for mode, used in result["compiled_kernels"].items()))

    rows, result["batches"] = [], {}
    for batch in batches:
        images = tf.constant(prepared.images[:batch])
        labels = tf.constant(prepared.labels[:batch])
        figures = time_batch(ann, simulators, images, labels, arguments.ratio_timesteps, arguments.repeats)
        result["batches"][str(batch)] = figures
        for mode in modes:
            rows.append([mode, batch, arguments.ratio_timesteps, figures["ann_seconds"] * 1e3,
                         figures[mode]["step_seconds"] * 1e3, figures[mode]["ratio"],
                         figures[mode]["image_steps_per_second"]])
        print(harness.format_table(
            ["mode", "batch", "T", "ANN forward ms", "SNN step ms", "step / forward", "images x steps / s"], rows[-len(modes):]
        ), flush=True)

    if scaling_timesteps:
        result["scaling"] = scale_with_timesteps(ann, simulators["default" if "default" in modes else modes[0]],
                                                 prepared, arguments, scaling_timesteps)
    return result


def time_batch(ann, simulators: dict, images, labels, timesteps: int, repeats: int) -> dict:
    """Time the ANN and every simulator mode on one batch, interleaved; return medians and ratios."""
    import time

    import tensorflow as tf

    steps = tf.constant(timesteps, tf.int32)
    ann(images)
    longest = 0.0
    for simulator in simulators.values():
        simulator._run(images, labels, steps, tf.constant(0))
        start = time.perf_counter()
        harness.seconds_per_call(lambda simulator=simulator: simulator._run(images, labels, steps, tf.constant(0)), 0.0)
        longest = max(longest, time.perf_counter() - start)

    # The ANN is timed for as long as one simulation takes, so both sides of a pair
    # meet the same stretch of load from other jobs. The 10 s cap bounds the run
    # time for large models.
    ann_window = min(max(0.3, longest), 10.0)
    measurements = {"ann": lambda: harness.seconds_per_call(lambda: ann(images), ann_window)}
    for mode, simulator in simulators.items():
        measurements[mode] = (
            lambda simulator=simulator: harness.seconds_per_call(lambda: simulator._run(images, labels, steps, tf.constant(0)), 0.0) / timesteps
        )
    raw = harness.interleaved(measurements, repeats)

    batch = int(images.shape[0])
    figures: dict = {"ann_seconds": harness.median(raw["ann"]), "ann_seconds_all": raw["ann"], "timesteps": timesteps}
    for mode in simulators:
        ratios = [step / forward for step, forward in zip(raw[mode], raw["ann"], strict=True)]
        step = harness.median(raw[mode])
        figures[mode] = {
            "step_seconds": step,
            "step_seconds_all": raw[mode],
            "ratio": harness.median(ratios),
            "ratio_all": ratios,
            "image_steps_per_second": batch / step,
        }
    return figures


def scale_with_timesteps(ann, simulator, prepared: harness.Prepared, arguments, timesteps: list[int]) -> dict:
    """Time one batch at every T (interleaved with the ANN) and measure peak memory per T."""
    import tensorflow as tf

    batch = arguments.scaling_batch
    images, labels = tf.constant(prepared.images[:batch]), tf.constant(prepared.labels[:batch])
    ann(images)
    simulator._run(images, labels, tf.constant(1), tf.constant(0))

    measurements = {"ann": lambda: harness.seconds_per_call(lambda: ann(images))}
    for t in timesteps:
        steps = tf.constant(t)
        measurements[f"T={t}"] = (
            lambda steps=steps, t=t: harness.seconds_per_call(lambda: simulator._run(images, labels, steps, tf.constant(0)), 0.0) / t
        )
    raw = harness.interleaved(measurements, max(1, arguments.repeats // 2))

    memory = {} if arguments.no_memory else measure_memory(prepared, batch, timesteps)
    scaling, rows = {}, []
    for t in timesteps:
        ratios = [step / forward for step, forward in zip(raw[f"T={t}"], raw["ann"], strict=True)]
        entry = {"step_seconds": harness.median(raw[f"T={t}"]), "ratio": harness.median(ratios), **memory.get(t, {})}
        scaling[str(t)] = entry
        rows.append([t, batch, entry["step_seconds"] * 1e3, entry["ratio"], batch / entry["step_seconds"],
                     entry.get("peak_mib", "-"), entry.get("simulation_mib", "-")])
    print(harness.format_table(
        ["T", "batch", "SNN step ms", "step / forward", "images x steps / s", "peak RSS MiB", "RSS growth in run MiB"], rows
    ), flush=True)
    if memory and len(timesteps) > 1:
        first, last = memory[timesteps[0]]["peak_mib"], memory[timesteps[-1]]["peak_mib"]
        scaling["peak_memory_ratio_last_to_first"] = last / first
        print(f"peak memory at T = {timesteps[-1]} / at T = {timesteps[0]}: {last / first:.3f}")
    return scaling


def measure_memory(prepared: harness.Prepared, batch: int, timesteps: list[int]) -> dict[int, dict]:
    """Run one simulation per T in a fresh process and return its peak resident memory."""
    figures = {}
    with tempfile.TemporaryDirectory() as directory:
        prepared.network.save(Path(directory) / "snn")
        for t in timesteps:
            command = [sys.executable, __file__, "--memory-child", str(Path(directory) / "snn"),
                       "--memory-model", prepared.name, "--memory-batch", str(batch), "--memory-timesteps", str(t)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            figures[t] = json.loads(output.strip().splitlines()[-1])
    return figures


def memory_child(arguments: argparse.Namespace) -> None:
    """Simulate one batch for T steps and print peak memory as JSON (run in a fresh process)."""
    import tensorflow as tf

    from snn_core import Simulator, SpikingNetwork

    network = SpikingNetwork.load(arguments.memory_child)
    images, labels, _ = harness.load_test_images(arguments.memory_model, arguments.memory_batch)
    simulator = Simulator(network)
    images, labels = tf.constant(images), tf.constant(labels)

    # One step first, so that tracing and compilation are in the baseline.
    simulator._run(images, labels, tf.constant(1), tf.constant(0))
    before = harness.peak_resident_mib()
    simulator._run(images, labels, tf.constant(arguments.memory_timesteps), tf.constant(0))
    after = harness.peak_resident_mib()
    print(json.dumps({"peak_mib": after, "simulation_mib": after - before}))


if __name__ == "__main__":
    main()
