"""Named architectures and the conditions that train them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras

from snn_core.errors import SnnError

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine")


@dataclass(frozen=True)
class TrainingRecipe:
    """The conditions under which a model is trained.

    Attributes:
        epochs: passes over the training split.
        batch_size: images per optimizer step.
        optimizer: ``"sgd"``, ``"adam"`` or ``"adamw"``.
        learning_rate: peak learning rate.
        momentum: SGD momentum (ignored by Adam and AdamW).
        nesterov: use Nesterov momentum with SGD.
        weight_decay: the optimizer's decoupled weight decay: every step
            subtracts ``learning rate * weight_decay * w`` from each weight ``w``.
            For SGD without momentum this equals adding
            ``weight_decay / 2 * ||w||^2`` to the loss.
        schedule: ``"constant"``, ``"step"`` (divide by 10 at 50% and 75% of the
            epochs) or ``"cosine"`` (cosine decay to zero at the last step).
        warmup_epochs: epochs of linear warm-up from zero to ``learning_rate``,
            at the start of the schedule.
        random_crop: pad by 4 pixels and crop back at a random offset.
        random_flip: flip left-right with probability 0.5.
        cutmix: Beta-distribution parameter of CutMix (Yun et al., "CutMix:
            regularization strategy to train strong classifiers with localizable
            features", ICCV 2019); 0 turns it off.
        mixup: Beta-distribution parameter of mixup (Zhang et al., "mixup: beyond
            empirical risk minimization", ICLR 2018); 0 turns it off.
        steps_per_epoch: optimizer steps per epoch; ``None`` for one pass over the
            training split. A smaller number makes epochs (and checkpoints) shorter.
        seed: seed for weight initialization, shuffling and augmentation.
    """

    epochs: int = 3
    batch_size: int = 64
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    schedule: str = "constant"
    warmup_epochs: int = 0
    random_crop: bool = False
    random_flip: bool = False
    cutmix: float = 0.0
    mixup: float = 0.0
    steps_per_epoch: int | None = None
    seed: int = 0

    def __post_init__(self):
        checks = [
            (self.epochs >= 0, "epochs", "at least 0"),
            (self.batch_size >= 1, "batch_size", "at least 1"),
            (self.optimizer in OPTIMIZERS, "optimizer", f"one of {', '.join(OPTIMIZERS)}"),
            (self.learning_rate > 0, "learning_rate", "positive"),
            (self.weight_decay >= 0, "weight_decay", "at least 0"),
            (self.schedule in SCHEDULES, "schedule", f"one of {', '.join(SCHEDULES)}"),
            (0 <= self.warmup_epochs <= max(self.epochs, 0), "warmup_epochs", "between 0 and epochs"),
            (self.cutmix >= 0, "cutmix", "at least 0"),
            (self.mixup >= 0, "mixup", "at least 0"),
            (self.steps_per_epoch is None or self.steps_per_epoch >= 1, "steps_per_epoch", "at least 1 or None"),
        ]
        for valid, name, expected in checks:
            if not valid:
                raise SnnError(f"invalid training option {name}={getattr(self, name)!r}; expected {expected}")

    def replace(self, **changes: Any) -> TrainingRecipe:
        """Return a copy with ``changes`` applied; unknown fields raise :class:`SnnError`."""
        fields = {field.name for field in dataclasses.fields(self)}
        unknown = sorted(set(changes) - fields)
        if unknown:
            raise SnnError(f"unknown training option(s) {', '.join(unknown)}; valid options: {', '.join(sorted(fields))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingRecipe:
        """Return the recipe written by :meth:`to_dict`; unknown keys raise :class:`SnnError`."""
        return cls().replace(**values)

    def run_name(self) -> str:
        """Return a directory name that states the training conditions.

        For example ``ep-300_bat-100_opt-SGD_lr-STEP-1E-01_lmb-1E-04``, followed by
        the warm-up, augmentation, steps-per-epoch and seed where they differ from
        off or 0: ``_wu-5_crop_flip_cutmix-1E+00_mixup-2E-01_spe-50_seed-1``.
        """
        optimizer = self.optimizer.upper() + ("-NESTEROV" if self.optimizer == "sgd" and self.nesterov else "")
        parts = [
            f"ep-{self.epochs}",
            f"bat-{self.batch_size}",
            f"opt-{optimizer}",
            f"lr-{self.schedule.upper()}-{self.learning_rate:.0E}",
            f"lmb-{self.weight_decay:.0E}",
        ]
        if self.warmup_epochs:
            parts.append(f"wu-{self.warmup_epochs}")
        if self.random_crop:
            parts.append("crop")
        if self.random_flip:
            parts.append("flip")
        if self.cutmix:
            parts.append(f"cutmix-{self.cutmix:.0E}")
        if self.mixup:
            parts.append(f"mixup-{self.mixup:.0E}")
        if self.steps_per_epoch:
            parts.append(f"spe-{self.steps_per_epoch}")
        if self.seed:
            parts.append(f"seed-{self.seed}")
        return "_".join(parts)


@dataclass(frozen=True)
class ModelSpec:
    """A named architecture.

    Attributes:
        name: registry key, as typed after ``--model``.
        build: ``build(input_shape, num_classes)`` returns a new Keras functional
            model with freshly initialized weights. Its first layers do its own
            preprocessing of raw pixels; its last layer gives logits or softmax.
        recipe: the default training conditions.
        description: one line for ``snn plugins`` and help texts.
        citation: the paper that introduced the architecture.
    """

    name: str
    build: Callable[[tuple[int, ...], int], keras.Model]
    recipe: TrainingRecipe = TrainingRecipe()
    description: str = ""
    citation: str = ""
