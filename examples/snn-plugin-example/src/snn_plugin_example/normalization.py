"""Channel-wise maximum normalization: one threshold per channel."""

from __future__ import annotations

import numpy as np

from snn_core import ActivationStatistics, NormalizationMethod


def channel_max_scales(stats: ActivationStatistics, argument: float | None) -> dict[str, np.ndarray]:
    """Scale every channel by its largest activation; a silent channel keeps the layer's maximum."""
    scales = {}
    for name, layer in stats.layers.items():
        layer_max = max(layer.max, 1e-6)
        if layer.channel_max is None:
            scales[name] = np.float32(layer_max)
            continue
        channel_max = np.asarray(layer.channel_max, np.float32)
        scales[name] = np.where(channel_max > 0, channel_max, np.float32(layer_max)).astype(np.float32)
    return scales


CHANNEL_MAX = NormalizationMethod(
    name="example_channel_max",
    compute_scales=channel_max_scales,
    summary="per-channel maximum activation (example plugin)",
    citation="Kim et al., Spiking-YOLO: spiking neural network for energy-efficient object detection, AAAI 2020",
)
