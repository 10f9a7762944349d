"""Named datasets as ``tf.data`` pipelines.

A dataset plugin contributes a :class:`DatasetSpec`; steps look datasets up by name
with :func:`get_dataset` and read a split with :meth:`DatasetSpec.load`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import tensorflow as tf

from snn_core.errors import SnnError
from snn_core.plugins import Plugins, get_plugins

Loader = Callable[[str, "Path | None"], tf.data.Dataset]


@dataclass(frozen=True)
class DatasetSpec:
    """A named dataset.

    Attributes:
        name: registry key, as typed after ``--dataset``.
        num_classes: number of label classes.
        image_shape: ``(height, width, channels)`` of one image.
        splits: the split names ``load`` accepts.
        loader: ``loader(split, data_dir)`` returns an unbatched ``tf.data.Dataset``
            of ``(image, label)``: image float32 ``image_shape`` in raw pixel units
            (0..255 for 8-bit images), label int32. ``data_dir`` is ``None`` for the
            dataset's default location.
        description: one line for ``snn plugins`` and help texts.
        citation: where the data comes from.
        train_split: the split that training and activation statistics use.
        test_split: the split that evaluation and simulation use.
        num_examples: examples per split, where known without reading the data.
    """

    name: str
    num_classes: int
    image_shape: tuple[int, int, int]
    splits: tuple[str, ...]
    loader: Loader
    description: str = ""
    citation: str = ""
    train_split: str = "train"
    test_split: str = "test"
    num_examples: dict[str, int] = field(default_factory=dict)

    def load(self, split: str, data_dir: Path | str | None = None) -> tf.data.Dataset:
        """Return the ``split`` of this dataset as an unbatched ``tf.data.Dataset``."""
        if split not in self.splits:
            raise SnnError(
                f"dataset {self.name!r} has no split {split!r}; valid splits: {', '.join(self.splits)}"
            )
        return self.loader(split, Path(data_dir) if data_dir is not None else None)


def get_dataset(name: str, plugins: Plugins | None = None) -> DatasetSpec:
    """Look up a dataset by name; raise :class:`~snn_core.errors.UnknownNameError` listing the valid names."""
    return (plugins or get_plugins()).datasets.get(name)


def batched(dataset: tf.data.Dataset, batch_size: int) -> tf.data.Dataset:
    """Batch and prefetch ``dataset`` for inference (the last batch may be smaller)."""
    if batch_size < 1:
        raise SnnError(f"batch size must be at least 1, got {batch_size}")
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def check_input_shape(model, dataset: DatasetSpec) -> None:
    """Raise :class:`SnnError` unless ``dataset``'s images fit ``model``'s input.

    Dimensions the model leaves open (``None``) match any size.
    """
    expected = tuple(model.inputs[0].shape[1:])
    actual = tuple(dataset.image_shape)
    fits = len(expected) == len(actual) and all(e is None or e == a for e, a in zip(expected, actual, strict=True))
    if not fits:
        shape = "x".join("any" if size is None else str(size) for size in expected)
        raise SnnError(
            f"model {model.name!r} expects images of shape {shape}, but dataset {dataset.name!r} has "
            f"{'x'.join(map(str, actual))}; pass --dataset with the dataset the model was trained on"
        )
