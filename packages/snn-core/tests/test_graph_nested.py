"""Nested models are flattened so that fusion and conversion see every layer."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from snn_core import SnnError, check_fusion, collect_activation_stats, convert, fuse_batch_norm, prepare_for_conversion
from snn_core.graph import layer_graph, output_layer_name


def _randomize_batch_norms(model: keras.Model) -> None:
    rng = np.random.default_rng(0)
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, channels), rng.normal(0, 0.2, channels),
                               rng.normal(0, 0.2, channels), rng.uniform(0.5, 2.0, channels)])


def _application_in_wrapper() -> keras.Model:
    base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights=None)
    inputs = keras.Input((32, 32, 3), name="pixels")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1, name="scale")(inputs)
    x = base(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, outputs, name="wrapper")


def test_nested_application_is_flattened():
    model = _application_in_wrapper()
    nodes = layer_graph(model)
    names = [node.name for node in nodes]
    assert "mobilenetv2_0.35_32" not in names
    assert "Conv1" in names
    by_name = {node.name: node for node in nodes}
    assert by_name["Conv1"].inputs == ("scale",)
    assert by_name["pool"].inputs == ("out_relu",)
    assert output_layer_name(model) == "logits"


def test_nested_model_fuses_and_converts():
    model = _application_in_wrapper()
    _randomize_batch_norms(model)
    images = np.random.default_rng(0).uniform(0, 255, (8, 32, 32, 3)).astype(np.float32)
    fused, report = fuse_batch_norm(model)
    assert len(report.folded) == len([layer for layer in model._flatten_layers()
                                      if isinstance(layer, keras.layers.BatchNormalization)])
    assert not any(isinstance(layer, keras.Model) for layer in fused.layers)
    assert check_fusion(model, fused, images).max_relative_difference < 1e-4

    stats = collect_activation_stats(fused, tf.data.Dataset.from_tensor_slices((images, np.zeros(8, np.int32))).batch(4))
    network = convert(fused, stats, normalization="max")
    assert len(network.thresholds) > 10


def test_nested_sequential_is_flattened():
    inner = keras.Sequential(
        [keras.layers.Conv2D(4, 3, name="inner_conv"), keras.layers.ReLU(name="inner_relu")], name="inner"
    )
    inputs = keras.Input((8, 8, 1), name="pixels")
    outputs = keras.layers.Dense(3, name="logits")(keras.layers.Flatten(name="flat")(inner(inputs)))
    model = keras.Model(inputs, outputs)
    names = [node.name for node in layer_graph(model)]
    assert names == ["pixels", "inner_conv", "inner_relu", "flat", "logits"]
    topology = prepare_for_conversion(model)
    assert [layer.name for layer in topology.layers][1:3] == ["inner_conv", "inner_relu"]


def test_name_clash_after_flattening_fails():
    inner = keras.Sequential([keras.layers.Dense(4, name="dense")], name="inner")
    inputs = keras.Input((4,), name="x")
    outputs = keras.layers.Dense(2, name="dense")(inner(inputs))
    with pytest.raises(SnnError, match="dense"):
        layer_graph(keras.Model(inputs, outputs))
