"""snn-models: the model zoo and training recipes, contributed through the ``snn_models`` hook."""

from importlib.metadata import PackageNotFoundError, version

from snn_core import ModelSpec, get_plugins
from snn_models.applications import APPLICATIONS, build_application
from snn_models.demo import DEMO_CNN, build_demo_cnn
from snn_models.layers import ReverseChannels, ShortcutPadding
from snn_models.resnet import build_he_cifar_resnet, build_resnet
from snn_models.training import make_optimizer, train
from snn_models.vgg import build_vgg16
from snn_models.weights import WeightsReport, load_weights
from snn_models.zoo import build, zoo_specs

try:
    __version__ = version("snn-models")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"


def get_model_spec(name: str) -> ModelSpec:
    """Look up a registered architecture by name; the error for an unknown name lists the valid ones."""
    return get_plugins().models.get(name)


__all__ = [
    "APPLICATIONS",
    "DEMO_CNN",
    "ReverseChannels",
    "ShortcutPadding",
    "WeightsReport",
    "build",
    "build_application",
    "build_demo_cnn",
    "build_he_cifar_resnet",
    "build_resnet",
    "build_vgg16",
    "get_model_spec",
    "load_weights",
    "make_optimizer",
    "train",
    "zoo_specs",
]
