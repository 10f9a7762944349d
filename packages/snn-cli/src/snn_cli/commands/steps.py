"""One command per pipeline step: evaluate, fuse, stats, convert, simulate (train is in train.py)."""

from __future__ import annotations

from pathlib import Path

import click

from snn_cli.commands import options
from snn_cli.pipeline import convert_step, evaluate_step, fuse_step, simulate_step, stats_step
from snn_cli.progress import Reporter
from snn_cli.results import accuracy_table, results_document


def _output_option(default: str, help_text: str):
    return click.option(
        "--output", "-o", type=click.Path(path_type=Path), default=Path(default), show_default=True, help=help_text
    )


@click.command()
@options.model_file
@options.dataset
@_output_option("dnn.json", "Where to write the accuracy.")
@options.batch_size
@options.data_dir
@options.strategy
@options.precision
def evaluate(
    model_path: Path,
    dataset: str,
    output: Path,
    batch_size: int,
    data_dir: Path | None,
    strategy: str,
    precision: str,
) -> None:
    """Step 2: DNN inference; print the test accuracy and write it as JSON."""
    from snn_core import get_dataset, load_model

    get_dataset(dataset)
    model = load_model(model_path)
    accuracy = evaluate_step(
        model, dataset, output, Reporter(), batch_size, data_dir, title=f"evaluate {model_path}",
        strategy=strategy, precision=precision,
    )
    click.echo(f"accuracy: {100 * accuracy:.2f}%")


@click.command()
@options.model_file
@options.dataset
@_output_option("fused.keras", "Where to write the fused model (fusion.json goes beside it).")
@options.batch_size
@options.data_dir
def fuse(model_path: Path, dataset: str, output: Path, batch_size: int, data_dir: Path | None) -> None:
    """Step 3: fold batch norm into the preceding kernels and check the outputs on real test images.

    The fused model is written only if its outputs equal the original's within 1e-4
    relative; the largest difference is printed.
    """
    from snn_core import get_dataset, load_model

    get_dataset(dataset)
    model = load_model(model_path)
    _, report, check = fuse_step(model, dataset, output, Reporter(), data_dir, batch_size)
    click.echo(f"folded {len(report.folded)} batch norms, kept {len(report.kept)}")
    for name, reason in report.kept:
        click.echo(f"  kept {name}: {reason}")
    click.echo(
        f"largest output difference: {check.max_abs_difference:.3g} absolute, "
        f"{check.max_relative_difference:.3g} relative, on {check.samples} images"
    )


@click.command()
@options.model_file
@options.dataset
@_output_option("activations.npz", "Where to write the statistics.")
@options.batch_size
@options.data_dir
@click.option(
    "--channel-histograms/--no-channel-histograms",
    default=True,
    show_default=True,
    help="Also count a histogram per channel (32 KiB each), which channel-p<percentile> needs.",
)
@click.option(
    "--plot", "plot_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Directory for one PNG per layer: its distribution on log axes with the --norm scale marked.",
)
@options.normalization
@options.strategy
def stats(
    model_path: Path,
    dataset: str,
    output: Path,
    batch_size: int,
    data_dir: Path | None,
    channel_histograms: bool,
    plot_dir: Path | None,
    normalization: str,
    strategy: str,
) -> None:
    """Step 4: collect activation distributions of every neuron layer over the training split."""
    from snn_core import SnnError, get_dataset, load_model, resolve_normalizer

    get_dataset(dataset)
    normalizer = resolve_normalizer(normalization) if plot_dir is not None else None
    if normalizer is not None and normalizer.method.needs_simulation:
        raise SnnError(
            f"--plot marks the scale of a statistics-only method, and {normalization!r} runs the spiking network; "
            "choose one such as p99.9, max or channel-max"
        )
    fused = load_model(model_path)
    statistics = stats_step(fused, dataset, output, Reporter(), data_dir, batch_size, channel_histograms, strategy)
    for name, layer in statistics.layers.items():
        click.echo(f"{name}: max {layer.max:.4g}, p99.9 {layer.percentile(99.9):.4g}, {layer.positive} positive values")

    if normalizer is not None:
        from snn_cli.activation_plots import plot_activation_distributions

        paths = plot_activation_distributions(statistics, normalizer.scales(statistics), normalization, plot_dir)
        click.echo(f"wrote {len(paths)} plots to {plot_dir}")


@click.command()
@options.model_file
@click.option(
    "--stats", "stats_path", type=click.Path(path_type=Path, dir_okay=False), default=Path("activations.npz"),
    show_default=True, help="Activation statistics written by `snn stats`.",
)
@options.normalization
@options.neuron
@_output_option("snn", "Directory for the converted network.")
@click.option(
    "--dataset", default="digits", show_default=True,
    help="Dataset whose training images threshold balancing simulates; other methods ignore it.",
)
@options.data_dir
@click.option(
    "--timesteps", "-T", type=click.IntRange(min=1), default=128, show_default=True,
    help="Time steps that threshold balancing simulates; other methods ignore it.",
)
def convert(
    model_path: Path, stats_path: Path, normalization: str, neuron: str, output: Path, dataset: str,
    data_dir: Path | None, timesteps: int,
) -> None:
    """Step 5a: normalize and convert a fused model into a spiking network."""
    from snn_core import ActivationStatistics, load_model

    statistics = ActivationStatistics.load(stats_path)
    fused = load_model(model_path)
    network = convert_step(
        fused, statistics, normalization, neuron, output, Reporter(), dataset_name=dataset, data_dir=data_dir,
        timesteps=timesteps,
    )
    for name, threshold in network.thresholds.items():
        click.echo(f"{name}: threshold {float(threshold.mean()):.4g}")


@click.command()
@click.argument("network_dir", metavar="SNN_DIR", type=click.Path(path_type=Path, file_okay=False))
@options.dataset
@options.timesteps
@click.option(
    "--neuron", default=None, help="Neuron model to simulate with, keeping the thresholds [default: the converted one]."
)
@options.encoder
@options.decoder
@options.chunk_size
@_output_option("results.json", "Where to write the results.")
@click.option("--dnn-accuracy", type=float, default=None, help="DNN accuracy (fraction) to compare with, e.g. from dnn.json.")
@options.batch_size
@options.data_dir
@options.seed
@options.strategy
def simulate(
    network_dir: Path,
    dataset: str,
    timesteps: int,
    neuron: str | None,
    encoder: str,
    decoder: str,
    chunk_size: int | None,
    output: Path,
    dnn_accuracy: float | None,
    batch_size: int,
    data_dir: Path | None,
    seed: int,
    strategy: str,
) -> None:
    """Step 5b: simulate a converted network on the test split and print accuracy per time step."""
    from snn_core import SpikingNetwork, get_dataset, get_plugins, write_json

    get_dataset(dataset)
    get_plugins().input_encoders.get(encoder)
    network = SpikingNetwork.load(network_dir)
    if neuron is not None:
        network = network.with_neuron_model(get_plugins().neuron_models.get(neuron))
    result = simulate_step(
        network, dataset, timesteps, encoder, Reporter(), data_dir, batch_size, seed, decoder, strategy, chunk_size
    )
    document = results_document(
        result,
        dnn_accuracy,
        None,
        {"dataset": dataset, "network": str(network_dir), "encoder": encoder, "decoder": decoder,
         "neuron": network.neuron_model.name,
         "normalization": network.normalization},
    )
    write_json(output, document)
    click.echo(accuracy_table(document))


COMMANDS = [evaluate, fuse, stats, convert, simulate]
