"""Fold inference-mode batch normalization into the preceding kernel.

A batch-norm layer in inference mode computes, per channel ``c``,

    y_c = gamma_c * (z_c - mu_c) / sqrt(var_c + eps) + beta_c

from its moving mean ``mu`` and variance ``var``. When ``z = W x + b`` comes from a
Conv2D, DepthwiseConv2D or Dense layer whose output feeds only the batch norm and
that has no activation of its own, the pair equals one layer with

    W'_c = W_c * g_c,   b'_c = (b_c - mu_c) * g_c + beta_c,   g_c = gamma_c / sqrt(var_c + eps)

(Ioffe and Szegedy, "Batch normalization: accelerating deep network training by
reducing internal covariate shift", ICML 2015, give the inference transform). Batch
norms that cannot be folded (for example the one that opens a pre-activation block)
stay in the fused model; the converter treats them as a per-channel gain and bias.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from snn_core.errors import FusionMismatchError
from snn_core.graph import LayerNode, call_node, copy_layer, layer_graph, rebuild

FOLDABLE_LAYERS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)


@dataclass(frozen=True)
class FusionReport:
    """The outcome of :func:`fuse_batch_norm`: which batch norms were folded and which were kept.

    Attributes:
        folded: ``(batch-norm layer, kernel layer)`` name pairs that were merged.
        kept: batch-norm layers left in place, each with the reason.
    """

    folded: tuple[tuple[str, str], ...]
    kept: tuple[tuple[str, str], ...]


def fuse_batch_norm(model: keras.Model) -> tuple[keras.Model, FusionReport]:
    """Return a copy of ``model`` with every foldable batch norm merged into its kernel.

    The copy has new layers with the original names; layers that change nothing are
    copied with their weights. Only the moving statistics are used, so the result
    equals ``model(x, training=False)``.
    """
    nodes = layer_graph(model)
    by_name = {node.name: node for node in nodes}
    consumers: dict[str, int] = {}
    for node in nodes:
        for name in node.inputs:
            consumers[name] = consumers.get(name, 0) + 1

    folds: dict[str, str] = {}  # kernel layer name -> batch-norm layer name
    kept = []
    for node in nodes:
        if not isinstance(node.layer, keras.layers.BatchNormalization):
            continue
        reason = _why_not_foldable(node, by_name, consumers)
        if reason is None:
            folds[node.inputs[0]] = node.name
        else:
            kept.append((node.name, reason))
    folded_norms = set(folds.values())

    def call_layer(node: LayerNode, inputs: list):
        if node.name in folded_norms:
            return inputs[0]
        if node.name in folds:
            norm = by_name[folds[node.name]].layer
            fused = copy_layer(node.layer, use_bias=True)
            output = call_node(fused, node, inputs)
            fused.set_weights(_folded_weights(node.layer, norm))
            return output
        clone = copy_layer(node.layer)
        output = call_node(clone, node, inputs)
        clone.set_weights(node.layer.get_weights())
        return output

    fused_model = rebuild(model, call_layer, name=f"{model.name}_fused")
    report = FusionReport(tuple((norm, kernel) for kernel, norm in folds.items()), tuple(kept))
    return fused_model, report


def _why_not_foldable(node: LayerNode, by_name: dict[str, LayerNode], consumers: dict[str, int]) -> str | None:
    norm = node.layer
    source = by_name[node.inputs[0]].layer
    if not isinstance(source, FOLDABLE_LAYERS):
        return f"its input comes from {source.name!r} ({type(source).__name__}), not from a Conv2D, DepthwiseConv2D or Dense layer"
    if keras.activations.serialize(source.activation) not in ("linear", None):
        return f"{source.name!r} applies an activation before the batch norm"
    if consumers.get(source.name, 0) != 1:
        return f"the output of {source.name!r} also feeds other layers"
    axis = norm.axis if isinstance(norm.axis, int) else None
    channel_axis = -1 if getattr(source, "data_format", "channels_last") == "channels_last" else 1
    rank = len(source.output.shape)
    if axis is None or axis % rank != channel_axis % rank:
        return f"it normalizes axis {norm.axis}, not the channel axis of {source.name!r}"
    return None


def _folded_weights(kernel_layer, norm) -> list[np.ndarray]:
    kernel = keras.ops.convert_to_numpy(kernel_layer.kernel).astype(np.float64)
    channels = kernel.shape[-1] if not isinstance(kernel_layer, keras.layers.DepthwiseConv2D) else kernel.shape[-2] * kernel.shape[-1]
    bias = (
        keras.ops.convert_to_numpy(kernel_layer.bias).astype(np.float64)
        if kernel_layer.use_bias
        else np.zeros(channels)
    )

    mean = keras.ops.convert_to_numpy(norm.moving_mean).astype(np.float64)
    variance = keras.ops.convert_to_numpy(norm.moving_variance).astype(np.float64)
    gamma = keras.ops.convert_to_numpy(norm.gamma).astype(np.float64) if norm.scale else np.ones(channels)
    beta = keras.ops.convert_to_numpy(norm.beta).astype(np.float64) if norm.center else np.zeros(channels)

    # float64 for the fold itself: the product is rounded to float32 once.
    gain = gamma / np.sqrt(variance + norm.epsilon)
    if isinstance(kernel_layer, keras.layers.DepthwiseConv2D):
        # Depthwise kernels are (kh, kw, in_channels, multiplier); output channel
        # c * multiplier + m belongs to kernel[..., c, m].
        fused_kernel = kernel * gain.reshape(kernel.shape[-2], kernel.shape[-1])
    else:
        fused_kernel = kernel * gain
    fused_bias = (bias - mean) * gain + beta
    return [fused_kernel.astype(np.float32), fused_bias.astype(np.float32)]


@dataclass(frozen=True)
class FusionCheck:
    """How far the fused model's outputs are from the original's on real inputs.

    Attributes:
        max_abs_difference: largest absolute difference of any output value.
        max_relative_difference: ``max_abs_difference`` divided by the largest
            absolute output of the original model.
        samples: number of inputs compared.
    """

    max_abs_difference: float
    max_relative_difference: float
    samples: int


def check_fusion(original: keras.Model, fused: keras.Model, inputs, tolerance: float = 1e-4) -> FusionCheck:
    """Compare the two models' outputs on ``inputs`` (an array or batched dataset of images).

    Raises:
        FusionMismatchError: the relative difference exceeds ``tolerance``.
    """
    largest_output = 0.0
    largest_difference = 0.0
    samples = 0
    batches = [inputs] if isinstance(inputs, np.ndarray) else (images for images, _ in inputs)
    for images in batches:
        expected = keras.ops.convert_to_numpy(original(images, training=False)).astype(np.float64)
        actual = keras.ops.convert_to_numpy(fused(images, training=False)).astype(np.float64)
        largest_output = max(largest_output, float(np.max(np.abs(expected))))
        largest_difference = max(largest_difference, float(np.max(np.abs(actual - expected))))
        samples += len(expected)

    relative = largest_difference / max(largest_output, np.finfo(np.float32).tiny)
    check = FusionCheck(largest_difference, relative, samples)
    if relative > tolerance:
        raise FusionMismatchError(
            f"fused model differs from the original by {relative:.3g} relative ({largest_difference:.3g} absolute) "
            f"on {samples} inputs, above the tolerance {tolerance:g}; the model may contain a layer that "
            "behaves differently in training mode, please report it with the model"
        )
    return check
