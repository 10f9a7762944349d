"""Datasets read from disk: .npz arrays and tensorflow-datasets, and their not-available messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from snn_core import DatasetNotAvailableError, get_dataset
from snn_core.npz_dataset import NpzSplits, load_npz_arrays

CIFAR10_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "cifar10"


def _write_parts(directory: Path) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 4, 4, 3), dtype=np.uint8)
    labels = np.arange(10, dtype=np.uint8)
    np.savez(directory / "train_part0.npz", x=images[:6], y=labels[:6])
    np.savez(directory / "train_part1.npz", x=images[6:], y=labels[6:])
    np.savez(directory / "test.npz", x=images[:2], y=labels[:2])
    return images, labels


def test_npz_parts_are_concatenated_and_permuted(tmp_path):
    images, labels = _write_parts(tmp_path)
    splits = NpzSplits("toy", {"train": "train_part*.npz", "test": "test.npz"}, "nowhere/to/be/found")
    loaded_images, loaded_labels = load_npz_arrays(splits, "train", tmp_path)
    assert loaded_images.shape == (10, 4, 4, 3)
    assert loaded_labels.dtype == np.int32
    assert sorted(loaded_labels.tolist()) == list(range(10))
    assert loaded_labels.tolist() != list(range(10))
    for image, label in zip(loaded_images, loaded_labels, strict=True):
        np.testing.assert_array_equal(image, images[label])


def test_npz_dataset_yields_float_pixels(tmp_path):
    _write_parts(tmp_path)
    image, label = next(iter(get_dataset("cifar10-npz").load("test", tmp_path)))
    assert image.dtype.name == "float32"
    assert label.dtype.name == "int32"
    assert image.shape == (4, 4, 3)


def test_npz_missing_files_name_pattern(tmp_path):
    with pytest.raises(DatasetNotAvailableError, match=r"train_part\*\.npz"):
        get_dataset("cifar10-npz").load("train", tmp_path)


def test_cifar10_npz_reads_shared_images():
    if not (CIFAR10_DIR / "test.npz").is_file():
        pytest.skip(f"real CIFAR-10 images not found in {CIFAR10_DIR}")
    dataset = get_dataset("cifar10-npz").load("test", CIFAR10_DIR)
    assert int(dataset.cardinality()) == 10_000
    labels = [int(label) for _, label in dataset.take(100)]
    assert len(set(labels)) == 10  # permuted, not sorted by class


@pytest.mark.parametrize(
    ("name", "split", "expected"),
    [
        ("cifar10", "train", "cifar-10-binary.tar.gz"),
        ("cifar100", "test", "cifar-100-binary.tar.gz"),
        ("mnist", "train", "train-images-idx3-ubyte.gz"),
        ("imagenet2012", "validation", "ILSVRC2012_img_val.tar"),
    ],
)
def test_unprepared_tfds_dataset_names_files(tmp_path, monkeypatch, name, split, expected):
    pytest.importorskip("tensorflow_datasets")
    monkeypatch.setenv("SNN_OFFLINE", "1")
    with pytest.raises(DatasetNotAvailableError) as caught:
        get_dataset(name).load(split, tmp_path)
    message = str(caught.value)
    assert expected in message
    assert str(tmp_path / "downloads" / "manual") in message
    assert "\n" not in message
