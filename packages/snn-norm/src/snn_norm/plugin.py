"""snn-norm's plugin, registered through the ``snn`` entry-point group."""

from snn_core import hookimpl
from snn_norm.balancing import THRESHOLD_BALANCING
from snn_norm.channelwise import CHANNEL_MAX, CHANNEL_PERCENTILE
from snn_norm.layerwise import MAX, PERCENTILE


@hookimpl
def snn_normalizers():
    return [MAX, PERCENTILE, CHANNEL_MAX, CHANNEL_PERCENTILE, THRESHOLD_BALANCING]
