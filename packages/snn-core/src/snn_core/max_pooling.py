"""Rate-gated spiking max pooling.

The maximum of spike trains is not the spike train of the maximum: passing on
every spike of a pooling window would sum the rates. Rueckauer et al.
("Conversion of continuous-valued deep networks to efficient event-driven
networks", Frontiers in Neuroscience 2017) gate each window instead. At step
``t`` every input adds its value to a running total, and each window passes on
this step's value of the input with the largest total so far, so its output rate
tends to the largest input rate. Where two inputs of a window keep nearly equal
totals, the gate switches between them and passes a few more spikes than the
largest input sent (4 spikes over 134 in 200 steps, 3%, in snn-core's test).

The running total sums spike amplitudes (spikes times threshold), which within one
channel only rescales the spike count, because all neurons of a channel share one
threshold.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from snn_core.layer_converters import Stateful, Unsupported


def rate_gated_max_pooling(layer: keras.layers.MaxPooling2D) -> Stateful | Unsupported:
    """Return the stateful stage that simulates ``layer`` with rate-gated max pooling."""
    if layer.data_format != "channels_last":
        return Unsupported(f"spiking max pooling needs data_format='channels_last', got {layer.data_format!r}")

    pool_height, pool_width = layer.pool_size
    stride_height, stride_width = layer.strides
    sizes = [1, pool_height, pool_width, 1]
    strides = [1, stride_height, stride_width, 1]
    # NOTE: with padding="same", the padded border counts as an input whose total
    # is 0, so a window whose real inputs all have negative totals (possible only
    # with signed neurons) passes nothing where the ANN passes the negative maximum.
    padding = layer.padding.upper()

    def windows(values: tf.Tensor) -> tf.Tensor:
        # [batch, rows, cols, pool_height * pool_width * channels] in row-major
        # order of (row, column, channel), reshaped to separate window and channel.
        patches = tf.image.extract_patches(values, sizes, strides, [1, 1, 1, 1], padding)
        shape = tf.shape(patches)
        channels = tf.shape(values)[-1]
        return tf.reshape(patches, [shape[0], shape[1], shape[2], pool_height * pool_width, channels])

    def initial_state(input_shapes: list[tf.Tensor]) -> tf.Tensor:
        return tf.zeros(input_shapes[0], tf.float32)

    def step(inputs: list[tf.Tensor], totals: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        values = inputs[0]
        totals = totals + values

        # NOTE: tf.argmax picks the first of equal totals on CPU (snn-core's test
        # relies on it), but TensorFlow does not promise which one, on GPU either.
        winners = tf.argmax(windows(totals), axis=3, output_type=tf.int32)
        selected = tf.one_hot(winners, pool_height * pool_width, axis=3, dtype=values.dtype)

        output = tf.reduce_sum(windows(values) * selected, axis=3)
        return output, totals

    return Stateful(
        initial_state=initial_state,
        step=step,
        summary="passes the spikes of the input with the largest spike count so far (Rueckauer et al. 2017)",
    )
