"""The registered architectures and :func:`build`, the public way to build one.

CIFAR models take 32x32 images; the ImageNet models take any size of at least
32x32 (224x224 for ImageNet weights). Every model reads raw 0..255 pixels and
returns logits.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import keras

from snn_core import DatasetSpec, ModelSpec, SnnError, TrainingRecipe, get_dataset, get_plugins
from snn_models.applications import APPLICATIONS, build_application
from snn_models.resnet import (
    CIFAR_DEPTHS,
    CIFAR_WIDTHS,
    IMAGENET_STYLE_DEPTHS,
    IMAGENET_STYLE_WIDTHS,
    build_he_cifar_resnet,
    build_resnet,
)
from snn_models.vgg import build_vgg16

RESNET_V1 = "He, Zhang, Ren and Sun, Deep residual learning for image recognition, CVPR 2016"
RESNET_V2 = "He, Zhang, Ren and Sun, Identity mappings in deep residual networks, ECCV 2016"
VGG = "Simonyan and Zisserman, Very deep convolutional networks for large-scale image recognition, ICLR 2015"

# SGD with Nesterov momentum, learning rate 0.1 divided by 10 at 50% and 75% of
# training, weight decay 1e-4, random crop and flip: the usual CIFAR recipe.
CIFAR_RECIPE = TrainingRecipe(
    epochs=200,
    batch_size=128,
    optimizer="sgd",
    learning_rate=0.1,
    momentum=0.9,
    nesterov=True,
    weight_decay=1e-4,
    schedule="step",
    warmup_epochs=1,
    random_crop=True,
    random_flip=True,
)
IMAGENET_RECIPE = TrainingRecipe(
    epochs=90, batch_size=256, optimizer="sgd", learning_rate=0.1, weight_decay=1e-4, schedule="cosine",
    warmup_epochs=5, random_flip=True,
)


def _resnet(name: str, depth: int, preactivation: bool) -> ModelSpec:
    cifar = depth in CIFAR_DEPTHS
    depths = CIFAR_DEPTHS[depth] if cifar else IMAGENET_STYLE_DEPTHS[depth]
    widths = CIFAR_WIDTHS if cifar else IMAGENET_STYLE_WIDTHS
    bottleneck = depth == 50
    build_function = partial(
        _named(build_resnet, name), depths=depths, widths=widths, bottleneck=bottleneck, preactivation=preactivation
    )
    form = "pre-activation " if preactivation else ""
    block = "bottleneck" if bottleneck else "basic"
    return ModelSpec(
        name=name,
        build=build_function,
        recipe=CIFAR_RECIPE,
        description=f"{form}ResNet-{depth} for 32x32 images: {block} blocks, widths {'/'.join(map(str, widths))}, "
        "projection shortcuts",
        citation=RESNET_V2 if preactivation else RESNET_V1,
    )


def _named(function, name):
    def build_named(input_shape, num_classes, **options):
        return function(input_shape, num_classes, name=name, **options)

    return build_named


def _he_resnet(depth: int) -> ModelSpec:
    return ModelSpec(
        name=f"he_resnet{depth}",
        build=partial(build_he_cifar_resnet, depth=depth),
        recipe=CIFAR_RECIPE,
        description=f"ResNet-{depth} of He et al. for CIFAR: widths 16/32/64, parameter-free option-A shortcuts",
        citation=RESNET_V1,
    )


def _application(name: str) -> ModelSpec:
    app = APPLICATIONS[name]
    return ModelSpec(
        name=name,
        build=partial(build_application, name),
        recipe=IMAGENET_RECIPE,
        description=f"keras.applications {app.constructor.__name__} (random weights unless loaded from "
        f"{app.weights_file})",
        citation="Keras Applications",
    )


def zoo_specs() -> list[ModelSpec]:
    """Return the spec of every zoo architecture."""
    specs = [
        ModelSpec("vgg16", partial(build_vgg16, pooling="average"), CIFAR_RECIPE,
                  "VGG16 with batch norm and average pooling, for 32x32 images", VGG),
        ModelSpec("vgg16_maxpool", partial(build_vgg16, pooling="max"), CIFAR_RECIPE,
                  "VGG16 with batch norm and max pooling, for 32x32 images", VGG),
    ]
    for depth in (*CIFAR_DEPTHS, *IMAGENET_STYLE_DEPTHS):
        if depth == 110:
            continue
        specs.append(_resnet(f"resnet{depth}", depth, preactivation=False))
        specs.append(_resnet(f"resnet{depth}v2", depth, preactivation=True))
    specs += [_he_resnet(depth) for depth in CIFAR_DEPTHS]
    specs += [_application(name) for name in APPLICATIONS]
    return specs


def build(
    name: str,
    dataset_or_shape: str | DatasetSpec | tuple[int, ...],
    num_classes: int | None = None,
    weights: Path | str | None = None,
) -> keras.Model:
    """Build the zoo model ``name`` for a dataset or an input shape.

    Args:
        name: a registered model name (``snn plugins`` lists them).
        dataset_or_shape: a dataset name or spec (which gives the input shape and
            the number of classes), or an ``(height, width, channels)`` tuple.
        num_classes: number of logits; required with a shape, and overrides the
            dataset's number of classes when given.
        weights: a ``.keras``, ``.h5`` or ``.weights.h5`` file whose layers are
            loaded into the model by name (see :func:`snn_models.load_weights`).

    Raises:
        UnknownNameError: ``name`` or the dataset name is not registered.
        SnnError: a shape without ``num_classes``.
    """
    spec = get_plugins().models.get(name)
    if isinstance(dataset_or_shape, str):
        dataset_or_shape = get_dataset(dataset_or_shape)
    if isinstance(dataset_or_shape, DatasetSpec):
        input_shape = tuple(dataset_or_shape.image_shape)
        num_classes = num_classes or dataset_or_shape.num_classes
    else:
        input_shape = tuple(int(size) for size in dataset_or_shape)
        if num_classes is None:
            raise SnnError(f"building {name!r} for input shape {input_shape} needs num_classes")

    model = spec.build(input_shape, num_classes)
    if weights is not None:
        from snn_models.weights import load_weights

        load_weights(model, weights)
    return model
