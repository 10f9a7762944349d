"""Learning-rate schedules of the training recipes, built from keras.optimizers.schedules."""

from __future__ import annotations

import keras

from snn_core import TrainingRecipe

# The step schedule divides the learning rate by 10 at these fractions of training.
STEP_FRACTIONS = (0.5, 0.75)


@keras.saving.register_keras_serializable(package="snn_models")
class LinearWarmup(keras.optimizers.schedules.LearningRateSchedule):
    """Rise linearly from 0 at step 0 to ``after(warmup_steps)`` at ``warmup_steps``, then follow ``after``.

    Args:
        after: the schedule from step ``warmup_steps`` on; it is called with the
            global step, so its boundaries count from the start of training.
        warmup_steps: length of the linear rise, in optimizer steps.

    Reference:
        Goyal et al., "Accurate, large minibatch SGD: training ImageNet in 1 hour", 2017.
    """

    def __init__(self, after: keras.optimizers.schedules.LearningRateSchedule, warmup_steps: int):
        self.after = after
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        target = keras.ops.cast(self.after(self.warmup_steps), "float32")
        rising = target * step / float(max(self.warmup_steps, 1))
        return keras.ops.where(step < self.warmup_steps, rising, keras.ops.cast(self.after(step), "float32"))

    def get_config(self):
        return {
            "after": keras.optimizers.schedules.serialize(self.after),
            "warmup_steps": self.warmup_steps,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["after"] = keras.optimizers.schedules.deserialize(config["after"])
        return cls(**config)


def learning_rate_schedule(recipe: TrainingRecipe, steps_per_epoch: int):
    """Return the learning rate (a float or a schedule over optimizer steps) that ``recipe`` names."""
    total_steps = max(1, recipe.epochs * steps_per_epoch)
    warmup_steps = recipe.warmup_epochs * steps_per_epoch
    if recipe.schedule == "cosine":
        # CosineDecay has its own linear warm-up: from initial_learning_rate to warmup_target.
        return keras.optimizers.schedules.CosineDecay(
            0.0 if warmup_steps else recipe.learning_rate,
            decay_steps=max(1, total_steps - warmup_steps),
            warmup_target=recipe.learning_rate if warmup_steps else None,
            warmup_steps=warmup_steps,
        )
    if recipe.schedule == "step":
        boundaries = [int(total_steps * fraction) for fraction in STEP_FRACTIONS]
        values = [recipe.learning_rate / 10**index for index in range(len(boundaries) + 1)]
        schedule = keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)
    else:
        schedule = keras.optimizers.schedules.PiecewiseConstantDecay([total_steps], [recipe.learning_rate] * 2)
    if warmup_steps:
        return LinearWarmup(schedule, warmup_steps)
    return schedule if recipe.schedule == "step" else recipe.learning_rate
