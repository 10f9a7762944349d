"""snn-models: the model zoo and training recipes, contributed through the ``snn_models`` hook."""

from importlib.metadata import PackageNotFoundError, version

from snn_core import ModelSpec, get_plugins

from snn_models.demo import DEMO_CNN, build_demo_cnn
from snn_models.training import make_optimizer, train

try:
    __version__ = version("snn-models")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"


def get_model_spec(name: str) -> ModelSpec:
    """Look up a registered architecture by name; the error for an unknown name lists the valid ones."""
    return get_plugins().models.get(name)


__all__ = ["DEMO_CNN", "build_demo_cnn", "get_model_spec", "make_optimizer", "train"]
