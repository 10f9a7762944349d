"""``snn report``: a summary table and plots of a run directory's ``results.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from snn_cli.results import accuracy_table


def metrics_table(document: dict[str, Any]) -> str:
    """Format the per-layer spikes and operations and the energy estimate of ``results.json`` as text."""
    lines = []
    rates = document.get("firing_rates", {})
    synops = document.get("synaptic_operations_per_layer", {})
    macs = document.get("ann_multiply_accumulates_per_layer", {})
    if rates:
        width = max(len(name) for name in rates)
        lines.append(f"{'neuron layer':{width}}  spikes/neuron/step")
        lines += [f"{name:{width}}  {rate:18.4f}" for name, rate in rates.items()]
    if macs:
        width = max(len(name) for name in macs)
        lines.append("")
        lines.append(f"{'weighted layer':{width}}  SynOps/image  ANN MACs/image")
        for name, count in macs.items():
            events = synops.get(name)
            shown = f"{events:12.4g}" if events is not None else f"{'(MACs)':>12}"
            lines.append(f"{name:{width}}  {shown}  {count:14,d}")

    if "synaptic_operations_per_image" in document:
        lines.append("")
        lines.append(f"SNN accumulates per image:  {document['synaptic_operations_per_image']:.4g}")
        lines.append(f"SNN MACs per image:         {document['snn_multiply_accumulates_per_image']:.4g}")
        lines.append(f"ANN MACs per image:         {document['ann_multiply_accumulates_per_image']:.4g}")
        ratio = document.get("synaptic_operations_to_ann_macs")
        if ratio is not None:
            lines.append(f"SynOps / ANN MACs:          {ratio:.3f}")
    energy = document.get("energy")
    if energy:
        lines.append(
            f"energy estimate per image:  SNN {energy['snn_joules_per_image'] * 1e6:.3f} uJ, "
            f"ANN {energy['ann_joules_per_image'] * 1e6:.3f} uJ "
            f"(MAC {energy['mac_pj']} pJ, AC {energy['ac_pj']} pJ: {energy['source']})"
        )
    return "\n".join(lines)


def plot_accuracy(document: dict[str, Any], path: Path) -> None:
    """Plot SNN accuracy against T, with the DNN's accuracy as a horizontal line, into a PNG file."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    per_step = document["snn_accuracy_per_step"]
    figure, axes = pyplot.subplots(figsize=(6, 4))
    axes.plot(range(1, len(per_step) + 1), [100 * value for value in per_step], label="SNN")
    if document.get("dnn_accuracy") is not None:
        axes.axhline(100 * document["dnn_accuracy"], color="black", linestyle="--", label="DNN")
    axes.set_xscale("log", base=2)
    axes.set_xlabel("time steps T")
    axes.set_ylabel("test accuracy (%)")
    axes.set_title(f"{document.get('model', '')} {document.get('neuron', '')} {document.get('encoder', '')}".strip())
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def plot_firing_rates(document: dict[str, Any], path: Path) -> None:
    """Plot the mean firing rate of every neuron layer as a bar chart into a PNG file."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    rates = document.get("firing_rates", {})
    figure, axes = pyplot.subplots(figsize=(max(4, 0.8 * len(rates) + 2), 4))
    axes.bar(list(rates), list(rates.values()))
    axes.set_ylabel("spikes per neuron per step")
    axes.set_xlabel("neuron layer")
    axes.tick_params(axis="x", labelrotation=45)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


@click.command()
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory for the PNG plots [default: RUN_DIR].",
)
def report(run_dir: Path, output: Path | None) -> None:
    """Print accuracy, firing rates, operations and energy of a run, and plot them.

    Reads RUN_DIR/results.json (written by `snn run` or `snn simulate`) and writes
    accuracy.png (accuracy against T with the DNN line) and firing_rates.png.
    """
    from snn_core import read_json
    from snn_core.errors import ArtifactError

    results = run_dir / "results.json"
    if not results.is_file():
        raise ArtifactError(f"no results.json in {run_dir}; run `snn run` or `snn simulate` first")
    document = read_json(results)
    if "snn_accuracy_per_step" not in document:
        raise ArtifactError(f"{results} has no snn_accuracy_per_step; it was not written by `snn run` or `snn simulate`")

    output = output or run_dir
    output.mkdir(parents=True, exist_ok=True)
    plot_accuracy(document, output / "accuracy.png")
    plot_firing_rates(document, output / "firing_rates.png")

    click.echo(accuracy_table(document))
    click.echo("")
    click.echo(metrics_table(document))
    click.echo(f"plots: {output / 'accuracy.png'}, {output / 'firing_rates.png'}")
