"""Channel-wise normalization: one scale per channel of every neuron layer.

Kim et al., "Spiking-YOLO: spiking neural network for energy-efficient object
detection" (AAAI 2020), observed that the channels of one layer can differ in range
by orders of magnitude. A single layer-wise scale then leaves the channels with
small activations firing so rarely that T steps cannot read them. Normalizing each
channel by its own maximum (or a high percentile) gives every channel a usable
firing rate. A "channel" is the last axis of the layer's output: the filters of a
convolution, the units of a dense layer.

Both methods need only the activation statistics (no simulation) and assume that
the activations on the statistics data represent those at test time. The
percentile variant also needs the per-channel histograms
(``collect_activation_stats(channel_histograms=True)``); the maximum needs only the
per-channel maxima, which are always collected. The converter uses each scale as
the threshold and spike amplitude of its channel, which is equivalent to the
paper's channel-wise weight scaling.
"""

from __future__ import annotations

import numpy as np

from snn_core import ActivationStatistics, NormalizationMethod, SnnError

DEFAULT_CHANNEL_PERCENTILE = 99.9

_CITATION = (
    "Kim et al., Spiking-YOLO: spiking neural network for energy-efficient object detection, AAAI 2020"
)


def channel_max_scales(stats: ActivationStatistics, argument: float | None) -> dict[str, np.ndarray]:
    """Scale every channel by the largest activation it reached."""
    scales = {}
    for name, layer in stats.layers.items():
        if layer.channel_max is None:
            raise SnnError(
                f"the activation statistics of layer {name!r} have no per-channel maxima; collect them again with `snn stats`"
            )
        scales[name] = np.maximum(layer.channel_max, 0.0).astype(np.float32)
    return scales


def channel_percentile_scales(stats: ActivationStatistics, argument: float | None) -> dict[str, np.ndarray]:
    """Scale every channel by a high percentile of its positive activations."""
    q = DEFAULT_CHANNEL_PERCENTILE if argument is None else float(argument)
    if not 0 < q <= 100:
        raise SnnError(
            f"channel-wise percentile normalization needs a percentile in (0, 100], got channel-p{q:g}; "
            "for example channel-p99.9"
        )
    return {name: layer.channel_percentiles(q).astype(np.float32) for name, layer in stats.layers.items()}


CHANNEL_MAX = NormalizationMethod(
    name="channel-max",
    compute_scales=channel_max_scales,
    summary="channel-wise maximum activation",
    citation=_CITATION,
)

CHANNEL_PERCENTILE = NormalizationMethod(
    name="channel-p",
    compute_scales=channel_percentile_scales,
    accepts_argument=True,
    argument_range=(0.0, 100.0),
    default_argument=DEFAULT_CHANNEL_PERCENTILE,
    needs_channel_histograms=True,
    summary="channel-wise percentile of positive activations, e.g. channel-p99.9 (default 99.9)",
    citation=_CITATION,
)
