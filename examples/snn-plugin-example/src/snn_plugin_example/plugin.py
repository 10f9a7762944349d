"""The hook implementations that the ``snn`` entry point announces."""

from snn_core import hookimpl
from snn_plugin_example.dataset import DIGITS_INVERTED
from snn_plugin_example.neuron import IF_FLOOR
from snn_plugin_example.normalization import CHANNEL_MAX


@hookimpl
def snn_neuron_models():
    return [IF_FLOOR]


@hookimpl
def snn_normalizers():
    return [CHANNEL_MAX]


@hookimpl
def snn_datasets():
    return [DIGITS_INVERTED]
