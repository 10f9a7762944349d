"""Layer-wise normalization: one scale per neuron layer, from statistics alone.

Both methods need only the activation statistics of the fused model (no
simulation). They assume that the layer's activations on the statistics data
represent those at test time.
"""

from __future__ import annotations

import numpy as np

from snn_core import ActivationStatistics, NormalizationMethod, SnnError

DEFAULT_PERCENTILE = 99.9


def max_scales(stats: ActivationStatistics, argument: float | None) -> dict[str, np.ndarray]:
    """Scale every layer by the largest activation seen (Diehl et al. 2015)."""
    return {name: np.float32(max(layer.max, 0.0)) for name, layer in stats.layers.items()}


def percentile_scales(stats: ActivationStatistics, argument: float | None) -> dict[str, np.ndarray]:
    """Scale every layer by a high percentile of its positive activations (Rueckauer et al. 2017).

    A percentile slightly below 100 ignores the rare outliers that would otherwise
    set the threshold so high that most neurons fire too rarely to be read in few
    time steps.
    """
    q = DEFAULT_PERCENTILE if argument is None else float(argument)
    if not 0 < q <= 100:
        raise SnnError(f"percentile normalization needs a percentile in (0, 100], got p{q:g}; for example p99.9")
    return {name: np.float32(layer.percentile(q)) for name, layer in stats.layers.items()}


MAX = NormalizationMethod(
    name="max",
    compute_scales=max_scales,
    summary="layer-wise maximum activation",
    citation=(
        "Diehl et al., Fast-classifying, high-accuracy spiking deep networks through weight "
        "and threshold balancing, IJCNN 2015"
    ),
)

PERCENTILE = NormalizationMethod(
    name="p",
    compute_scales=percentile_scales,
    accepts_argument=True,
    argument_range=(0.0, 100.0),
    default_argument=DEFAULT_PERCENTILE,
    summary="layer-wise percentile of positive activations, e.g. p99.9 (default 99.9)",
    citation=(
        "Rueckauer et al., Conversion of continuous-valued deep networks to efficient "
        "event-driven networks, Frontiers in Neuroscience 2017"
    ),
)
