"""The embedded digits with inverted pixels, built on the public ``get_dataset``."""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from snn_core import DatasetSpec, get_dataset


def _load(split: str, data_dir: Path | None) -> tf.data.Dataset:
    digits = get_dataset("digits")
    return digits.load(split, data_dir).map(lambda image, label: (255.0 - image, label))


DIGITS_INVERTED = DatasetSpec(
    name="example_digits_inverted",
    num_classes=10,
    image_shape=(28, 28, 1),
    splits=("train", "test"),
    loader=_load,
    description="the embedded digits with inverted pixels, 255 - x (example plugin)",
    citation="LeCun et al., Gradient-based learning applied to document recognition, Proc. IEEE 1998",
    num_examples={"train": 4000, "test": 1000},
)
