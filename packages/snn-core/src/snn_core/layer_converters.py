"""How each Keras layer type becomes part of a spiking network.

A :class:`LayerConverter` translates one layer instance into *stages*:

- a Keras layer (:class:`Affine`) that the simulator applies to every time step's
  signals as it is. Any affine map (convolution, dense, average pooling, addition,
  inference-mode batch norm) commutes with averaging over time, so applied to spike
  trains it computes the ANN's value in the mean;
- a :class:`Neuron`, a rectifying activation replaced by spiking neurons;
- :class:`Stateful`, a layer whose spiking counterpart keeps state across time
  steps (the max pooling of :mod:`snn_core.max_pooling`). The spiking topology
  keeps the original Keras layer, so activation statistics see the ANN's
  operation, and the simulator calls the stage's pure functions instead;
- :class:`Dropped`, an operation that has no effect on the prediction (a softmax on
  the output, dropout at inference);
- :class:`Unsupported`, an operation that rate coding cannot represent, with why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import tensorflow as tf

from snn_core.graph import copy_layer


@dataclass(frozen=True)
class Affine:
    """Apply ``layer`` unchanged to each step's signals."""

    layer: keras.layers.Layer


@dataclass(frozen=True)
class Neuron:
    """Replace a rectifier by spiking neurons.

    Attributes:
        max_value: the ANN activation's ceiling (6 for ReLU6), or ``None``.
    """

    max_value: float | None = None


@dataclass(frozen=True)
class Stateful:
    """Simulate the layer with state carried from one time step to the next.

    Both functions must be pure and built from TensorFlow operations, because the
    simulator traces them into its time loop.

    Attributes:
        initial_state: ``initial_state(input_shapes)`` returns the state (a tensor
            or a nest of tensors) for inputs of the given shapes (int32 shape
            tensors, batch axis first).
        step: ``step(inputs, state) -> (output, new_state)``: ``inputs`` is the list
            of this step's input tensors, ``output`` the layer's output at this step.
        summary: one line on what the spiking version does.
    """

    initial_state: Callable[[list[tf.Tensor]], Any]
    step: Callable[[list[tf.Tensor], Any], tuple[tf.Tensor, Any]]
    summary: str = ""


@dataclass(frozen=True)
class Dropped:
    """Leave the operation out of the spiking network."""

    reason: str


@dataclass(frozen=True)
class Unsupported:
    """The operation has no rate-coded counterpart."""

    reason: str


Stage = Affine | Neuron | Stateful | Dropped | Unsupported


@dataclass(frozen=True)
class LayerConverter:
    """The spiking translation of one Keras layer class.

    Attributes:
        name: the Keras class name the entry handles (``"Conv2D"``), the registry key.
        convert: ``convert(layer, is_output)`` returns the stages that replace
            ``layer``, in order. ``is_output`` is true for the layer that computes
            the model's output.
        summary: one line for ``snn plugins``.
    """

    name: str
    convert: Callable[[keras.layers.Layer, bool], list[Stage]]
    summary: str = ""


def _activation_stages(activation_name: str, layer: keras.layers.Layer, is_output: bool) -> list[Stage]:
    if activation_name in ("linear", None):
        return []
    if activation_name == "relu":
        return [Neuron()]
    if activation_name == "relu6":
        return [Neuron(max_value=6.0)]
    if activation_name == "softmax" and is_output:
        return [Dropped("a softmax on the output does not change the predicted class")]
    return [Unsupported(f"activation {activation_name!r} has no rate-coded counterpart")]


def _affine_with_activation(layer: keras.layers.Layer, is_output: bool) -> list[Stage]:
    activation_name = keras.activations.serialize(layer.activation)
    if isinstance(activation_name, dict):
        activation_name = activation_name.get("config", activation_name.get("class_name"))
    stages = _activation_stages(activation_name, layer, is_output)
    if not stages:
        return [Affine(layer)]
    if any(isinstance(stage, Unsupported) for stage in stages):
        return stages
    linear = copy_layer(layer, activation="linear")
    return [Affine(linear), *stages]


def _affine(layer: keras.layers.Layer, is_output: bool) -> list[Stage]:
    return [Affine(layer)]


def _dropped(layer: keras.layers.Layer, is_output: bool) -> list[Stage]:
    return [Dropped("it has no effect at inference")]


def _relu(layer: keras.layers.ReLU, is_output: bool) -> list[Stage]:
    if layer.negative_slope or layer.threshold:
        return [Unsupported(f"ReLU with negative_slope={layer.negative_slope} and threshold={layer.threshold}")]
    return [Neuron(max_value=None if layer.max_value is None else float(layer.max_value))]


def _activation(layer: keras.layers.Activation, is_output: bool) -> list[Stage]:
    name = keras.activations.serialize(layer.activation)
    if isinstance(name, dict):
        name = name.get("config", name.get("class_name"))
    return _activation_stages(name, layer, is_output)


def _softmax(layer: keras.layers.Layer, is_output: bool) -> list[Stage]:
    return _activation_stages("softmax", layer, is_output)


def _max_pooling(layer: keras.layers.MaxPooling2D, is_output: bool) -> list[Stage]:
    from snn_core.max_pooling import rate_gated_max_pooling

    return [rate_gated_max_pooling(layer)]


_AFFINE_WITH_ACTIVATION = ("Conv2D", "DepthwiseConv2D", "Dense", "Conv1D", "SeparableConv2D")
_AFFINE = (
    "AveragePooling2D",
    "GlobalAveragePooling2D",
    "Flatten",
    "Reshape",
    "Add",
    "Concatenate",
    "BatchNormalization",
    "Rescaling",
    "Normalization",
    "ZeroPadding2D",
    "Cropping2D",
    "Identity",
)
_DROPPED = ("Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "ActivityRegularization")


def builtin_layer_converters() -> list[LayerConverter]:
    """Return the converters for the Keras layers snn-core handles itself."""
    converters = [
        LayerConverter(name, _affine_with_activation, "affine; a ReLU/ReLU6 activation becomes neurons")
        for name in _AFFINE_WITH_ACTIVATION
    ]
    converters += [LayerConverter(name, _affine, "affine, applied to spikes as is") for name in _AFFINE]
    converters += [LayerConverter(name, _dropped, "no effect at inference, left out") for name in _DROPPED]
    converters += [
        LayerConverter("ReLU", _relu, "integrate-and-fire neurons"),
        LayerConverter("Activation", _activation, "relu and relu6 become neurons; softmax on the output is left out"),
        LayerConverter("Softmax", _softmax, "left out on the output"),
        LayerConverter("MaxPooling2D", _max_pooling, "rate-gated max pooling: passes the spikes of the most active input"),
    ]
    return converters
