"""Datasets read through tensorflow-datasets: cifar10, cifar100, mnist and imagenet2012.

tensorflow-datasets is an optional dependency (``pip install 'snn-core[tfds]'``),
imported only when one of these datasets is loaded. A split is read from the
prepared TFDS directory under ``data_dir`` (``--data-dir``; by default TFDS's own,
``~/tensorflow_datasets`` or ``$TFDS_DATA_DIR``). When it is not prepared, the
source archives are taken from ``<data_dir>/downloads/manual/`` if they are there,
and downloaded otherwise, unless ``SNN_OFFLINE=1`` is set or the download host
does not resolve. If neither works, :class:`DatasetNotAvailableError` names the
files to put into that folder.
"""

from __future__ import annotations

import os
import socket
import urllib.parse
from pathlib import Path

import tensorflow as tf

from snn_core.datasets import DatasetSpec
from snn_core.errors import DatasetNotAvailableError

# ImageNet images are resized so that the shorter side is 256 pixels and
# center-cropped to 224x224, the usual evaluation transform.
IMAGENET_RESIZE = 256
IMAGENET_CROP = 224

# Archives that tensorflow-datasets cannot download itself.
_MANUAL_ONLY = {"imagenet2012": ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar")}


def _import_tfds(name: str):
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise DatasetNotAvailableError(
            f"dataset {name!r} is read with tensorflow-datasets, which is not installed; "
            "install it with: pip install 'snn-core[tfds]'"
        ) from None
    return tfds


def _offline() -> bool:
    return os.environ.get("SNN_OFFLINE", "") not in ("", "0")


def _hosts_resolve(urls) -> bool:
    # A failed name lookup is fast, whereas tensorflow-datasets retries a download
    # with back-off for minutes before it gives up.
    for url in urls:
        host = urllib.parse.urlparse(url).hostname
        try:
            socket.getaddrinfo(host, 443)
        except OSError:
            return False
    return True


def _builder(name: str, data_dir: Path | None):
    tfds = _import_tfds(name)
    builder = tfds.builder(name, data_dir=str(data_dir) if data_dir is not None else None)
    if builder.is_prepared():
        return builder

    root = Path(builder.data_dir).parents[1]  # <data_dir>/<name>/<version>
    manual_dir = root / "downloads" / "manual"
    if name in _MANUAL_ONLY:
        needed = {filename: None for filename in _MANUAL_ONLY[name]}
    else:
        needed = {info.filename or Path(urllib.parse.urlparse(url).path).name: url for url, info in builder.url_infos.items()}
    present = all((manual_dir / filename).is_file() for filename in needed)
    can_download = name not in _MANUAL_ONLY and not _offline() and _hosts_resolve(needed.values())

    if not present and not can_download:
        files = ", ".join(f"{filename} (from {url})" if url else filename for filename, url in needed.items())
        raise DatasetNotAvailableError(
            f"dataset {name!r} is not prepared in {root} and cannot be downloaded; put {files} into "
            f"{manual_dir}/ and run the command again (or pass --data-dir DIR with a prepared "
            f"{name}/{builder.info.version} folder)"
        )
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir), try_download_gcs=False)
    )
    return builder


def _to_float_image(image, label):
    return tf.cast(image, tf.float32), tf.cast(label, tf.int32)


def _center_crop(image, label):
    height = tf.cast(tf.shape(image)[0], tf.float32)
    width = tf.cast(tf.shape(image)[1], tf.float32)
    scale = IMAGENET_RESIZE / tf.minimum(height, width)
    size = tf.cast(tf.round(tf.stack([height * scale, width * scale])), tf.int32)
    image = tf.image.resize(tf.cast(image, tf.float32), size, method="bilinear", antialias=True)
    image = tf.image.resize_with_crop_or_pad(image, IMAGENET_CROP, IMAGENET_CROP)
    return image, tf.cast(label, tf.int32)


def _loader(name: str, transform):
    def load(split: str, data_dir: Path | None) -> tf.data.Dataset:
        builder = _builder(name, data_dir)
        dataset = builder.as_dataset(split=split, as_supervised=True, shuffle_files=False)
        return dataset.map(transform, num_parallel_calls=tf.data.AUTOTUNE)

    return load


CIFAR10 = DatasetSpec(
    name="cifar10",
    num_classes=10,
    image_shape=(32, 32, 3),
    splits=("train", "test"),
    loader=_loader("cifar10", _to_float_image),
    description="CIFAR-10 through tensorflow-datasets: 50,000 training and 10,000 test images, 10 classes",
    citation="Krizhevsky, Learning multiple layers of features from tiny images, 2009",
    num_examples={"train": 50_000, "test": 10_000},
)
CIFAR100 = DatasetSpec(
    name="cifar100",
    num_classes=100,
    image_shape=(32, 32, 3),
    splits=("train", "test"),
    loader=_loader("cifar100", _to_float_image),
    description="CIFAR-100 through tensorflow-datasets: 50,000 training and 10,000 test images, 100 classes",
    citation="Krizhevsky, Learning multiple layers of features from tiny images, 2009",
    num_examples={"train": 50_000, "test": 10_000},
)
MNIST = DatasetSpec(
    name="mnist",
    num_classes=10,
    image_shape=(28, 28, 1),
    splits=("train", "test"),
    loader=_loader("mnist", _to_float_image),
    description="MNIST through tensorflow-datasets: 60,000 training and 10,000 test digits",
    citation="LeCun et al., Gradient-based learning applied to document recognition, Proc. IEEE 1998",
    num_examples={"train": 60_000, "test": 10_000},
)
IMAGENET2012 = DatasetSpec(
    name="imagenet2012",
    num_classes=1000,
    image_shape=(IMAGENET_CROP, IMAGENET_CROP, 3),
    splits=("train", "validation"),
    loader=_loader("imagenet2012", _center_crop),
    description="ImageNet ILSVRC 2012 through tensorflow-datasets (archives placed by hand), "
    "resized to 256 and center-cropped to 224x224",
    citation="Russakovsky et al., ImageNet large scale visual recognition challenge, IJCV 2015",
    test_split="validation",
    num_examples={"train": 1_281_167, "validation": 50_000},
)

TFDS_DATASETS = [CIFAR10, CIFAR100, MNIST, IMAGENET2012]
