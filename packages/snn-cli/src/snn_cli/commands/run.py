"""``snn run``: the whole pipeline in one command."""

from __future__ import annotations

from pathlib import Path

import click

from snn_cli.commands import options
from snn_cli.pipeline import RunConfig, default_run_directory, run_pipeline
from snn_cli.progress import Reporter
from snn_cli.results import accuracy_table


@click.command()
@options.dataset
@click.option("--model", default="demo_cnn", show_default=True, help="Zoo model to train; ignored with --model-file.")
@click.option(
    "--model-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A trained .keras or .h5 model to convert instead of training one.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Run directory for every artifact [default: a new directory under runs/].",
)
@options.timesteps
@options.normalization
@options.neuron
@options.encoder
@options.decoder
@options.chunk_size
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Training epochs [default: the model's recipe].")
@options.batch_size
@options.data_dir
@options.seed
@options.strategy
@options.precision
@click.option("--quiet", "-q", is_flag=True, help="Print only the result table and the path of results.json.")
def run(
    dataset: str,
    model: str,
    model_file: Path | None,
    output: Path | None,
    timesteps: int,
    normalization: str,
    neuron: str,
    encoder: str,
    decoder: str,
    chunk_size: int | None,
    epochs: int | None,
    batch_size: int,
    data_dir: Path | None,
    seed: int,
    strategy: str,
    precision: str,
    quiet: bool,
) -> None:
    """Run all five steps: train (or load), evaluate, fuse batch norm, collect statistics, convert and simulate.

    With no options it trains the demo CNN on the embedded digits and simulates
    128 time steps. The table shows the SNN's accuracy after T = 1, 2, 4, ... steps.
    """
    config = RunConfig(
        dataset=dataset,
        model=model,
        model_path=model_file,
        timesteps=timesteps,
        normalization=normalization,
        neuron=neuron,
        encoder=encoder,
        decoder=decoder,
        chunk_size=chunk_size,
        epochs=epochs,
        batch_size=batch_size,
        data_dir=data_dir,
        seed=seed,
        strategy=strategy,
        precision=precision,
    )
    config = RunConfig(**{**config.__dict__, "output": output or default_run_directory(config)})

    reporter = Reporter(quiet=quiet)
    document = run_pipeline(config, reporter)

    click.echo(accuracy_table(document))
    click.echo(f"results: {config.output / 'results.json'}")
