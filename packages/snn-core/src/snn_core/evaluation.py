"""DNN inference: classification accuracy of a Keras model on a dataset."""

from __future__ import annotations

from collections.abc import Callable

import keras
import tensorflow as tf

from snn_core.distribute import SUM, reduce_over_dataset


def evaluate(
    model: keras.Model,
    dataset: tf.data.Dataset,
    progress: Callable[[int], None] | None = None,
    strategy: tf.distribute.Strategy | None = None,
) -> float:
    """Return the top-1 accuracy (a fraction) of ``model`` on a batched ``(images, labels)`` dataset.

    The model runs in inference mode; logits and probabilities give the same result.
    Predictions are counted batch by batch, so memory does not grow with the
    dataset. Under a ``strategy`` each replica counts its share of every batch.
    """

    def count_correct(images, labels):
        outputs = model(images, training=False)
        predictions = tf.argmax(outputs, axis=-1, output_type=tf.int32)
        return tf.reduce_sum(tf.cast(predictions == tf.cast(labels, tf.int32), tf.int64))

    correct, seen = reduce_over_dataset(dataset, count_correct, SUM, strategy, progress)
    return int(correct) / seen
