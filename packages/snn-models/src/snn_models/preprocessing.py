"""Preprocessing layers that zoo models put in front of themselves.

Every zoo model takes raw pixels (float32, 0..255) and does its own scaling, so a
dataset never needs to know which model reads it.
"""

from __future__ import annotations

import keras

# Per-channel mean and standard deviation of the CIFAR-10 training images on a 0..1
# scale (the commonly cited values). The CIFAR-100 statistics differ by less than
# 0.02, so CIFAR-100 models use the same normalization.
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)

# Mean and standard deviation of the MNIST training images on a 0..1 scale.
MNIST_MEAN = (0.1307,)
MNIST_STD = (0.3081,)


def standardize_pixels(inputs, name_prefix: str = ""):
    """Scale 0..255 pixels to 0..1 and standardize each channel.

    Three-channel inputs use the CIFAR statistics, one-channel inputs the MNIST
    statistics; other channel counts are only scaled to 0..1.
    """
    x = keras.layers.Rescaling(1.0 / 255.0, name=f"{name_prefix}rescale")(inputs)
    channels = inputs.shape[-1]
    if channels == 3:
        mean, std = CIFAR_MEAN, CIFAR_STD
    elif channels == 1:
        mean, std = MNIST_MEAN, MNIST_STD
    else:
        return x
    variance = [value**2 for value in std]
    return keras.layers.Normalization(mean=list(mean), variance=variance, name=f"{name_prefix}normalize")(x)
