"""snn-models' plugin, registered through the ``snn`` entry-point group."""

from snn_core import hookimpl

from snn_models.demo import DEMO_CNN


@hookimpl
def snn_models():
    return [DEMO_CNN]
