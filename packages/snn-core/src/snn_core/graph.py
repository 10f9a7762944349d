"""Walk and rebuild Keras functional models layer by layer.

BN fusion, activation splitting and conversion all read a model as a list of
:class:`LayerNode` in topological order and, where they change it, call layers on
new symbolic tensors in that order to build the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras

from snn_core.errors import SnnError


@dataclass(frozen=True)
class LayerNode:
    """One layer of a functional model and the layers that feed it.

    Attributes:
        layer: the Keras layer.
        inputs: names of the layers whose outputs this layer is called on, in call order.
        list_input: whether the layer is called on a list of tensors (``Add``,
            ``Concatenate``) rather than on one tensor.
    """

    layer: keras.layers.Layer
    inputs: tuple[str, ...]
    list_input: bool

    @property
    def name(self) -> str:
        return self.layer.name


def as_functional(model: keras.Model) -> keras.Model:
    """Return ``model`` as a functional model (a ``Sequential`` model is rebuilt on an ``Input``)."""
    if isinstance(model, keras.Sequential):
        inputs = keras.Input(shape=model.input_shape[1:], name=f"{model.name}_input")
        outputs = inputs
        for layer in model.layers:
            outputs = layer(outputs)
        return keras.Model(inputs, outputs, name=model.name)
    return model


def layer_graph(model: keras.Model) -> list[LayerNode]:
    """List the layers of a single-input, single-output functional model in topological order.

    Nested models (a ``keras.applications`` base inside a wrapper, a ``Sequential``
    inside a functional model) are flattened. Their layers appear in place of the
    nested model without its input layer, and layers that read the nested model's
    output read its last layer instead.

    Raises:
        SnnError: the model or a nested model has several inputs or outputs, a
            layer is called more than once, or a nested layer's name is also used
            outside the nested model.
    """
    model = as_functional(model)
    _check_single_input_output(model)

    nodes: list[LayerNode] = []
    aliases: dict[str, str] = {}  # nested model name -> name of the layer computing its output
    for layer in model.operations:
        own_nodes = [node for node in layer._inbound_nodes if _belongs_to(node, model)]
        if len(own_nodes) != 1:
            raise SnnError(
                f"layer {layer.name!r} ({type(layer).__name__}) is called {len(own_nodes)} times in model "
                f"{model.name!r}; conversion needs every layer to be called exactly once"
            )
        node = own_nodes[0]
        inputs = tuple(aliases.get(name, name) for name in _input_names(node))
        if isinstance(layer, keras.Model):
            nodes.extend(_flattened(layer, inputs))
            aliases[layer.name] = output_layer_name(layer)
            continue
        first_argument = node.arguments.args[0] if node.arguments.args else None
        nodes.append(LayerNode(layer, inputs, isinstance(first_argument, (list, tuple))))

    names = [node.name for node in nodes]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SnnError(
            f"model {model.name!r} uses the layer name(s) {', '.join(duplicates)} both inside a nested model and "
            "outside it; rename the layers so that every name is unique after flattening"
        )
    return nodes


def _check_single_input_output(model: keras.Model) -> None:
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise SnnError(
            f"model {model.name!r} has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
            "conversion supports models with exactly one of each"
        )


def _input_names(node) -> tuple[str, ...]:
    return tuple(tensor._keras_history.operation.name for tensor in node.input_tensors)


def _flattened(nested: keras.Model, outer_inputs: tuple[str, ...]) -> list[LayerNode]:
    """Return the nodes of ``nested`` with its input layer replaced by the outer model's tensor."""
    if len(outer_inputs) != 1:
        raise SnnError(f"nested model {nested.name!r} is called on {len(outer_inputs)} tensors; expected one")
    inner_input = input_layer_name(nested)
    flattened = []
    for node in layer_graph(nested):
        if node.name == inner_input:
            continue
        inputs = tuple(outer_inputs[0] if name == inner_input else name for name in node.inputs)
        flattened.append(LayerNode(node.layer, inputs, node.list_input))
    return flattened


def _belongs_to(node, model: keras.Model) -> bool:
    # A layer shared with another model has inbound nodes that are not part of this
    # one; only nodes whose outputs this model computes count.
    model_tensors = {id(tensor) for tensor in _all_tensors(model)}
    return all(id(tensor) in model_tensors for tensor in node.output_tensors)


def _all_tensors(model: keras.Model) -> list:
    cached = getattr(model, "_snn_tensor_cache", None)
    if cached is None:
        cached = []
        for nodes in model._nodes_by_depth.values():
            for node in nodes:
                cached.extend(node.output_tensors)
        model._snn_tensor_cache = cached
    return cached


def input_layer_name(model: keras.Model) -> str:
    """Return the name of the model's input layer."""
    return as_functional(model).inputs[0]._keras_history.operation.name


def output_layer_name(model: keras.Model) -> str:
    """Return the name of the layer that computes the model's output (inside a nested model if one does)."""
    operation = as_functional(model).outputs[0]._keras_history.operation
    if isinstance(operation, keras.Model):
        return output_layer_name(operation)
    return operation.name


def rebuild(
    model: keras.Model,
    call_layer: Callable[[LayerNode, list], object],
    name: str | None = None,
) -> keras.Model:
    """Build a new functional model by replaying ``model`` layer by layer.

    ``call_layer(node, inputs)`` receives each non-input node with the new symbolic
    tensors of its inputs and returns the new output tensor; returning an input
    tensor unchanged removes the layer.
    """
    model = as_functional(model)
    new_input = keras.Input(shape=model.inputs[0].shape[1:], dtype=model.inputs[0].dtype, name=input_layer_name(model))
    outputs: dict[str, object] = {}
    for node in layer_graph(model):
        if isinstance(node.layer, keras.layers.InputLayer):
            outputs[node.name] = new_input
            continue
        outputs[node.name] = call_layer(node, [outputs[name] for name in node.inputs])
    return keras.Model(new_input, outputs[output_layer_name(model)], name=name or model.name)


def call_node(layer: keras.layers.Layer, node: LayerNode, inputs: list):
    """Call ``layer`` on ``inputs`` the way ``node`` called its own layer."""
    if node.list_input:
        return layer(list(inputs))
    return layer(inputs[0])


def copy_layer(layer: keras.layers.Layer, **config_changes) -> keras.layers.Layer:
    """Return a new, unbuilt layer with ``layer``'s configuration plus ``config_changes``."""
    config = layer.get_config()
    config.update(config_changes)
    return type(layer).from_config(config)
