"""Datasets stored as ``.npz`` arrays on disk.

Each split is one or more ``.npz`` files, concatenated in name order, holding ``x``
(uint8 images, NHWC) and ``y`` (integer labels). The examples of each split are
permuted with a fixed seed when loaded, because such files are often sorted by
class and a subset taken from the front would hold only the first classes.

``cifar10-npz`` reads ``train_part*.npz`` and ``test.npz`` from ``--data-dir`` or,
by default, from the first ``shared/data/cifar10`` folder found above the current
directory or above this package's source.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import tensorflow as tf

from snn_core.datasets import DatasetSpec
from snn_core.errors import DatasetNotAvailableError

PERMUTATION_SEED = 0


@dataclass(frozen=True)
class NpzSplits:
    """The file patterns of each split and the default data directory.

    Attributes:
        name: the dataset name, for messages.
        patterns: per split, a glob pattern of its files relative to the data directory.
        default_subdir: the data directory, relative to an ancestor folder, used when
            no ``data_dir`` is given (for example ``shared/data/cifar10``).
    """

    name: str
    patterns: dict[str, str]
    default_subdir: str

    def find_default_dir(self) -> Path | None:
        """Return the first ``<ancestor>/<default_subdir>`` above the working directory or this file."""
        for start in (Path.cwd(), Path(__file__).resolve()):
            for ancestor in (start, *start.parents):
                candidate = ancestor / self.default_subdir
                if candidate.is_dir():
                    return candidate
        return None

    def files(self, split: str, data_dir: Path | None) -> list[Path]:
        """Return the files of ``split``, sorted by name.

        Raises:
            DatasetNotAvailableError: no directory was found or it lacks the files.
        """
        directory = data_dir if data_dir is not None else self.find_default_dir()
        pattern = self.patterns[split]
        if directory is None:
            raise DatasetNotAvailableError(
                f"dataset {self.name!r} found no {self.default_subdir} folder above {Path.cwd()}; "
                f"pass --data-dir DIR with {pattern} files holding arrays x (uint8 NHWC) and y (labels)"
            )
        found = sorted(Path(directory).glob(pattern))
        if not found:
            raise DatasetNotAvailableError(
                f"dataset {self.name!r} has no {split!r} files {pattern} in {directory}; put .npz files "
                "holding arrays x (uint8 NHWC) and y (labels) there, or point --data-dir at a folder that has them"
            )
        return found


@cache
def _read(paths: tuple[Path, ...]) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for path in paths:
        try:
            with np.load(path) as arrays:
                images.append(arrays["x"])
                labels.append(arrays["y"])
        except (OSError, ValueError, KeyError) as error:
            raise DatasetNotAvailableError(f"could not read arrays x and y from {path}: {error}") from None
    images = np.concatenate(images)
    labels = np.concatenate(labels).astype(np.int32)
    if images.dtype != np.uint8 or images.ndim != 4 or len(images) != len(labels):
        raise DatasetNotAvailableError(
            f"{paths[0].parent} contains x of dtype {images.dtype} and shape {images.shape} with {len(labels)} labels; "
            "expected uint8 [N, height, width, channels] and N labels"
        )
    order = np.random.default_rng(PERMUTATION_SEED).permutation(len(labels))
    return images[order], labels[order]


def load_npz_arrays(splits: NpzSplits, split: str, data_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images uint8 NHWC, labels int32)`` of a split, permuted with a fixed seed."""
    return _read(tuple(path.resolve() for path in splits.files(split, data_dir)))


def npz_loader(splits: NpzSplits):
    """Return a :class:`DatasetSpec` loader that reads ``splits``."""

    def load(split: str, data_dir: Path | None) -> tf.data.Dataset:
        images, labels = load_npz_arrays(splits, split, data_dir)
        # uint8 in memory and float32 per example keeps the array four times smaller.
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
        return dataset.map(lambda image, label: (tf.cast(image, tf.float32), label))

    return load


CIFAR10_NPZ_SPLITS = NpzSplits(
    name="cifar10-npz",
    patterns={"train": "train_part*.npz", "test": "test.npz"},
    default_subdir="shared/data/cifar10",
)
CIFAR10_NPZ = DatasetSpec(
    name="cifar10-npz",
    num_classes=10,
    image_shape=(32, 32, 3),
    splits=("train", "test"),
    loader=npz_loader(CIFAR10_NPZ_SPLITS),
    description="CIFAR-10 images from .npz files (train_part*.npz, test.npz), permuted with a fixed seed",
    citation="Krizhevsky, Learning multiple layers of features from tiny images, 2009",
)
