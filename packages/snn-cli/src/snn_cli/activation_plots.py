"""Plots of activation distributions, one PNG per neuron layer."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

# Histogram bins merged into one bar, so that a plot shows 16 bars per doubling.
BINS_PER_BAR = 8


def plot_activation_distributions(stats, scales: dict[str, np.ndarray], normalization: str, directory: Path) -> list[Path]:
    """Draw each layer's distribution of positive activations on log axes, with its scale marked.

    Args:
        stats: :class:`~snn_core.ActivationStatistics`.
        scales: per layer, the normalization scale (a scalar, or one per channel,
            drawn as a tick per channel and a line at their median).
        normalization: the method name, for the legend.
        directory: where the PNG files go, named ``<index>_<layer>.png``.

    Returns:
        The paths written, in network order.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    from snn_core.artifacts import atomic_path
    from snn_core.statistics import bin_edges

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, (name, layer) in enumerate(stats.layers.items()):
        figure, axes = pyplot.subplots(figsize=(7, 4))
        counts = layer.histogram
        if layer.positive:
            nonzero = np.flatnonzero(counts)
            first = nonzero[0] - nonzero[0] % BINS_PER_BAR
            last = nonzero[-1] + BINS_PER_BAR - nonzero[-1] % BINS_PER_BAR
            bars = counts[first:last].reshape(-1, BINS_PER_BAR).sum(axis=1)
            edges = bin_edges(int(first), int(last - first))[::BINS_PER_BAR]
            axes.stairs(bars / layer.positive, edges, fill=True, alpha=0.6, label="positive activations")
            axes.set_xscale("log")
            axes.set_yscale("log")

        scale = np.asarray(scales[name])
        if scale.ndim == 0:
            axes.axvline(float(scale), color="tab:red", label=f"{normalization} scale {float(scale):.4g}")
        else:
            axes.plot(scale, np.full(scale.shape, 0.02), "|", color="tab:red", transform=axes.get_xaxis_transform())
            axes.axvline(float(np.median(scale)), color="tab:red", label=f"{normalization} scales, median {float(np.median(scale)):.4g}")
        axes.axvline(layer.max, color="black", linestyle="--", label=f"max {layer.max:.4g}")

        zeros = layer.nonpositive / max(layer.positive + layer.nonpositive, 1)
        axes.set_title(f"{name}: {layer.positive} positive values, {100 * zeros:.1f}% zero")
        axes.set_xlabel("activation")
        axes.set_ylabel("fraction of positive values")
        axes.legend(loc="upper left", fontsize="small")
        figure.tight_layout()

        path = directory / f"{index:02d}_{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
        with atomic_path(path) as temporary:
            figure.savefig(temporary, format="png", dpi=100)
        pyplot.close(figure)
        paths.append(path)
    return paths
