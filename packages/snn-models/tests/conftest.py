"""Shared fixtures: real CIFAR-10 images from the repository's shared data folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from snn_core import DatasetSpec

CIFAR10_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "cifar10"


def _cifar_arrays(split: str) -> tuple[np.ndarray, np.ndarray]:
    from snn_core.npz_dataset import CIFAR10_NPZ_SPLITS, load_npz_arrays

    if not (CIFAR10_DIR / "test.npz").is_file():
        pytest.skip(f"real CIFAR-10 images not found in {CIFAR10_DIR}")
    # load_npz_arrays permutes the class-sorted files with a fixed seed.
    return load_npz_arrays(CIFAR10_NPZ_SPLITS, split, CIFAR10_DIR)


@pytest.fixture(scope="session")
def cifar_test_images() -> tuple[np.ndarray, np.ndarray]:
    """The first 64 shuffled CIFAR-10 test images (float32, 0..255) and labels."""
    images, labels = _cifar_arrays("test")
    return images[:64].astype(np.float32), labels[:64]


@pytest.fixture(scope="session")
def cifar_train_subset() -> DatasetSpec:
    """A dataset whose training split is 2,000 shuffled real CIFAR-10 training images."""
    images, labels = _cifar_arrays("train")
    images, labels = images[:2000], labels[:2000]

    def load(split, data_dir):
        return tf.data.Dataset.from_tensor_slices((images, labels)).map(
            lambda image, label: (tf.cast(image, tf.float32), label)
        )

    return DatasetSpec(
        name="cifar10-2000",
        num_classes=10,
        image_shape=(32, 32, 3),
        splits=("train", "test"),
        loader=load,
        num_examples={"train": 2000},
    )
