"""Training: interrupted runs resume with their optimizer state, recipes name their runs."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from snn_core import SnnError, TrainingRecipe, get_plugins
from snn_models import train
from snn_models.training import has_checkpoint

STEPS_PER_EPOCH = 4


class Interrupt(Exception):
    pass


class StopAtStep(keras.callbacks.Callback):
    """Raise :class:`Interrupt` after ``step`` optimizer steps, like a killed process."""

    def __init__(self, step: int):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) >= self.step:
            raise Interrupt


class RecordOptimizer(keras.callbacks.Callback):
    """Record the step count and a copy of the optimizer variables at train begin and epoch ends."""

    def __init__(self):
        super().__init__()
        self.at_begin = None
        self.at_epoch_end = []
        self.losses = []

    def _snapshot(self):
        return (
            int(self.model.optimizer.iterations.numpy()),
            [np.array(variable) for variable in self.model.optimizer.variables],
        )

    def on_train_begin(self, logs=None):
        # BackupAndRestore restores in its own on_train_begin, which runs first.
        self.at_begin = self._snapshot()

    def on_epoch_end(self, epoch, logs=None):
        self.at_epoch_end.append(self._snapshot())
        self.losses.append(logs["loss"])


@pytest.mark.slow
def test_interrupted_training_resumes_from_checkpoint(tmp_path, cifar_train_subset):
    spec = get_plugins().models.get("resnet20")
    recipe = spec.recipe.replace(
        epochs=3, batch_size=32, steps_per_epoch=STEPS_PER_EPOCH, learning_rate=0.01, warmup_epochs=0
    )
    first = RecordOptimizer()
    with pytest.raises(Interrupt):
        train(spec, cifar_train_subset, tmp_path, recipe, callbacks=[first, StopAtStep(STEPS_PER_EPOCH + 2)])
    assert has_checkpoint(tmp_path)
    assert len(first.at_epoch_end) == 1
    saved_steps, saved_variables = first.at_epoch_end[0]
    assert saved_steps == STEPS_PER_EPOCH

    with pytest.raises(SnnError, match="--resume"):
        train(spec, cifar_train_subset, tmp_path, recipe)

    second = RecordOptimizer()
    model = train(spec, cifar_train_subset, tmp_path, recipe, resume=True, callbacks=[second])
    resumed_steps, resumed_variables = second.at_begin
    assert resumed_steps == STEPS_PER_EPOCH
    assert len(resumed_variables) == len(saved_variables)
    for resumed, saved in zip(resumed_variables, saved_variables, strict=True):
        np.testing.assert_array_equal(resumed, saved)
    assert int(model.optimizer.iterations.numpy()) == 3 * STEPS_PER_EPOCH
    assert len(second.at_epoch_end) == 2  # epochs 2 and 3 only

    document = json.loads((tmp_path / "training.json").read_text())
    assert document["optimizer_steps"] == 3 * STEPS_PER_EPOCH
    assert document["recipe"] == recipe.to_dict()
    # The mean loss of the last epoch after resuming is below that of the first
    # epoch before the interruption.
    print("epoch losses", first.losses, second.losses)
    assert second.losses[-1] < first.losses[0]
    assert document["history"]["loss"] == pytest.approx(second.losses)
    assert (tmp_path / "model.keras").is_file()


def test_resume_rejects_changed_recipe(tmp_path, cifar_train_subset):
    spec = get_plugins().models.get("he_resnet20")
    recipe = TrainingRecipe(epochs=1, batch_size=50, steps_per_epoch=1)
    train(spec, cifar_train_subset, tmp_path, recipe)
    with pytest.raises(SnnError, match="learning_rate"):
        train(spec, cifar_train_subset, tmp_path, recipe.replace(learning_rate=0.5), resume=True)


def test_resume_without_checkpoint_fails(tmp_path, cifar_train_subset):
    spec = get_plugins().models.get("he_resnet20")
    with pytest.raises(SnnError, match="nothing to resume"):
        train(spec, cifar_train_subset, tmp_path, TrainingRecipe(epochs=1), resume=True)


def test_run_name_states_conditions():
    recipe = TrainingRecipe(
        epochs=300, batch_size=100, optimizer="sgd", learning_rate=0.1, schedule="step", weight_decay=1e-4
    )
    assert recipe.run_name() == "ep-300_bat-100_opt-SGD_lr-STEP-1E-01_lmb-1E-04"
    augmented = recipe.replace(random_crop=True, random_flip=True, cutmix=1.0, warmup_epochs=5)
    assert augmented.run_name() == "ep-300_bat-100_opt-SGD_lr-STEP-1E-01_lmb-1E-04_wu-5_crop_flip_cutmix-1E+00"


def test_recipe_rejects_invalid_values():
    with pytest.raises(SnnError, match="optimizer"):
        TrainingRecipe(optimizer="rmsprop")
    with pytest.raises(SnnError, match="warmup_epochs"):
        TrainingRecipe(epochs=2, warmup_epochs=3)


@pytest.mark.parametrize("schedule", ["constant", "step", "cosine"])
def test_warmup_rises_then_follows_schedule(schedule):
    from snn_models.schedules import learning_rate_schedule

    recipe = TrainingRecipe(epochs=4, learning_rate=0.1, schedule=schedule, warmup_epochs=1)
    learning_rate = learning_rate_schedule(recipe, steps_per_epoch=10)
    values = [float(learning_rate(step)) for step in range(40)]
    assert values[0] == 0.0
    assert values[5] == pytest.approx(0.05, rel=1e-5)
    assert values[10] == pytest.approx(0.1, rel=1e-5)
    assert all(later > earlier for earlier, later in zip(values[:10], values[1:11], strict=True))
    if schedule == "step":
        assert values[25] == pytest.approx(0.01, rel=1e-5)
        assert values[35] == pytest.approx(0.001, rel=1e-5)
    if schedule == "cosine":
        assert values[39] < 0.01
    if schedule == "constant":
        assert values[39] == pytest.approx(0.1, rel=1e-5)


def test_augmentation_mixes_labels(cifar_train_subset):
    import tensorflow as tf

    from snn_models.augmentation import augment

    recipe = TrainingRecipe(random_crop=True, random_flip=True, cutmix=1.0, mixup=0.2)
    batches = cifar_train_subset.load("train").batch(16).take(1)
    images, labels = next(iter(augment(batches, recipe, (32, 32, 3), 10)))
    assert images.shape == (16, 32, 32, 3)
    assert labels.shape == (16, 10)
    np.testing.assert_allclose(tf.reduce_sum(labels, axis=1).numpy(), 1.0, rtol=1e-5)
    assert float(tf.reduce_max(labels)) < 1.0 or float(tf.reduce_min(tf.reduce_max(labels, axis=1))) < 1.0
