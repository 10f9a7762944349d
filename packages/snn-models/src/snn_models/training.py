"""Training a model under a recorded recipe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf
from snn_core import DatasetSpec, ModelSpec, SnnError, TrainingRecipe, provenance, save_model, write_json


def make_optimizer(recipe: TrainingRecipe, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """Return the optimizer and learning-rate schedule that ``recipe`` names."""
    total_steps = max(1, recipe.epochs * steps_per_epoch)
    if recipe.schedule == "constant":
        learning_rate: Any = recipe.learning_rate
    elif recipe.schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(recipe.learning_rate, total_steps)
    elif recipe.schedule == "step":
        boundaries = [int(total_steps * 0.5), int(total_steps * 0.75)]
        values = [recipe.learning_rate, recipe.learning_rate / 10, recipe.learning_rate / 100]
        learning_rate = keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)
    else:
        raise SnnError(f"unknown learning-rate schedule {recipe.schedule!r}; valid schedules: constant, cosine, step")

    if recipe.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=recipe.momentum, nesterov=recipe.nesterov)
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate)
    if recipe.optimizer == "adamw":
        return keras.optimizers.AdamW(learning_rate, weight_decay=recipe.weight_decay)
    raise SnnError(f"unknown optimizer {recipe.optimizer!r}; valid optimizers: adam, adamw, sgd")


def train(
    spec: ModelSpec,
    dataset: DatasetSpec,
    output_dir: Path | str,
    recipe: TrainingRecipe | None = None,
    data_dir: Path | str | None = None,
    progress: Callable[[int, dict[str, float]], None] | None = None,
) -> keras.Model:
    """Build ``spec`` for ``dataset``, train it, and write ``model.keras`` and ``training.json``.

    Args:
        spec: the architecture.
        dataset: the dataset; its ``train_split`` is used.
        output_dir: where the artifacts go.
        recipe: training conditions; ``spec.recipe`` when ``None``.
        progress: optional ``progress(epoch, logs)`` called after every epoch.

    Returns:
        The trained model.
    """
    recipe = recipe or spec.recipe
    output_dir = Path(output_dir)
    keras.utils.set_random_seed(recipe.seed)

    model = spec.build(dataset.image_shape, dataset.num_classes)
    train_data = dataset.load(dataset.train_split, data_dir)
    examples = dataset.num_examples.get(dataset.train_split) or int(train_data.cardinality())
    if examples <= 0:
        raise SnnError(f"the {dataset.train_split!r} split of dataset {dataset.name!r} is empty or of unknown size")
    steps_per_epoch = -(-examples // recipe.batch_size)

    train_data = (
        train_data.shuffle(min(examples, 50_000), seed=recipe.seed, reshuffle_each_iteration=True)
        .batch(recipe.batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=not _ends_in_softmax(model))
    model.compile(optimizer=make_optimizer(recipe, steps_per_epoch), loss=loss, metrics=["accuracy"])

    callbacks = []
    if progress is not None:
        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: progress(epoch + 1, logs)))
    history = model.fit(train_data, epochs=recipe.epochs, verbose=0, callbacks=callbacks, shuffle=False)

    save_model(model, output_dir / "model.keras")
    write_json(
        output_dir / "training.json",
        {
            "model": spec.name,
            "dataset": dataset.name,
            "recipe": recipe.to_dict(),
            "final_loss": float(history.history["loss"][-1]),
            "final_train_accuracy": float(history.history["accuracy"][-1]),
            "provenance": provenance(model=spec.name, dataset=dataset.name),
        },
    )
    return model


def _ends_in_softmax(model: keras.Model) -> bool:
    activation = getattr(model.layers[-1], "activation", None)
    return activation is not None and getattr(activation, "__name__", "") == "softmax"
