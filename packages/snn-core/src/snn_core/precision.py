"""Mixed precision for DNN training and inference.

``mixed_float16`` and ``mixed_bfloat16`` are Keras dtype policies: layers compute in
16 bits and keep their variables in float32. They speed up GPUs with tensor cores
(float16) and recent CPUs and TPUs (bfloat16).

The spiking simulation always runs in float32. A membrane potential sums T small
input currents; float16 keeps 11 significant bits and bfloat16 8, so increments a
few hundred times smaller than the threshold would be rounded away and spike
counts would drift from the ANN's activations as T grows.
"""

from __future__ import annotations

import keras

from snn_core.errors import SnnError
from snn_core.graph import call_node, copy_layer, output_layer_name, rebuild

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def check_precision(name: str) -> str:
    """Return ``name`` if it is a supported precision policy, else raise :class:`SnnError`."""
    if name not in PRECISIONS:
        raise SnnError(f"unknown --precision value {name!r}; valid precisions: {', '.join(PRECISIONS)}")
    return name


def with_precision(model: keras.Model, precision: str) -> keras.Model:
    """Return a copy of ``model`` whose layers compute under the dtype policy ``precision``.

    The weights are copied unchanged (variables stay float32). The output layer
    keeps float32 so that logits and softmax are not rounded to 16 bits.
    """
    check_precision(precision)
    if precision == "float32" and all(layer.dtype_policy.name == "float32" for layer in model.layers):
        return model
    output_name = output_layer_name(model)

    def call_layer(node, inputs):
        policy = "float32" if node.name == output_name else precision
        layer = copy_layer(node.layer, dtype=policy)
        output = call_node(layer, node, inputs)
        layer.set_weights(node.layer.get_weights())
        return output

    return rebuild(model, call_layer, name=f"{model.name}_{precision}")
