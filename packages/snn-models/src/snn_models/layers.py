"""Custom Keras layers of the zoo, with their spiking counterparts.

:class:`ShortcutPadding` is the parameter-free "option A" shortcut of He, Zhang,
Ren and Sun, "Deep residual learning for image recognition" (CVPR 2016). Where a
residual stage halves the resolution and widens the channels, the identity path
keeps every second pixel in each spatial direction and fills the new channels with
zeros. It is linear, so a spiking network applies it to spikes as it is.
:class:`ReverseChannels` (RGB to BGR) is a permutation, also linear.
"""

from __future__ import annotations

import keras

from snn_core import Affine, LayerConverter


@keras.saving.register_keras_serializable(package="snn_models")
class ShortcutPadding(keras.layers.Layer):
    """Subsample an NHWC tensor by ``stride`` and zero-pad its channels to ``filters``.

    The added channels are split evenly before and after the existing ones (one
    more after when the difference is odd), so every input channel keeps its
    value.

    Args:
        filters: number of output channels; at least the number of input channels.
        stride: spatial subsampling factor (1 keeps the resolution).

    Call arguments:
        inputs: float tensor ``(batch, height, width, channels)``.

    Reference:
        He, Zhang, Ren and Sun, "Deep residual learning for image recognition",
        CVPR 2016 (shortcut option A).
    """

    def __init__(self, filters: int, stride: int = 2, **kwargs):
        super().__init__(**kwargs)
        if filters < 1:
            raise ValueError(f"filters must be at least 1, got {filters}")
        if stride < 1:
            raise ValueError(f"stride must be at least 1, got {stride}")
        self.filters = int(filters)
        self.stride = int(stride)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is not None and channels > self.filters:
            raise ValueError(f"ShortcutPadding {self.name!r} cannot narrow {channels} channels to filters={self.filters}")
        self.built = True

    def call(self, inputs):
        subsampled = inputs[:, :: self.stride, :: self.stride, :]
        extra = self.filters - inputs.shape[-1]
        before = extra // 2
        return keras.ops.pad(subsampled, [[0, 0], [0, 0], [0, 0], [before, extra - before]])

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        height = None if height is None else -(-height // self.stride)
        width = None if width is None else -(-width // self.stride)
        return (batch, height, width, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "stride": self.stride})
        return config


@keras.saving.register_keras_serializable(package="snn_models")
class ReverseChannels(keras.layers.Layer):
    """Reverse the order of the last axis (RGB to BGR).

    Keras Applications ResNets were trained on BGR images; putting this layer in
    front lets them read RGB pixels like every other zoo model.

    Call arguments:
        inputs: float tensor ``(..., channels)``.
    """

    def call(self, inputs):
        return keras.ops.flip(inputs, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape


def _affine(layer: keras.layers.Layer, is_output: bool):
    return [Affine(layer)]


def layer_converters() -> list[LayerConverter]:
    """Return the converters for the zoo's custom layers."""
    return [
        LayerConverter("ShortcutPadding", _affine, "option-A residual shortcut (subsample, zero-pad channels); linear"),
        LayerConverter("ReverseChannels", _affine, "channel permutation (RGB to BGR); linear"),
    ]
