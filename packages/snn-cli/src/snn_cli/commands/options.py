"""Options shared by several commands, so their names and help read the same everywhere."""

from __future__ import annotations

from pathlib import Path

import click

dataset = click.option(
    "--dataset", default="digits", show_default=True, help="Dataset name; `snn plugins` lists the registered ones."
)
data_dir = click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory holding the dataset's files, for datasets that read from disk.",
)
batch_size = click.option(
    "--batch-size", type=click.IntRange(min=1), default=250, show_default=True, help="Images per inference batch."
)
timesteps = click.option(
    "--timesteps", "-T", type=click.IntRange(min=1), default=128, show_default=True, help="Simulated time steps."
)
normalization = click.option(
    "--norm",
    "normalization",
    default="p99.9",
    show_default=True,
    help="Normalization method: `max`, or `p<percentile>` such as p99.9 (layer-wise percentile).",
)
neuron = click.option("--neuron", default="if", show_default=True, help="Neuron model name.")
encoder = click.option("--encoder", default="analog", show_default=True, help="Input encoder name.")
seed = click.option("--seed", type=int, default=0, show_default=True, help="Seed for training and stochastic encoders.")
model_file = click.argument("model_path", metavar="MODEL", type=click.Path(path_type=Path, dir_okay=False))
