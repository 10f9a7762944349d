"""snn-core's own plugin: the built-in datasets, neuron models, encoders and layer converters.

It is registered through the ``snn`` entry-point group like any third-party plugin.
"""

from __future__ import annotations

from snn_core.digits import DIGITS
from snn_core.encoders import BUILTIN_INPUT_ENCODERS
from snn_core.hookspecs import hookimpl
from snn_core.layer_converters import builtin_layer_converters
from snn_core.neurons import BUILTIN_NEURON_MODELS
from snn_core.npz_dataset import CIFAR10_NPZ
from snn_core.tfds_datasets import TFDS_DATASETS


@hookimpl
def snn_datasets():
    return [DIGITS, CIFAR10_NPZ, *TFDS_DATASETS]


@hookimpl
def snn_neuron_models():
    return list(BUILTIN_NEURON_MODELS)


@hookimpl
def snn_input_encoders():
    return list(BUILTIN_INPUT_ENCODERS)


@hookimpl
def snn_layer_converters():
    return builtin_layer_converters()
