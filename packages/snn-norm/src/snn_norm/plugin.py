"""snn-norm's plugin, registered through the ``snn`` entry-point group."""

from snn_core import hookimpl

from snn_norm.layerwise import MAX, PERCENTILE


@hookimpl
def snn_normalizers():
    return [MAX, PERCENTILE]
