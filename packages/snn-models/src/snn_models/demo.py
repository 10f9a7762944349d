"""The demo CNN: a small convolutional network with batch norm for 28x28 digits.

Three conv/dense blocks of convolution (or dense), batch norm and ReLU, with average
pooling between the convolutions, then a linear classifier. Every block's batch
norm folds into its kernel, and average pooling is affine, so the whole network
converts without approximation beyond rate coding.
"""

from __future__ import annotations

import keras

from snn_core import ModelSpec, TrainingRecipe


def build_demo_cnn(input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    """Return the demo CNN for ``input_shape`` images in 0..255 and ``num_classes`` classes (logits out)."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    for index, filters in enumerate((16, 32), start=1):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{index}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"conv{index}_bn")(x)
        x = keras.layers.ReLU(name=f"conv{index}_relu")(x)
        x = keras.layers.AveragePooling2D(2, name=f"pool{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(128, use_bias=False, name="dense1")(x)
    x = keras.layers.BatchNormalization(momentum=0.9, name="dense1_bn")(x)
    x = keras.layers.ReLU(name="dense1_relu")(x)
    outputs = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="demo_cnn")


DEMO_CNN = ModelSpec(
    name="demo_cnn",
    build=build_demo_cnn,
    recipe=TrainingRecipe(epochs=4, batch_size=64, optimizer="adam", learning_rate=2e-3),
    description="small CNN with batch norm and average pooling (about 0.2M parameters), for the embedded digits",
)
