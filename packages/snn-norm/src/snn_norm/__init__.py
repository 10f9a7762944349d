"""snn-norm: weight-normalization methods for ANN-to-SNN conversion.

Every method is registered through the ``snn_normalizers`` hook, exactly as a third
party's would be; see :mod:`snn_norm.plugin`.
"""

from importlib.metadata import PackageNotFoundError, version

from snn_norm.balancing import THRESHOLD_BALANCING, threshold_balancing_scales
from snn_norm.channelwise import CHANNEL_MAX, CHANNEL_PERCENTILE, channel_max_scales, channel_percentile_scales
from snn_norm.layerwise import MAX, PERCENTILE, max_scales, percentile_scales

try:
    __version__ = version("snn-norm")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = [
    "CHANNEL_MAX",
    "CHANNEL_PERCENTILE",
    "MAX",
    "PERCENTILE",
    "THRESHOLD_BALANCING",
    "channel_max_scales",
    "channel_percentile_scales",
    "max_scales",
    "percentile_scales",
    "threshold_balancing_scales",
]
