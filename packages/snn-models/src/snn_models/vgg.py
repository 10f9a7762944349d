"""VGG16 with batch norm for 32x32 images.

Thirteen 3x3 convolutions in five groups (64, 64 | 128, 128 | 256 x 3 | 512 x 3 |
512 x 3), each followed by batch norm and ReLU, a 2x2 pooling after every group,
then two hidden dense layers of 512 units with batch norm and ReLU and a linear
classifier (Simonyan and Zisserman, "Very deep convolutional networks for
large-scale image recognition", ICLR 2015, configuration D, with batch norm and a
CIFAR-sized head).

Average pooling is affine, so the average-pooling variant converts exactly up to
rate coding; the max-pooling variant needs a spiking max-pooling converter.
"""

from __future__ import annotations

import keras

from snn_models.preprocessing import standardize_pixels

VGG16_GROUPS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))
HIDDEN_UNITS = (512, 512)


def build_vgg16(
    input_shape: tuple[int, ...], num_classes: int, pooling: str = "average", name: str | None = None
) -> keras.Model:
    """Return VGG16 with batch norm; ``pooling`` is ``"average"`` or ``"max"``."""
    if pooling == "average":
        pool_class = keras.layers.AveragePooling2D
    elif pooling == "max":
        pool_class = keras.layers.MaxPooling2D
    else:
        raise ValueError(f"pooling must be 'average' or 'max', got {pooling!r}")

    inputs = keras.Input(shape=input_shape, name="image")
    x = standardize_pixels(inputs)
    for group, widths in enumerate(VGG16_GROUPS, start=1):
        for index, filters in enumerate(widths, start=1):
            layer_name = f"block{group}_conv{index}"
            x = keras.layers.Conv2D(filters, 3, padding="same", kernel_initializer="he_normal", name=layer_name)(x)
            x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{layer_name}_bn")(x)
            x = keras.layers.ReLU(name=f"{layer_name}_relu")(x)
        x = pool_class(2, name=f"block{group}_pool")(x)

    x = keras.layers.Flatten(name="flatten")(x)
    for index, units in enumerate(HIDDEN_UNITS, start=1):
        x = keras.layers.Dense(units, kernel_initializer="he_normal", name=f"fc{index}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"fc{index}_bn")(x)
        x = keras.layers.ReLU(name=f"fc{index}_relu")(x)
    outputs = keras.layers.Dense(num_classes, name="logits")(x)
    default_name = "vgg16" if pooling == "average" else "vgg16_maxpool"
    return keras.Model(inputs, outputs, name=name or default_name)
