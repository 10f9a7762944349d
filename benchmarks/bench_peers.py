"""Benchmark the simulator against SpikingJelly on the same converted network.

The demo CNN trained by ``snn run`` (batch norm fused, thresholds from the same
99.9th-percentile normalization) is simulated twice in one process on the same
test digits for the same T:

- by this project's simulator (analog input, integrate-and-fire neurons with reset
  by subtraction, output layer summed over time);
- by SpikingJelly: the same weights copied into ``torch.nn`` layers, with
  SpikingJelly's ``IFNode`` after every ReLU (``v_reset=None`` is reset by
  subtraction, with the layer's threshold). Each spike is multiplied by its
  threshold, as our converter does. The network runs in SpikingJelly's usual
  single-step loop: the whole network once per time step, then
  ``functional.reset_net``.

Both sides therefore compute the same dynamics, and their accuracy after every step
should agree up to float rounding of the two libraries' convolutions. A second
SpikingJelly variant computes the first convolution once before the loop, as our
simulator does under analog input, so the speed-up from that alone can be told
apart from the rest, and a third also simulates the images in chunks of our
simulator's chunk size, as ours does to keep its state in the CPU's caches.

Reported: seconds per time step, images times steps per second, the throughput
ratio, accuracy at T = 8, 16, 32, 64, 128 on both sides, and peak resident memory
of the whole process. Needs ``torch`` and ``spikingjelly`` (``./dev nox -s
bench-peers`` installs them into its own environment; they are not dependencies of
any workspace package).

Examples::

    python benchmarks/bench_peers.py                              # trains the demo CNN with `snn run` first
    python benchmarks/bench_peers.py --run-directory runs/DEMO    # reuse an `snn run` output
    python benchmarks/bench_peers.py --images 250 --timesteps 32 --repeats 1   # quick check
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

REPORTED_TIMESTEPS = (8, 16, 32, 64, 128)


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    if arguments.run_directory is None:
        with tempfile.TemporaryDirectory() as directory:
            run_directory = Path(directory) / "run"
            train_demo(run_directory, arguments.normalization)
            benchmark(run_directory, arguments)
    else:
        benchmark(arguments.run_directory, arguments)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-directory", type=Path, help="output of `snn run` (default: run it into a temporary directory)")
    parser.add_argument("--images", type=int, default=1000, help="test digits, simulated as one batch")
    parser.add_argument("--timesteps", type=int, default=128, help="time steps T")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved timed runs per side (median reported)")
    parser.add_argument("--normalization", default="p99.9", help="normalization when this script runs `snn run`")
    parser.add_argument("--threads", type=int, default=0, help="threads of both libraries (0: their defaults)")
    return parser.parse_args(argv)


def train_demo(directory: Path, normalization: str) -> None:
    print(f"training the demo CNN with `snn run` into {directory}", flush=True)
    command = [sys.executable, "-c", "from snn_cli.main import main; main()", "run", "--output", str(directory),
               "--norm", normalization]
    subprocess.run(command, check=True)


def benchmark(run_directory: Path, arguments: argparse.Namespace) -> None:
    import tensorflow as tf
    import torch

    from snn_core import Simulator, SpikingNetwork

    if arguments.threads:
        tf.config.threading.set_intra_op_parallelism_threads(arguments.threads)
        torch.set_num_threads(arguments.threads)

    network = SpikingNetwork.load(run_directory / "snn")
    if network.neuron_model.name != "if":
        raise SystemExit(f"the network in {run_directory} uses {network.neuron_model.name!r} neurons; this comparison needs 'if'")
    images, labels, source = harness.load_test_images("demo_cnn", arguments.images)
    timesteps = arguments.timesteps

    ours = Simulator(network)
    chunk = ours.chunk_size
    peers = {
        "spikingjelly": SpikingJellyCnn(network, precompute_first_layer=False),
        "spikingjelly, first layer once": SpikingJellyCnn(network, precompute_first_layer=True),
        f"spikingjelly, first layer once, chunks of {chunk}": SpikingJellyCnn(network, True, chunk_size=chunk),
    }
    tf_images, tf_labels = tf.constant(images), tf.constant(labels)
    torch_images, torch_labels = torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))

    accuracy: dict[str, np.ndarray] = {}
    seconds: dict[str, list[float]] = {"snn (this project)": []}
    seconds.update({name: [] for name in peers})

    def run_ours() -> float:
        start = time.perf_counter()
        correct, *_ = ours._run(tf_images, tf_labels, tf.constant(timesteps), tf.constant(0))
        accuracy["snn (this project)"] = correct.numpy() / len(labels)
        return (time.perf_counter() - start) / timesteps

    def run_peer(name: str) -> float:
        start = time.perf_counter()
        accuracy[name] = peers[name].accuracy_per_step(torch_images, torch_labels, timesteps)
        return (time.perf_counter() - start) / timesteps

    # Warm up both sides at the timed batch size: tracing and XLA compilation are per shape.
    ours._run(tf_images, tf_labels, tf.constant(1), tf.constant(0))
    for peer in peers.values():
        peer.accuracy_per_step(torch_images, torch_labels, 1)
    for _ in range(arguments.repeats):
        seconds["snn (this project)"].append(run_ours())
        for name in peers:
            seconds[name].append(run_peer(name))

    report(seconds, accuracy, arguments, source, run_directory, chunk)


class SpikingJellyCnn:
    """The converted demo CNN as a SpikingJelly network (single-step mode, NCHW).

    Args:
        network: a converted ``demo_cnn`` (the layer names of ``snn_models.demo``).
        precompute_first_layer: compute rescaling and the first convolution once per
            batch, not once per time step.
        chunk_size: simulate at most this many images at a time, as our simulator
            does, so that neither side alone gets the cache benefit of small batches.
    """

    def __init__(self, network, precompute_first_layer: bool, chunk_size: int | None = None):
        import torch
        from spikingjelly.activation_based import neuron

        topology = network.topology
        thresholds = {name: float(np.asarray(value)) for name, value in network.thresholds.items()}
        if any(np.asarray(value).ndim for value in network.thresholds.values()):
            raise SystemExit("this comparison needs one threshold per layer; convert with a layer-wise normalization")

        def conv(name: str) -> torch.nn.Conv2d:
            kernel, bias = topology.get_layer(name).get_weights()
            layer = torch.nn.Conv2d(kernel.shape[2], kernel.shape[3], kernel.shape[:2], padding="same")
            layer.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
            layer.bias.data = torch.from_numpy(bias)
            return layer

        def dense(name: str, nhwc_shape: tuple[int, ...] | None = None) -> torch.nn.Linear:
            kernel, bias = topology.get_layer(name).get_weights()
            if nhwc_shape is not None:
                # Keras flattens (h, w, c); torch flattens (c, h, w): reorder the rows to match.
                height, width, channels = nhwc_shape
                kernel = kernel.reshape(height, width, channels, -1).transpose(2, 0, 1, 3).reshape(kernel.shape)
            layer = torch.nn.Linear(kernel.shape[0], kernel.shape[1])
            layer.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.T))
            layer.bias.data = torch.from_numpy(bias)
            return layer

        self.scale = float(topology.get_layer("rescale").scale)
        self.conv1 = conv("conv1")
        self.rest = torch.nn.Sequential(
            neuron.IFNode(v_threshold=thresholds["conv1_relu"], v_reset=None),
            Scale(thresholds["conv1_relu"]),
            torch.nn.AvgPool2d(2),
            conv("conv2"),
            neuron.IFNode(v_threshold=thresholds["conv2_relu"], v_reset=None),
            Scale(thresholds["conv2_relu"]),
            torch.nn.AvgPool2d(2),
            torch.nn.Flatten(),
            dense("dense1", tuple(topology.get_layer("flatten").input.shape[1:])),
            neuron.IFNode(v_threshold=thresholds["dense1_relu"], v_reset=None),
            Scale(thresholds["dense1_relu"]),
            dense("logits"),
        ).eval()
        self.precompute_first_layer = precompute_first_layer
        self.chunk_size = chunk_size

    def accuracy_per_step(self, images, labels, timesteps: int) -> np.ndarray:
        """Simulate ``timesteps`` steps on NHWC ``images``; return the accuracy after every step."""
        chunk = self.chunk_size or len(labels)
        correct = np.zeros(timesteps)
        for start in range(0, len(labels), chunk):
            correct += self._correct_per_step(images[start:start + chunk], labels[start:start + chunk], timesteps)
        return correct / len(labels)

    def _correct_per_step(self, images, labels, timesteps: int) -> np.ndarray:
        import torch
        from spikingjelly.activation_based import functional

        correct = np.zeros(timesteps)
        with torch.no_grad():
            inputs = images.permute(0, 3, 1, 2).contiguous() * self.scale
            first = self.conv1(inputs) if self.precompute_first_layer else None
            potential = None
            for t in range(timesteps):
                current = first if first is not None else self.conv1(inputs)
                output = self.rest(current)
                potential = output if potential is None else potential + output
                correct[t] = (potential.argmax(dim=1) == labels).sum().item()
            functional.reset_net(self.rest)
        return correct


def Scale(factor: float):  # noqa: N802 (reads like a layer constructor)
    """Return a module that multiplies its input by ``factor`` (spikes to the threshold's amplitude)."""
    import torch

    class _Scale(torch.nn.Module):
        def forward(self, x):
            return x * factor

    return _Scale()


def report(
    seconds: dict[str, list[float]], accuracy: dict[str, np.ndarray], arguments, source: str, run_directory: Path, chunk_size: int
) -> None:
    import tensorflow as tf
    import torch

    ours = "snn (this project)"
    reported = [t for t in REPORTED_TIMESTEPS if t <= arguments.timesteps]
    rows, sides = [], {}
    for name, values in seconds.items():
        step = harness.median(values)
        ratios = [mine / theirs for mine, theirs in zip(seconds[ours], values, strict=True)]
        sides[name] = {
            "step_seconds": step,
            "step_seconds_all": values,
            "image_steps_per_second": arguments.images / step,
            "throughput_vs_this_project": harness.median(ratios),
            "accuracy": {str(t): float(accuracy[name][t - 1]) for t in reported},
            "accuracy_per_step": accuracy[name].tolist(),
        }
        rows.append([name, step * 1e3, arguments.images / step, 1 / harness.median(ratios),
                     *(100 * accuracy[name][t - 1] for t in reported)])

    print(f"\n{arguments.images} images ({source}) as one batch, T = {arguments.timesteps}, "
          f"{arguments.repeats} interleaved runs per side (medians)")
    print(harness.format_table(
        ["simulator", "step ms", "images x steps / s", "our throughput / theirs", *(f"acc T={t} %" for t in reported)], rows
    ))
    gaps = {name: max(abs(accuracy[ours][t - 1] - accuracy[name][t - 1]) * 100 for t in reported) for name in seconds if name != ours}
    for name, gap in gaps.items():
        print(f"largest accuracy difference to {name}: {gap:.2f} points")
    print(f"peak resident memory of the process (both sides): {harness.peak_resident_mib():.0f} MiB")

    import spikingjelly

    document = {
        "benchmark": "peers",
        "environment": {**harness.environment(), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                        "spikingjelly": getattr(spikingjelly, "__version__", _distribution_version("spikingjelly"))},
        "arguments": vars(arguments),
        "run_directory": str(run_directory),
        "images": source,
        "sides": sides,
        "largest_accuracy_difference_points": gaps,
        "peak_resident_mib": harness.peak_resident_mib(),
        "tensorflow": tf.__version__,
        "our_chunk_size": chunk_size,
    }
    print(f"wrote {harness.save_results('peers', document)}")


def _distribution_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main()
