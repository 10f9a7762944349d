"""Residual networks for 32x32 images, in the original and the pre-activation form.

Original (V1) blocks follow He, Zhang, Ren and Sun, "Deep residual learning for
image recognition" (CVPR 2016): convolution, batch norm and ReLU, with the ReLU
after the addition. Pre-activation (V2) blocks follow He, Zhang, Ren and Sun,
"Identity mappings in deep residual networks" (ECCV 2016): batch norm and ReLU
before each convolution, nothing after the addition, and one batch norm and ReLU
before the classifier.

Every convolution has a bias and every batch norm a scale and an offset. Where a
block changes the resolution or the width, the shortcut is a strided 1x1
convolution (a "projection"); :func:`build_he_cifar_resnet` uses the
parameter-free option-A shortcut instead.

In a V1 network every batch norm follows a convolution and folds into it. In a V2
network the batch norm that opens each block reads the sum of the previous block,
so it cannot be folded: it stays as a per-channel affine map before the neurons.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from snn_models.layers import ShortcutPadding
from snn_models.preprocessing import standardize_pixels

# Blocks per stage.
CIFAR_DEPTHS = {20: (3, 3, 3), 32: (5, 5, 5), 44: (7, 7, 7), 56: (9, 9, 9), 110: (18, 18, 18)}
IMAGENET_STYLE_DEPTHS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3)}
CIFAR_WIDTHS = (64, 128, 256)
IMAGENET_STYLE_WIDTHS = (64, 128, 256, 512)
HE_CIFAR_WIDTHS = (16, 32, 64)
BOTTLENECK_EXPANSION = 4


def _conv(filters: int, size: int, stride: int, name: str) -> keras.layers.Conv2D:
    return keras.layers.Conv2D(
        filters, size, strides=stride, padding="same", kernel_initializer="he_normal", name=name
    )


def _bn(name: str) -> keras.layers.BatchNormalization:
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name)


def _basic_block_v1(x, filters: int, stride: int, name: str):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = _conv(filters, 1, stride, f"{name}_proj")(x)
        shortcut = _bn(f"{name}_proj_bn")(shortcut)

    x = _conv(filters, 3, stride, f"{name}_conv1")(x)
    x = _bn(f"{name}_bn1")(x)
    x = keras.layers.ReLU(name=f"{name}_relu1")(x)
    x = _conv(filters, 3, 1, f"{name}_conv2")(x)
    x = _bn(f"{name}_bn2")(x)
    x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
    return keras.layers.ReLU(name=f"{name}_out")(x)


def _bottleneck_block_v1(x, filters: int, stride: int, name: str):
    out_filters = filters * BOTTLENECK_EXPANSION
    shortcut = x
    if stride != 1 or x.shape[-1] != out_filters:
        shortcut = _conv(out_filters, 1, stride, f"{name}_proj")(x)
        shortcut = _bn(f"{name}_proj_bn")(shortcut)

    x = _conv(filters, 1, 1, f"{name}_conv1")(x)
    x = _bn(f"{name}_bn1")(x)
    x = keras.layers.ReLU(name=f"{name}_relu1")(x)
    x = _conv(filters, 3, stride, f"{name}_conv2")(x)
    x = _bn(f"{name}_bn2")(x)
    x = keras.layers.ReLU(name=f"{name}_relu2")(x)
    x = _conv(out_filters, 1, 1, f"{name}_conv3")(x)
    x = _bn(f"{name}_bn3")(x)
    x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
    return keras.layers.ReLU(name=f"{name}_out")(x)


def _basic_block_v2(x, filters: int, stride: int, name: str):
    preactivated = _bn(f"{name}_preact_bn")(x)
    preactivated = keras.layers.ReLU(name=f"{name}_preact_relu")(preactivated)
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = _conv(filters, 1, stride, f"{name}_proj")(preactivated)

    x = _conv(filters, 3, stride, f"{name}_conv1")(preactivated)
    x = _bn(f"{name}_bn1")(x)
    x = keras.layers.ReLU(name=f"{name}_relu1")(x)
    x = _conv(filters, 3, 1, f"{name}_conv2")(x)
    return keras.layers.Add(name=f"{name}_add")([shortcut, x])


def _bottleneck_block_v2(x, filters: int, stride: int, name: str):
    out_filters = filters * BOTTLENECK_EXPANSION
    preactivated = _bn(f"{name}_preact_bn")(x)
    preactivated = keras.layers.ReLU(name=f"{name}_preact_relu")(preactivated)
    shortcut = x
    if stride != 1 or x.shape[-1] != out_filters:
        shortcut = _conv(out_filters, 1, stride, f"{name}_proj")(preactivated)

    x = _conv(filters, 1, 1, f"{name}_conv1")(preactivated)
    x = _bn(f"{name}_bn1")(x)
    x = keras.layers.ReLU(name=f"{name}_relu1")(x)
    x = _conv(filters, 3, stride, f"{name}_conv2")(x)
    x = _bn(f"{name}_bn2")(x)
    x = keras.layers.ReLU(name=f"{name}_relu2")(x)
    x = _conv(out_filters, 1, 1, f"{name}_conv3")(x)
    return keras.layers.Add(name=f"{name}_add")([shortcut, x])


def build_resnet(
    input_shape: tuple[int, ...],
    num_classes: int,
    depths: Sequence[int],
    widths: Sequence[int],
    bottleneck: bool = False,
    preactivation: bool = False,
    name: str = "resnet",
) -> keras.Model:
    """Return a residual network for small images (a 3x3 stem, no stem pooling).

    Args:
        input_shape: ``(height, width, channels)`` of raw 0..255 images.
        num_classes: number of logits.
        depths: blocks per stage; every stage after the first halves the resolution.
        widths: filters per stage (bottleneck blocks output four times as many).
        bottleneck: use 1x1-3x3-1x1 bottleneck blocks instead of two 3x3 convolutions.
        preactivation: use pre-activation (V2) blocks.
        name: the model's name.
    """
    if len(depths) != len(widths):
        raise ValueError(f"depths {tuple(depths)} and widths {tuple(widths)} must have the same length")
    if preactivation:
        block = _bottleneck_block_v2 if bottleneck else _basic_block_v2
    else:
        block = _bottleneck_block_v1 if bottleneck else _basic_block_v1

    inputs = keras.Input(shape=input_shape, name="image")
    x = standardize_pixels(inputs)
    x = _conv(widths[0], 3, 1, "stem_conv")(x)
    if not preactivation:
        x = _bn("stem_bn")(x)
        x = keras.layers.ReLU(name="stem_relu")(x)

    for stage, (depth, filters) in enumerate(zip(depths, widths, strict=True), start=1):
        for index in range(1, depth + 1):
            stride = 2 if stage > 1 and index == 1 else 1
            x = block(x, filters, stride, f"stage{stage}_block{index}")

    if preactivation:
        x = _bn("final_bn")(x)
        x = keras.layers.ReLU(name="final_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def build_he_cifar_resnet(
    input_shape: tuple[int, ...], num_classes: int, depth: int, name: str | None = None
) -> keras.Model:
    """Return the CIFAR ResNet of He et al. (2016): widths 16/32/64 and option-A shortcuts.

    ``depth`` is 6n + 2 for n blocks per stage (20, 32, 44, 56 or 110).
    """
    if depth not in CIFAR_DEPTHS:
        raise ValueError(f"depth must be one of {sorted(CIFAR_DEPTHS)}, got {depth}")
    inputs = keras.Input(shape=input_shape, name="image")
    x = standardize_pixels(inputs)
    x = _conv(HE_CIFAR_WIDTHS[0], 3, 1, "stem_conv")(x)
    x = _bn("stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)

    for stage, (blocks, filters) in enumerate(zip(CIFAR_DEPTHS[depth], HE_CIFAR_WIDTHS, strict=True), start=1):
        for index in range(1, blocks + 1):
            block_name = f"stage{stage}_block{index}"
            stride = 2 if stage > 1 and index == 1 else 1
            shortcut = x
            if stride != 1 or x.shape[-1] != filters:
                shortcut = ShortcutPadding(filters, stride, name=f"{block_name}_shortcut")(x)
            y = _conv(filters, 3, stride, f"{block_name}_conv1")(x)
            y = _bn(f"{block_name}_bn1")(y)
            y = keras.layers.ReLU(name=f"{block_name}_relu1")(y)
            y = _conv(filters, 3, 1, f"{block_name}_conv2")(y)
            y = _bn(f"{block_name}_bn2")(y)
            x = keras.layers.Add(name=f"{block_name}_add")([shortcut, y])
            x = keras.layers.ReLU(name=f"{block_name}_out")(x)

    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=name or f"he_resnet{depth}")
