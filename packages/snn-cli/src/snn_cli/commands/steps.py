"""One command per pipeline step: train, evaluate, fuse, stats, convert, simulate."""

from __future__ import annotations

from pathlib import Path

import click

from snn_cli.commands import options
from snn_cli.pipeline import (
    RunConfig,
    accuracy_table,
    convert_step,
    evaluate_step,
    fuse_step,
    results_document,
    simulate_step,
    stats_step,
    train_step,
)
from snn_cli.progress import Reporter


def _output_option(default: str, help_text: str):
    return click.option(
        "--output", "-o", type=click.Path(path_type=Path), default=Path(default), show_default=True, help=help_text
    )


@click.command()
@click.option("--model", default="demo_cnn", show_default=True, help="Zoo model name.")
@options.dataset
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Training epochs [default: the model's recipe].")
@_output_option(".", "Directory for model.keras and training.json.")
@options.data_dir
@options.seed
def train(model: str, dataset: str, epochs: int | None, output: Path, data_dir: Path | None, seed: int) -> None:
    """Step 1: build a zoo model and train it; write model.keras and training.json."""
    from snn_core import get_dataset, get_plugins

    get_dataset(dataset)
    get_plugins().models.get(model)
    config = RunConfig(dataset=dataset, model=model, epochs=epochs, data_dir=data_dir, seed=seed)
    train_step(config, output, Reporter())


@click.command()
@options.model_file
@options.dataset
@_output_option("dnn.json", "Where to write the accuracy.")
@options.batch_size
@options.data_dir
def evaluate(model_path: Path, dataset: str, output: Path, batch_size: int, data_dir: Path | None) -> None:
    """Step 2: DNN inference; print the test accuracy and write it as JSON."""
    from snn_core import get_dataset, load_model

    get_dataset(dataset)
    model = load_model(model_path)
    accuracy = evaluate_step(model, dataset, output, Reporter(), batch_size, data_dir, title=f"evaluate {model_path}")
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
def stats(model_path: Path, dataset: str, output: Path, batch_size: int, data_dir: Path | None) -> None:
    """Step 4: collect activation distributions of every neuron layer over the training split."""
    from snn_core import get_dataset, load_model

    get_dataset(dataset)
    fused = load_model(model_path)
    statistics = stats_step(fused, dataset, output, Reporter(), data_dir, batch_size)
    for name, layer in statistics.layers.items():
        click.echo(f"{name}: max {layer.max:.4g}, p99.9 {layer.percentile(99.9):.4g}, {layer.positive} positive values")


@click.command()
@options.model_file
@click.option(
    "--stats", "stats_path", type=click.Path(path_type=Path, dir_okay=False), default=Path("activations.npz"),
    show_default=True, help="Activation statistics written by `snn stats`.",
)
@options.normalization
@options.neuron
@_output_option("snn", "Directory for the converted network.")
def convert(model_path: Path, stats_path: Path, normalization: str, neuron: str, output: Path) -> None:
    """Step 5a: normalize and convert a fused model into a spiking network."""
    from snn_core import ActivationStatistics, load_model

    statistics = ActivationStatistics.load(stats_path)
    fused = load_model(model_path)
    network = convert_step(fused, statistics, normalization, neuron, output, Reporter())
    for name, threshold in network.thresholds.items():
        click.echo(f"{name}: threshold {float(threshold.mean()):.4g}")


@click.command()
@click.argument("network_dir", metavar="SNN_DIR", type=click.Path(path_type=Path, file_okay=False))
@options.dataset
@options.timesteps
@options.encoder
@_output_option("results.json", "Where to write the results.")
@click.option("--dnn-accuracy", type=float, default=None, help="DNN accuracy (fraction) to compare with, e.g. from dnn.json.")
@options.batch_size
@options.data_dir
@options.seed
def simulate(
    network_dir: Path,
    dataset: str,
    timesteps: int,
    encoder: str,
    output: Path,
    dnn_accuracy: float | None,
    batch_size: int,
    data_dir: Path | None,
    seed: int,
) -> None:
    """Step 5b: simulate a converted network on the test split and print accuracy per time step."""
    from snn_core import SpikingNetwork, get_dataset, get_plugins, write_json

    get_dataset(dataset)
    get_plugins().input_encoders.get(encoder)
    network = SpikingNetwork.load(network_dir)
    result = simulate_step(network, dataset, timesteps, encoder, Reporter(), data_dir, batch_size, seed)
    document = results_document(
        result,
        dnn_accuracy,
        None,
        {"dataset": dataset, "network": str(network_dir), "encoder": encoder, "neuron": network.neuron_model.name,
         "normalization": network.normalization},
    )
    write_json(output, document)
    click.echo(accuracy_table(document))


COMMANDS = [train, evaluate, fuse, stats, convert, simulate]
