"""Collect activation statistics on one device and mirrored over 2 logical CPUs; print whether they are equal.

Executed by test_statistics.py in a fresh process, because logical devices must be
configured before TensorFlow starts.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from snn_core.distribute import configure_logical_cpus, make_strategy  # noqa: E402

configure_logical_cpus(2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from snn_core import collect_activation_stats, get_dataset  # noqa: E402


def main() -> None:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv")(x)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(10)(x))

    # 333 leaves a last global batch of one image, so one replica gets none.
    train = get_dataset("digits").load("train").take(1000).batch(333)
    mirrored = make_strategy("mirrored")
    one_device = collect_activation_stats(model, train, channel_histograms=True)
    replicated = collect_activation_stats(model, train, channel_histograms=True, strategy=mirrored)

    layer, other = one_device["conv_relu"], replicated["conv_relu"]
    equal = (
        np.array_equal(layer.histogram, other.histogram)
        and layer.nonpositive == other.nonpositive
        and layer.max == other.max
        and np.array_equal(layer.channel_max, other.channel_max)
        and np.array_equal(layer.channel_histogram, other.channel_histogram)
    )
    json.dump({"replicas": mirrored.num_replicas_in_sync, "equal": bool(equal), "positive": layer.positive}, sys.stdout)


if __name__ == "__main__":
    main()
