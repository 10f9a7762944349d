"""snn-models' plugin, registered through the ``snn`` entry-point group."""

from snn_core import hookimpl
from snn_models.demo import DEMO_CNN
from snn_models.layers import layer_converters
from snn_models.zoo import zoo_specs


@hookimpl
def snn_models():
    return [DEMO_CNN, *zoo_specs()]


@hookimpl
def snn_layer_converters():
    return layer_converters()
