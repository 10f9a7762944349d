"""``snn compare-norm``: several normalization methods on one fused model, side by side."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import click

from snn_cli.commands import options
from snn_cli.progress import Reporter

COMPARISON_FORMAT_VERSION = 1


def parse_timesteps(text: str) -> list[int]:
    """Parse ``"16,32,64"`` into sorted, distinct positive integers."""
    from snn_core import SnnError

    try:
        values = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise SnnError(f"--timesteps must be comma-separated integers such as 16,32,64,128, got {text!r}") from None
    if not values or values[0] < 1:
        raise SnnError(f"--timesteps needs at least one time step, each at least 1, got {text!r}")
    return values


def compare_normalizations(
    run_dir: Path,
    normalizations: list[str],
    timesteps: list[int],
    dataset_name: str,
    reporter: Reporter,
    neuron: str = "if",
    encoder: str = "analog",
    data_dir: Path | None = None,
    batch_size: int = 250,
    test_images: int | None = None,
) -> dict[str, Any]:
    """Convert the run's fused model with each method, simulate, and return the comparison document.

    Every method sees the same ``fused.keras`` and ``activations.npz``; each is
    simulated once for ``max(timesteps)`` steps, and the accuracy after each
    requested T is read from that run.
    """
    from snn_cli.pipeline import calibration_images, simulate_step
    from snn_core import (
        ActivationStatistics,
        batched,
        convert,
        get_dataset,
        load_model,
        provenance,
        resolve_normalizer,
        simulate,
    )

    for normalization in normalizations:
        resolve_normalizer(normalization)
    dataset = get_dataset(dataset_name)
    fused = load_model(run_dir / "fused.keras")
    stats = ActivationStatistics.load(run_dir / "activations.npz")
    horizon = max(timesteps)

    rows = []
    for normalization in normalizations:
        images = None
        if resolve_normalizer(normalization).method.needs_simulation:
            images = calibration_images(dataset_name, data_dir)
        reporter.start(f"convert with {normalization}")
        network = convert(
            fused, stats, normalization=normalization, neuron=neuron, calibration_images=images,
            calibration_timesteps=horizon,
        )
        reporter.done()

        if test_images is None:
            result = simulate_step(network, dataset_name, horizon, encoder, reporter, data_dir, batch_size)
        else:
            reporter.start(f"simulate {horizon} time steps on {test_images} test images")
            split = batched(dataset.load(dataset.test_split, data_dir).take(test_images), batch_size)
            result = simulate(network, split, horizon, encoder=encoder)
            reporter.done()
        rows.append(
            {
                "normalization": normalization,
                "accuracy": {str(t): float(result.accuracy_per_step[t - 1]) for t in timesteps},
                "thresholds": {name: _describe(value) for name, value in network.thresholds.items()},
                "firing_rates": result.firing_rates(),
                "samples": result.samples,
            }
        )

    return {
        "format_version": COMPARISON_FORMAT_VERSION,
        "run_dir": str(run_dir),
        "dataset": dataset_name,
        "neuron": neuron,
        "encoder": encoder,
        "timesteps": timesteps,
        "reference_accuracy": _reference_accuracy(run_dir),
        "methods": rows,
        "provenance": provenance(run_dir=run_dir, dataset=dataset_name, normalizations=",".join(normalizations)),
    }


def _describe(threshold) -> dict[str, float]:
    import numpy as np

    values = np.asarray(threshold, np.float64)
    return {"min": float(values.min()), "median": float(np.median(values)), "max": float(values.max()), "count": int(values.size)}


def _reference_accuracy(run_dir: Path) -> float | None:
    from snn_core import read_json

    for name in ("fused.json", "dnn.json"):
        if (run_dir / name).is_file():
            return read_json(run_dir / name).get("accuracy")
    return None


def comparison_table(document: dict[str, Any]) -> str:
    """Format the accuracies (in %) with one row per method and one column per T."""
    header = ["normalization", *(f"T = {t}" for t in document["timesteps"])]
    rows = [
        [row["normalization"], *(f"{100 * row['accuracy'][str(t)]:.2f}%" for t in document["timesteps"])]
        for row in document["methods"]
    ]
    widths = [max(len(line[column]) for line in [header, *rows]) for column in range(len(header))]
    lines = []
    for line in [header, *rows]:
        cells = [cell.rjust(width) if column else cell.ljust(width) for column, (cell, width) in enumerate(zip(line, widths, strict=True))]
        lines.append("  ".join(cells))
    if document.get("reference_accuracy") is not None:
        lines.append(f"DNN (batch norm fused): {100 * document['reference_accuracy']:.2f}%")
    return "\n".join(lines)


def comparison_csv(document: dict[str, Any]) -> str:
    """Return the accuracies as CSV: one row per method, one column per T, fractions."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["normalization", *(f"accuracy_T{t}" for t in document["timesteps"])])
    for row in document["methods"]:
        writer.writerow([row["normalization"], *(f"{row['accuracy'][str(t)]:.6f}" for t in document["timesteps"])])
    return buffer.getvalue()


def _dataset_of_run(run_dir: Path) -> str | None:
    from snn_core import read_json

    for name in ("results.json", "dnn.json"):
        if (run_dir / name).is_file():
            dataset = read_json(run_dir / name).get("dataset")
            if dataset:
                return dataset
    return None


@click.command("compare-norm")
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--norm", "normalizations", multiple=True, required=True,
    help="A normalization method to compare; repeat it, e.g. --norm max --norm p99.9 --norm channel-max.",
)
@click.option(
    "--timesteps", "-T", "timesteps_text", default="16,32,64,128", show_default=True,
    help="Comma-separated time steps T at which to report accuracy.",
)
@click.option("--dataset", default=None, help="Dataset name [default: the one recorded in RUN_DIR].")
@options.neuron
@options.encoder
@options.batch_size
@options.data_dir
@click.option(
    "--images", "test_images", type=click.IntRange(min=1), default=None,
    help="Simulate only the first N test images [default: the whole test split].",
)
@click.option(
    "--output", "-o", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Directory for compare_norm.csv and compare_norm.json [default: RUN_DIR].",
)
def compare_norm(
    run_dir: Path,
    normalizations: tuple[str, ...],
    timesteps_text: str,
    dataset: str | None,
    neuron: str,
    encoder: str,
    batch_size: int,
    data_dir: Path | None,
    test_images: int | None,
    output: Path | None,
) -> None:
    """Compare normalization methods on the fused model and statistics of a run directory.

    Reads fused.keras and activations.npz from RUN_DIR (as written by `snn run`),
    converts and simulates once per method, prints the SNN accuracy at each T side
    by side, and writes compare_norm.csv and compare_norm.json.
    """
    from snn_core import SnnError, write_json
    from snn_core.artifacts import atomic_path

    timesteps = parse_timesteps(timesteps_text)
    for name in ("fused.keras", "activations.npz"):
        if not (run_dir / name).is_file():
            raise SnnError(f"{run_dir} has no {name}; give a run directory written by `snn run`")
    dataset = dataset or _dataset_of_run(run_dir) or "digits"

    document = compare_normalizations(
        run_dir, list(normalizations), timesteps, dataset, Reporter(), neuron, encoder, data_dir, batch_size, test_images
    )

    output = output or run_dir
    write_json(output / "compare_norm.json", document)
    with atomic_path(output / "compare_norm.csv") as temporary:
        temporary.write_text(comparison_csv(document))
    click.echo(comparison_table(document))
    click.echo(f"wrote {output / 'compare_norm.csv'} and {output / 'compare_norm.json'}")
