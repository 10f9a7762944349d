"""Training-time augmentation as tf.data transforms over batches of 0..255 images.

Random crop pads each image by :data:`CROP_PADDING` zero pixels on every side and
crops it back to its size at a random offset, the CIFAR augmentation of He et al.
(2016). Random flip mirrors left-right with probability 0.5. CutMix and mixup use
the Keras layers and turn the labels into soft one-hot vectors.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from snn_core import TrainingRecipe

CROP_PADDING = 4


def uses_soft_labels(recipe: TrainingRecipe) -> bool:
    """Return whether ``recipe`` mixes images, so that labels become one-hot probabilities."""
    return bool(recipe.cutmix or recipe.mixup)


def augment(dataset: tf.data.Dataset, recipe: TrainingRecipe, image_shape, num_classes: int) -> tf.data.Dataset:
    """Apply the recipe's augmentation to a batched ``(images, labels)`` dataset."""
    height, width = image_shape[0], image_shape[1]
    crop = keras.layers.RandomCrop(height, width, seed=recipe.seed) if recipe.random_crop else None
    flip = keras.layers.RandomFlip("horizontal", seed=recipe.seed + 1) if recipe.random_flip else None
    cutmix = keras.layers.CutMix(factor=recipe.cutmix, seed=recipe.seed + 2) if recipe.cutmix else None
    mixup = keras.layers.MixUp(alpha=recipe.mixup, seed=recipe.seed + 3) if recipe.mixup else None

    def transform(images, labels):
        if crop is not None:
            padding = [[0, 0], [CROP_PADDING, CROP_PADDING], [CROP_PADDING, CROP_PADDING], [0, 0]]
            images = crop(tf.pad(images, padding), training=True)
        if flip is not None:
            images = flip(images, training=True)
        if uses_soft_labels(recipe):
            labels = tf.one_hot(labels, num_classes)
            for layer in (cutmix, mixup):
                if layer is not None:
                    mixed = layer({"images": images, "labels": labels}, training=True)
                    images, labels = mixed["images"], mixed["labels"]
        return images, labels

    if crop is None and flip is None and not uses_soft_labels(recipe):
        return dataset
    return dataset.map(transform, num_parallel_calls=tf.data.AUTOTUNE)
