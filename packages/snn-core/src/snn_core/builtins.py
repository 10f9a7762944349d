"""snn-core's own plugin: the built-in datasets, neuron models, encoders and layer converters.

It is registered through the ``snn`` entry-point group like any third-party plugin.
"""

from __future__ import annotations

from snn_core.digits import DIGITS
from snn_core.encoders import ANALOG
from snn_core.hookspecs import hookimpl
from snn_core.layer_converters import builtin_layer_converters
from snn_core.neurons import IF_SUBTRACT


@hookimpl
def snn_datasets():
    return [DIGITS]


@hookimpl
def snn_neuron_models():
    return [IF_SUBTRACT]


@hookimpl
def snn_input_encoders():
    return [ANALOG]


@hookimpl
def snn_layer_converters():
    return builtin_layer_converters()
