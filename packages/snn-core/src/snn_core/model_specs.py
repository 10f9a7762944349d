"""Named architectures and the conditions that train them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras

from snn_core.errors import SnnError


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
        weight_decay: L2 penalty for SGD, decoupled decay for AdamW.
        schedule: ``"constant"``, ``"step"`` (divide by 10 at 50% and 75% of the
            epochs) or ``"cosine"``.
        warmup_epochs: epochs of linear warm-up from zero to ``learning_rate``.
        random_crop: pad by 4 pixels and crop back at a random offset.
        random_flip: flip left-right with probability 0.5.
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
    seed: int = 0

    def replace(self, **changes: Any) -> TrainingRecipe:
        """Return a copy with ``changes`` applied; unknown fields raise :class:`SnnError`."""
        fields = {field.name for field in dataclasses.fields(self)}
        unknown = sorted(set(changes) - fields)
        if unknown:
            raise SnnError(f"unknown training option(s) {', '.join(unknown)}; valid options: {', '.join(sorted(fields))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


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
