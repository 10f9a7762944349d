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
    help=(
        "Normalization method: max, p<percentile> such as p99.9 (layer-wise), channel-max, channel-p<percentile>, "
        "threshold-balancing (see `snn plugins`)."
    ),
)
neuron = click.option(
    "--neuron", default="if", show_default=True, help="Neuron model: if, if_zero, lif, if_signed (see `snn plugins`)."
)
encoder = click.option(
    "--encoder", default="analog", show_default=True, help="Input encoder: analog, poisson or rate (see `snn plugins`)."
)
decoder = click.option(
    "--decoder",
    type=click.Choice(["potential", "spikes"]),
    default="potential",
    show_default=True,
    help="Output readout: summed output potential, or spike counts of output neurons.",
)
chunk_size = click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=None,
    help=(
        "Images the simulator advances together: each --batch-size batch is simulated in chunks of at most this "
        "many images. results.json records the size used [default: sized to the CPU's caches, or the whole batch on "
        "a GPU]."
    ),
)
seed = click.option("--seed", type=int, default=0, show_default=True, help="Seed for training and stochastic encoders.")
model_file = click.argument("model_path", metavar="MODEL", type=click.Path(path_type=Path, dir_okay=False))
strategy = click.option(
    "--strategy",
    type=click.Choice(["default", "mirrored", "multi-worker"]),
    default="default",
    show_default=True,
    help="tf.distribute strategy: one device, all local GPUs (or the --cpu-devices logical CPUs), or the hosts in TF_CONFIG.",
)
precision = click.option(
    "--precision",
    type=click.Choice(["float32", "mixed_float16", "mixed_bfloat16"]),
    default="float32",
    show_default=True,
    help="Keras dtype policy for DNN training and inference; the SNN always simulates in float32.",
)
