"""snn-core: convert trained Keras networks into spiking neural networks and simulate them.

The public API, in pipeline order: datasets (:func:`get_dataset`), batch-norm fusion
(:func:`fuse_batch_norm`), DNN inference (:func:`evaluate`), activation statistics
(:func:`collect_activation_stats`), conversion (:func:`convert`) and simulation
(:func:`simulate`). Plugins implement the hooks in :mod:`snn_core.hookspecs` and
contribute the types listed in ``__all__``.
"""

from importlib.metadata import PackageNotFoundError, version

from snn_core.artifacts import load_model, provenance, read_json, save_model, write_json
from snn_core.conversion import SpikingNetwork, convert, neuron_layer_names, prepare_for_conversion
from snn_core.datasets import DatasetSpec, batched, get_dataset
from snn_core.encoders import InputEncoder
from snn_core.errors import (
    ArtifactError,
    DatasetNotAvailableError,
    DuplicateNameError,
    FusionMismatchError,
    SnnError,
    UnknownNameError,
    UnsupportedLayerError,
)
from snn_core.evaluation import evaluate
from snn_core.fusion import FusionCheck, FusionReport, check_fusion, fuse_batch_norm
from snn_core.hookspecs import hookimpl
from snn_core.layer_converters import Affine, Dropped, LayerConverter, Neuron, Stateful, Unsupported
from snn_core.metrics import EnergyModel
from snn_core.model_specs import ModelSpec, TrainingRecipe
from snn_core.neurons import IFParameters, IFState, LIFParameters, NeuronModel, SignedIFParameters, SignedIFState
from snn_core.normalization import NormalizationContext, NormalizationMethod, Normalizer, resolve_normalizer
from snn_core.plugins import Plugins, get_plugins, set_plugins
from snn_core.registry import Registry
from snn_core.simulation import SimulationResult, Simulator, simulate
from snn_core.statistics import ActivationStatistics, LayerStatistics, collect_activation_stats, merge_statistics

try:
    __version__ = version("snn-core")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = [
    "ActivationStatistics",
    "Affine",
    "ArtifactError",
    "DatasetNotAvailableError",
    "DatasetSpec",
    "Dropped",
    "EnergyModel",
    "DuplicateNameError",
    "FusionCheck",
    "FusionMismatchError",
    "FusionReport",
    "IFParameters",
    "IFState",
    "InputEncoder",
    "LayerConverter",
    "LayerStatistics",
    "LIFParameters",
    "ModelSpec",
    "Neuron",
    "NeuronModel",
    "NormalizationContext",
    "NormalizationMethod",
    "Normalizer",
    "Plugins",
    "Registry",
    "SignedIFParameters",
    "SignedIFState",
    "SimulationResult",
    "Simulator",
    "SnnError",
    "SpikingNetwork",
    "Stateful",
    "TrainingRecipe",
    "UnknownNameError",
    "Unsupported",
    "UnsupportedLayerError",
    "batched",
    "check_fusion",
    "collect_activation_stats",
    "convert",
    "evaluate",
    "fuse_batch_norm",
    "get_dataset",
    "get_plugins",
    "hookimpl",
    "load_model",
    "merge_statistics",
    "neuron_layer_names",
    "prepare_for_conversion",
    "provenance",
    "read_json",
    "resolve_normalizer",
    "save_model",
    "set_plugins",
    "simulate",
    "write_json",
]
