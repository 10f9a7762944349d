"""Run pipeline steps on one device and mirrored over 2 logical CPUs; print the results as JSON.

Executed by test_distribute.py in a fresh process, because logical devices must be
configured before TensorFlow starts.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from snn_core.distribute import MAX, SUM, configure_logical_cpus, make_strategy, reduce_over_dataset  # noqa: E402

configure_logical_cpus(2)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from snn_core import (  # noqa: E402
    NormalizationMethod,
    Plugins,
    Simulator,
    batched,
    collect_activation_stats,
    convert,
    evaluate,
    get_dataset,
    hookimpl,
)
from snn_core.precision import with_precision  # noqa: E402


def demo_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.AveragePooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


def _reductions(model: keras.Model, test, strategy) -> list:
    def largest_logit_and_count(images, labels):
        logits = model(images, training=False)
        return tf.reduce_max(logits, axis=0), tf.size(labels, out_type=tf.int64)

    (largest, count), images = reduce_over_dataset(test, largest_logit_and_count, (MAX, SUM), strategy)
    return [largest.tolist(), int(count), images]


class _LayerMaximum:
    """A normalization plugin for this check alone, so it needs no snn-norm."""

    @hookimpl
    def snn_normalizers(self):
        return [NormalizationMethod("check-max", lambda stats, argument: {name: layer.max for name, layer in stats.layers.items()})]


def _simulations(model: keras.Model, digits, test, strategy) -> dict:
    plugins = Plugins()
    plugins.register(_LayerMaximum(), name="check-max")
    train = batched(digits.load("train").take(500), 100)
    stats = collect_activation_stats(model, train, plugins=plugins)
    network = convert(model, stats, normalization="check-max", plugins=plugins)
    simulator = Simulator(network, plugins=plugins)

    one_device = simulator.run(test, 16)
    mirrored = simulator.run(test, 16, strategy=strategy)

    # Poisson draws follow each image's position, so they survive the split too.
    poisson = Simulator(network, encoder="poisson", seed=5, plugins=plugins)
    poisson_one_device = poisson.run(test, 8)
    poisson_mirrored = poisson.run(test, 8, strategy=strategy)
    return {
        "default_snn_accuracy": one_device.accuracy_per_step.tolist(),
        "mirrored_snn_accuracy": mirrored.accuracy_per_step.tolist(),
        "default_spike_counts": one_device.spike_counts,
        "mirrored_spike_counts": mirrored.spike_counts,
        "mirrored_samples": mirrored.samples,
        "poisson_default_spike_counts": poisson_one_device.spike_counts,
        "poisson_mirrored_spike_counts": poisson_mirrored.spike_counts,
        "poisson_default_snn_accuracy": poisson_one_device.accuracy_per_step.tolist(),
        "poisson_mirrored_snn_accuracy": poisson_mirrored.accuracy_per_step.tolist(),
    }


def main() -> None:
    model = demo_model()
    digits = get_dataset("digits")
    # 333 leaves a last global batch of one image, so one replica gets none.
    test = batched(digits.load("test"), 333)
    mirrored = make_strategy("mirrored")

    results = {
        "replicas": mirrored.num_replicas_in_sync,
        "default_accuracy": evaluate(model, test),
        "mirrored_accuracy": evaluate(model, test, strategy=mirrored),
        "bfloat16_accuracy": evaluate(with_precision(model, "mixed_bfloat16"), test),
        "default_reductions": _reductions(model, test, None),
        "mirrored_reductions": _reductions(model, test, mirrored),
    }
    results.update(_simulations(model, digits, test, mirrored))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
