"""An example snn plugin: a neuron model, a normalization method and a dataset."""

from snn_plugin_example.dataset import DIGITS_INVERTED
from snn_plugin_example.neuron import IF_FLOOR, FloorParameters
from snn_plugin_example.normalization import CHANNEL_MAX

__all__ = ["CHANNEL_MAX", "DIGITS_INVERTED", "IF_FLOOR", "FloorParameters"]
