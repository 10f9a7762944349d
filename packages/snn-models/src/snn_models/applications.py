"""ImageNet models from Keras Applications, with their preprocessing attached.

The models are built flat: the preprocessing layers come first and the application
is built on their output (its ``input_tensor``), so fusion and conversion see every
layer at the top level. Weights come from a file the user downloaded once, or are
random; nothing is downloaded at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras

from snn_core import SnnError
from snn_models.layers import ReverseChannels

WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"

# Caffe-style preprocessing of the Keras ResNets: BGR channel order, minus the
# ImageNet mean pixel in BGR order, no scaling.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@dataclass(frozen=True)
class Application:
    """A Keras Applications model and how it reads 0..255 RGB pixels.

    Attributes:
        name: zoo name.
        constructor: the ``keras.applications`` function.
        preprocessing: ``"caffe"`` (BGR minus mean), ``"tf"`` (scale to -1..1) or
            ``"builtin"`` (the application rescales by itself).
        weights_file: the name of the ImageNet weights file with the classifier.
        weights_folder: its folder under :data:`WEIGHTS_URL`.
    """

    name: str
    constructor: Callable[..., keras.Model]
    preprocessing: str
    weights_file: str
    weights_folder: str

    @property
    def weights_url(self) -> str:
        return f"{WEIGHTS_URL}{self.weights_folder}/{self.weights_file}"


APPLICATIONS = {
    app.name: app
    for app in (
        Application(
            "resnet101", keras.applications.ResNet101, "caffe",
            "resnet101_weights_tf_dim_ordering_tf_kernels.h5", "resnet",
        ),
        Application(
            "resnet152", keras.applications.ResNet152, "caffe",
            "resnet152_weights_tf_dim_ordering_tf_kernels.h5", "resnet",
        ),
        Application(
            "mobilenetv2", keras.applications.MobileNetV2, "tf",
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5", "mobilenet_v2",
        ),
        Application(
            "efficientnetv2s", keras.applications.EfficientNetV2S, "builtin",
            "efficientnetv2-s.h5", "efficientnet_v2",
        ),
    )
}


def _preprocess(app: Application, inputs):
    if app.preprocessing == "caffe":
        x = ReverseChannels(name="rgb_to_bgr")(inputs)
        return keras.layers.Normalization(mean=list(CAFFE_MEAN_BGR), variance=[1.0, 1.0, 1.0], name="subtract_mean")(x)
    if app.preprocessing == "tf":
        return keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescale")(inputs)
    return inputs


def build_application(
    name: str,
    input_shape: tuple[int, ...] = (224, 224, 3),
    num_classes: int = 1000,
    weights: Path | str | None = None,
) -> keras.Model:
    """Return the Keras Applications model ``name`` reading 0..255 RGB pixels and giving logits.

    Args:
        name: a key of :data:`APPLICATIONS`.
        input_shape: ``(height, width, 3)``, at least 32x32.
        num_classes: classifier width; ImageNet weights need 1000.
        weights: a weights file downloaded once from :data:`WEIGHTS_URL` (the
            ImageNet file with the classifier), or ``None`` for random weights.

    Raises:
        SnnError: unknown name or missing weights file.
    """
    if name not in APPLICATIONS:
        raise SnnError(f"unknown Keras application {name!r}; valid names: {', '.join(APPLICATIONS)}")
    app = APPLICATIONS[name]
    if weights is not None and not Path(weights).is_file():
        raise SnnError(
            f"weights file not found: {weights}; download {app.weights_url} once and pass its local path"
        )

    inputs = keras.Input(shape=input_shape, name="image")
    options = {
        "input_tensor": _preprocess(app, inputs),
        "weights": None,
        "classes": num_classes,
        "classifier_activation": None,
    }
    if app.preprocessing == "builtin":
        options["include_preprocessing"] = True
    model = app.constructor(**options)
    if weights is not None:
        from snn_models.weights import load_weights

        load_weights(model, weights)
    return model
