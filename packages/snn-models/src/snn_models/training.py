"""Training a model under a recorded recipe, with a checkpoint every epoch.

:func:`train` writes into one run directory:

- ``training.json``: the model, dataset and full recipe, written before the first
  step and again at the end with the loss and accuracy of every epoch;
- ``checkpoint/``: the weights, optimizer state and epoch of the last finished
  epoch (``keras.callbacks.BackupAndRestore``), kept after training so a later
  call with ``resume=True`` continues from it;
- ``model.keras``: the trained model.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import tensorflow as tf

from snn_core import (
    DatasetSpec,
    ModelSpec,
    SnnError,
    TrainingRecipe,
    provenance,
    read_json,
    save_model,
    write_json,
)
from snn_core.distribute import is_chief
from snn_core.precision import check_precision, with_precision
from snn_models.augmentation import augment, uses_soft_labels
from snn_models.schedules import learning_rate_schedule

CHECKPOINT_DIR = "checkpoint"
SHUFFLE_BUFFER = 10_000


def make_optimizer(recipe: TrainingRecipe, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """Return the optimizer and learning-rate schedule that ``recipe`` names."""
    learning_rate = learning_rate_schedule(recipe, steps_per_epoch)
    weight_decay = recipe.weight_decay or None
    if recipe.optimizer == "sgd":
        return keras.optimizers.SGD(
            learning_rate, momentum=recipe.momentum, nesterov=recipe.nesterov, weight_decay=weight_decay
        )
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate, weight_decay=weight_decay)
    return keras.optimizers.AdamW(learning_rate, weight_decay=recipe.weight_decay)


def has_checkpoint(output_dir: Path | str) -> bool:
    """Return whether ``output_dir`` contains a checkpoint that :func:`train` can resume."""
    return any((Path(output_dir) / CHECKPOINT_DIR).glob("*.weights.h5"))


def train(
    spec: ModelSpec,
    dataset: DatasetSpec,
    output_dir: Path | str,
    recipe: TrainingRecipe | None = None,
    data_dir: Path | str | None = None,
    progress: Callable[[int, dict[str, float]], None] | None = None,
    weights: Path | str | None = None,
    resume: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    keep_checkpoint: bool = True,
    strategy: tf.distribute.Strategy | None = None,
    precision: str = "float32",
) -> keras.Model:
    """Build ``spec`` for ``dataset``, train it, and write the run directory's artifacts.

    Args:
        spec: the architecture.
        dataset: the dataset; its ``train_split`` is used.
        output_dir: the run directory (see the module docstring for its contents).
        recipe: training conditions; ``spec.recipe`` when ``None``.
        data_dir: the dataset's files, for datasets that read from disk.
        progress: optional ``progress(epoch, logs)`` called after every epoch.
        weights: a ``.keras``, ``.h5`` or ``.weights.h5`` file loaded into the new
            model by layer name before training; with ``recipe.epochs == 0`` the
            model is only saved.
        resume: continue from the checkpoint in ``output_dir`` (weights, optimizer
            state, step count and epoch).
        callbacks: extra Keras callbacks for ``fit``.
        keep_checkpoint: keep ``checkpoint/`` after training finishes, so that a
            later call with more epochs and ``resume=True`` continues the run.
        strategy: a ``tf.distribute`` strategy for synchronous data-parallel
            training; ``recipe.batch_size`` is the global batch. Only the chief
            writes into ``output_dir``; other workers write into a temporary
            directory. Batch-norm statistics are synchronized across replicas, so
            every replica ends with the same weights.
        precision: Keras dtype policy during training (``mixed_float16``,
            ``mixed_bfloat16``); the saved model computes in float32 again.

    Returns:
        The trained model.

    Raises:
        SnnError: ``output_dir`` contains a checkpoint but ``resume`` is false, or
            ``resume`` is true and it contains none, or the recipe differs from the
            one the checkpoint was trained with.
    """
    recipe = recipe or spec.recipe
    strategy = strategy or tf.distribute.get_strategy()
    output_dir = Path(output_dir) if is_chief(strategy) else Path(tempfile.mkdtemp(prefix="snn-worker-"))
    _check_resume(output_dir, resume, spec, dataset, recipe)
    keras.utils.set_random_seed(recipe.seed)

    train_data, steps_per_epoch = _training_data(dataset, recipe, data_dir)
    check_precision(precision)
    with strategy.scope():
        previous_policy = keras.config.dtype_policy()
        keras.config.set_dtype_policy(precision)
        try:
            model = spec.build(dataset.image_shape, dataset.num_classes)
        finally:
            keras.config.set_dtype_policy(previous_policy)
        if weights is not None:
            from snn_models.weights import load_weights

            load_weights(model, weights)

        soft_labels = uses_soft_labels(recipe)
        from_logits = not _ends_in_softmax(model)
        if soft_labels:
            loss = keras.losses.CategoricalCrossentropy(from_logits=from_logits)
            metrics = [keras.metrics.CategoricalAccuracy(name="accuracy")]
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        model.compile(optimizer=make_optimizer(recipe, steps_per_epoch), loss=loss, metrics=metrics)

    document = {
        "model": spec.name,
        "dataset": dataset.name,
        "recipe": recipe.to_dict(),
        "weights": str(weights) if weights is not None else None,
        "steps_per_epoch": steps_per_epoch,
        "precision": precision,
        "strategy": {
            "type": type(strategy).__name__,
            "replicas": strategy.num_replicas_in_sync,
            "workers": _worker_count(strategy),
        },
        "provenance": provenance(model=spec.name, dataset=dataset.name),
    }
    write_json(output_dir / "training.json", document)

    # Batch norms of replicas that each normalize with their own share's moments
    # would end with different moving statistics; synchronized moments keep every
    # replica's copy identical.
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    synchronize = strategy.num_replicas_in_sync > 1
    for layer in norms:
        layer.synchronized = synchronize

    history: dict[str, list[float]] = {}
    if recipe.epochs > 0 and isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        if resume:
            raise SnnError("--resume is not supported with the multi-worker strategy yet; start the run again")
        history = fit_multi_worker(model, train_data, recipe.epochs, steps_per_epoch, strategy, progress)
    elif recipe.epochs > 0:
        fit_callbacks = [
            keras.callbacks.BackupAndRestore(
                output_dir / CHECKPOINT_DIR, save_freq="epoch", delete_checkpoint=not keep_checkpoint
            ),
            *callbacks,
        ]
        if progress is not None:
            fit_callbacks.append(
                keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: progress(epoch + 1, logs))
            )
        result = model.fit(
            train_data,
            epochs=recipe.epochs,
            steps_per_epoch=steps_per_epoch,
            verbose=0,
            callbacks=fit_callbacks,
            shuffle=False,
        )
        history = {key: [float(value) for value in values] for key, values in result.history.items()}

    for layer in norms:
        layer.synchronized = False
    optimizer_steps = int(model.optimizer.iterations.numpy())
    if precision != "float32":
        model = with_precision(model, "float32")
    save_model(model, output_dir / "model.keras")
    document.update(
        {
            "optimizer_steps": optimizer_steps,
            "history": history,
            "final_loss": history["loss"][-1] if history.get("loss") else None,
            "final_train_accuracy": history["accuracy"][-1] if history.get("accuracy") else None,
        }
    )
    write_json(output_dir / "training.json", document)
    return model


def _worker_count(strategy: tf.distribute.Strategy) -> int:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return 1
    return max(1, len(resolver.cluster_spec().as_dict().get("worker", [])) + len(resolver.cluster_spec().as_dict().get("chief", [])))


def fit_multi_worker(
    model: keras.Model,
    train_data: tf.data.Dataset,
    epochs: int,
    steps_per_epoch: int,
    strategy: tf.distribute.Strategy,
    progress: Callable[[int, dict[str, float]], None] | None = None,
) -> dict[str, list[float]]:
    """Train a compiled ``model`` with a custom loop under a multi-worker strategy.

    Keras 3's ``fit`` does not run under ``MultiWorkerMirroredStrategy`` (it fails
    converting per-replica values, keras-team/keras issue 20585, open for Keras
    3.15), so the loop is written here with ``strategy.run``: each replica computes
    the loss on its share of the global batch, gradients are summed across
    replicas by the optimizer, and batch-norm statistics are synchronized.

    Returns:
        ``{"loss": [...], "accuracy": [...]}``, the mean training loss and the
        training accuracy of every epoch.
    """
    # NOTE: no per-epoch checkpoint in this loop, so a multi-worker run cannot resume.
    loss_function = model.loss
    optimizer = model.optimizer
    replicas = strategy.num_replicas_in_sync

    def replica_step(images, labels):
        with tf.GradientTape() as tape:
            outputs = model(images, training=True)
            # Each replica's mean over its equal share; the sum over replicas is the global mean.
            loss = loss_function(labels, outputs) / replicas
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))

        classes = labels if labels.shape.rank == 1 else tf.argmax(labels, axis=-1)
        predictions = tf.argmax(outputs, axis=-1)
        correct = tf.reduce_sum(tf.cast(predictions == tf.cast(classes, predictions.dtype), tf.float32))
        return loss, correct, tf.cast(tf.shape(outputs)[0], tf.float32)

    @tf.function
    def global_step(images, labels):
        results = strategy.run(replica_step, args=(images, labels))
        return [strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None) for value in results]

    batches = iter(strategy.experimental_distribute_dataset(train_data))
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    for epoch in range(1, epochs + 1):
        loss_sum, correct, seen = 0.0, 0.0, 0.0
        for _ in range(steps_per_epoch):
            images, labels = next(batches)
            loss, batch_correct, batch_size = global_step(images, labels)
            loss_sum += float(loss)
            correct += float(batch_correct)
            seen += float(batch_size)
        history["loss"].append(loss_sum / steps_per_epoch)
        history["accuracy"].append(correct / seen)
        if progress is not None:
            progress(epoch, {"loss": history["loss"][-1], "accuracy": history["accuracy"][-1]})

    return history


def _check_resume(output_dir: Path, resume: bool, spec: ModelSpec, dataset: DatasetSpec, recipe: TrainingRecipe) -> None:
    found = has_checkpoint(output_dir)
    if found and not resume:
        raise SnnError(
            f"{output_dir} already contains a training checkpoint; pass --resume to continue that run, "
            "or choose another output directory"
        )
    if resume and not found:
        raise SnnError(f"nothing to resume: {output_dir / CHECKPOINT_DIR} contains no checkpoint")
    if not resume:
        return

    saved_path = output_dir / "training.json"
    if not saved_path.is_file():
        return
    saved = read_json(saved_path)
    current = {"model": spec.name, "dataset": dataset.name, **recipe.to_dict()}
    before = {"model": saved.get("model"), "dataset": saved.get("dataset"), **saved.get("recipe", {})}
    # More epochs than before is allowed: the run continues past its old end.
    changed = sorted(key for key in current if key != "epochs" and before.get(key) != current[key])
    if changed:
        details = ", ".join(f"{key} {before.get(key)!r} -> {current[key]!r}" for key in changed)
        raise SnnError(f"cannot resume {output_dir}: the training conditions changed ({details})")


def _training_data(dataset: DatasetSpec, recipe: TrainingRecipe, data_dir) -> tuple[tf.data.Dataset, int]:
    data = dataset.load(dataset.train_split, data_dir)
    examples = dataset.num_examples.get(dataset.train_split) or int(data.cardinality())
    if examples <= 0:
        raise SnnError(f"the {dataset.train_split!r} split of dataset {dataset.name!r} is empty or of unknown size")
    if recipe.batch_size > examples:
        raise SnnError(
            f"batch size {recipe.batch_size} is larger than the {examples} examples of the "
            f"{dataset.train_split!r} split of {dataset.name!r}; choose a batch size of at most {examples}"
        )
    # Whole batches only, so every step trains on batch_size images and the batch-norm
    # statistics of the last step are not computed from a few images.
    steps_per_epoch = recipe.steps_per_epoch or examples // recipe.batch_size

    data = data.shuffle(min(examples, SHUFFLE_BUFFER), seed=recipe.seed, reshuffle_each_iteration=True)
    data = data.repeat().batch(recipe.batch_size, drop_remainder=True)
    data = augment(data, recipe, dataset.image_shape, dataset.num_classes)
    return data.prefetch(tf.data.AUTOTUNE), steps_per_epoch


def _ends_in_softmax(model: keras.Model) -> bool:
    activation = getattr(model.layers[-1], "activation", None)
    return activation is not None and getattr(activation, "__name__", "") == "softmax"
