"""Turn a fused Keras model into a spiking network.

Conversion has two parts. :func:`prepare_for_conversion` rewrites the fused model
into its *spiking topology*: the same computation in which every rectifier is a
stand-alone ``ReLU`` layer (the future neurons) and every other layer is affine.
:func:`convert` then attaches a neuron model and a threshold per neuron layer,
computed from activation statistics by a normalization method.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from snn_core.artifacts import atomic_path, load_model, provenance
from snn_core.errors import ArtifactError, SnnError, UnsupportedLayerError
from snn_core.graph import LayerNode, call_node, copy_layer, layer_graph, output_layer_name, rebuild
from snn_core.layer_converters import Affine, Dropped, Neuron, Stateful, Unsupported
from snn_core.neurons import NeuronModel
from snn_core.normalization import NormalizationContext, resolve_normalizer
from snn_core.plugins import Plugins, get_plugins
from snn_core.statistics import ActivationStatistics

NETWORK_FORMAT_VERSION = 1


def prepare_for_conversion(model: keras.Model, plugins: Plugins | None = None) -> keras.Model:
    """Return the spiking topology of ``model``: rectifiers as separate ``ReLU`` layers.

    A layer with a built-in ReLU (``Conv2D(activation="relu")``) becomes a linear
    copy with the same name and weights followed by a ``ReLU`` named
    ``<layer>_relu``. Layers that do not affect the prediction (a softmax on the
    output, dropout) are left out.

    Raises:
        UnsupportedLayerError: some layers have no spiking counterpart; the message
            lists every one of them by name and type.
    """
    registry = (plugins or get_plugins()).layer_converters
    nodes = layer_graph(model)
    output_name = output_layer_name(model)
    taken_names = {node.name for node in nodes}

    plans: dict[str, list] = {}
    unsupported: list[tuple[str, str, str]] = []
    for node in nodes:
        if isinstance(node.layer, keras.layers.InputLayer):
            continue
        type_name = type(node.layer).__name__
        if type_name not in registry:
            unsupported.append((node.name, type_name, "no layer converter is registered for this type"))
            continue
        stages = registry.get(type_name).convert(node.layer, node.name == output_name)
        problems = [stage for stage in stages if isinstance(stage, Unsupported)]
        if problems:
            unsupported.extend((node.name, type_name, problem.reason) for problem in problems)
        plans[node.name] = stages

    if unsupported:
        # One group per layer type and reason keeps the message one readable line
        # even for networks with a hundred unsupported layers.
        groups: dict[tuple[str, str], list[str]] = {}
        for name, type_name, reason in unsupported:
            groups.setdefault((type_name, reason), []).append(name)
        listing = "; ".join(
            f"{len(names)} {type_name} ({reason}): {', '.join(names)}" for (type_name, reason), names in groups.items()
        )
        raise UnsupportedLayerError(
            f"model {model.name!r} cannot be converted to a spiking network because {len(unsupported)} "
            f"layer(s) have no rate-coded counterpart: {listing}. Replace them with ReLU-based layers and retrain, "
            "or register a layer converter for them through the snn_layer_converters hook",
            [(name, type_name) for name, type_name, _ in unsupported],
        )

    def call_layer(node: LayerNode, inputs: list):
        output = None
        for stage in plans[node.name]:
            if isinstance(stage, Affine):
                layer = stage.layer if stage.layer is not node.layer else copy_layer(node.layer)
                output = call_node(layer, node, inputs)
                layer.set_weights(node.layer.get_weights())
            elif isinstance(stage, Neuron):
                own_layer = isinstance(node.layer, (keras.layers.ReLU, keras.layers.Activation))
                name = node.name if own_layer else _free_name(f"{node.name}_relu", taken_names)
                output = keras.layers.ReLU(max_value=stage.max_value, name=name)(output if output is not None else inputs[0])
            elif isinstance(stage, Stateful):
                # The topology keeps the ANN layer, so statistics see the ANN's
                # operation; the simulator runs the stage's step instead.
                layer = copy_layer(node.layer)
                output = call_node(layer, node, [output] if output is not None else inputs)
                layer.set_weights(node.layer.get_weights())
            elif isinstance(stage, Dropped):
                output = output if output is not None else inputs[0]
        return output

    return rebuild(model, call_layer, name=f"{model.name}_spiking")


def _free_name(name: str, taken: set[str]) -> str:
    candidate, suffix = name, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{name}_{suffix}"
    taken.add(candidate)
    return candidate


def neuron_layer_names(spiking_topology: keras.Model) -> list[str]:
    """Return the names of the neuron layers of a spiking topology, in network order."""
    return [node.name for node in layer_graph(spiking_topology) if isinstance(node.layer, keras.layers.ReLU)]


@dataclass
class SpikingNetwork:
    """A converted network: topology, neuron model and one threshold per neuron layer.

    Attributes:
        topology: the spiking topology (see :func:`prepare_for_conversion`); its
            affine layers hold the fused weights.
        neuron_model: the neuron model of every neuron layer.
        neuron_parameters: parameters shared by all layers except ``v_threshold``.
        thresholds: per neuron layer, the threshold (and spike amplitude): float32
            of shape ``()`` or ``(channels,)``.
        normalization: the normalization method the thresholds came from.
        provenance: versions and inputs, written into the saved artifact.
    """

    topology: keras.Model
    neuron_model: NeuronModel
    neuron_parameters: Any
    thresholds: dict[str, np.ndarray]
    normalization: str
    provenance: dict = field(default_factory=dict)

    @property
    def neuron_layers(self) -> list[str]:
        return list(self.thresholds)

    def with_neuron_model(self, neuron_model: NeuronModel) -> SpikingNetwork:
        """Return this network with another neuron model at its default parameters, keeping the thresholds."""
        return dataclasses.replace(self, neuron_model=neuron_model, neuron_parameters=neuron_model.parameters)

    def parameters_for(self, layer: str) -> Any:
        """Return the neuron parameters of ``layer``, with its threshold filled in."""
        return dataclasses.replace(self.neuron_parameters, v_threshold=self.thresholds[layer])

    def save(self, directory: Path | str) -> None:
        """Write ``model.keras``, ``thresholds.npz`` and ``config.json`` to ``directory``, atomically."""
        parameters = {
            key: value for key, value in dataclasses.asdict(self.neuron_parameters).items() if key != "v_threshold"
        }
        config = {
            "format_version": NETWORK_FORMAT_VERSION,
            "neuron_model": self.neuron_model.name,
            "neuron_parameters": parameters,
            "normalization": self.normalization,
            "neuron_layers": self.neuron_layers,
            "provenance": self.provenance,
        }
        with atomic_path(directory, directory=True) as temporary:
            self.topology.save(temporary / "model.keras")
            np.savez(temporary / "thresholds.npz", **{f"layer_{i}": value for i, value in enumerate(self.thresholds.values())})
            (temporary / "config.json").write_text(json.dumps(config, indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path | str, plugins: Plugins | None = None) -> SpikingNetwork:
        """Read a network written by :meth:`save`.

        Raises:
            ArtifactError: the directory is missing or incomplete.
        """
        directory = Path(directory)
        config_path = directory / "config.json"
        if not config_path.is_file():
            raise ArtifactError(f"no converted network in {directory}: {config_path.name} not found; run `snn convert` first")
        config = json.loads(config_path.read_text())
        if config.get("format_version") != NETWORK_FORMAT_VERSION:
            raise ArtifactError(
                f"{directory} contains a network of format version {config.get('format_version')}, "
                f"this snn-core reads version {NETWORK_FORMAT_VERSION}; convert the model again with `snn convert`"
            )

        neuron_model = (plugins or get_plugins()).neuron_models.get(config["neuron_model"])
        with np.load(directory / "thresholds.npz") as data:
            thresholds = {name: data[f"layer_{i}"] for i, name in enumerate(config["neuron_layers"])}
        return cls(
            topology=load_model(directory / "model.keras"),
            neuron_model=neuron_model,
            neuron_parameters=dataclasses.replace(neuron_model.parameters, **config["neuron_parameters"]),
            thresholds=thresholds,
            normalization=config["normalization"],
            provenance=config.get("provenance", {}),
        )


def convert(
    model: keras.Model,
    stats: ActivationStatistics,
    normalization: str = "p99.9",
    neuron: str = "if",
    neuron_parameters: dict[str, Any] | None = None,
    plugins: Plugins | None = None,
    calibration_images: np.ndarray | None = None,
    calibration_timesteps: int = 128,
) -> SpikingNetwork:
    """Convert a fused model into a spiking network.

    Args:
        model: the model with batch norm fused (see :func:`~snn_core.fusion.fuse_batch_norm`).
        stats: activation statistics of the same fused model.
        normalization: a normalization method name, such as ``"max"`` or ``"p99.9"``.
        neuron: a neuron model name.
        neuron_parameters: overrides of the neuron model's default parameters
            (``v_threshold`` comes from normalization and cannot be set here).
        calibration_images: float32 ``[N, ...]`` training images, needed only by
            methods that run the spiking network (``needs_simulation``, such as
            threshold balancing); statistics-only methods ignore them.
        calibration_timesteps: time steps those methods simulate.

    Raises:
        UnsupportedLayerError: the model has layers without a spiking counterpart.
        UnknownNameError: ``normalization`` or ``neuron`` is not registered.
        SnnError: the method needs calibration images and none were given.
    """
    plugins = plugins or get_plugins()
    neuron_model = plugins.neuron_models.get(neuron)
    normalizer = resolve_normalizer(normalization, plugins)
    topology = prepare_for_conversion(model, plugins)

    parameters = neuron_model.parameters
    if neuron_parameters:
        if "v_threshold" in neuron_parameters:
            raise SnnError("v_threshold is set by normalization; choose a normalization method instead")
        valid = {field.name for field in dataclasses.fields(parameters)}
        unknown = sorted(set(neuron_parameters) - valid)
        if unknown:
            raise SnnError(f"neuron model {neuron!r} has no parameter(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}")
        parameters = dataclasses.replace(parameters, **neuron_parameters)

    names = neuron_layer_names(topology)
    missing = [name for name in names if name not in stats.layers]
    if missing:
        raise SnnError(
            f"the activation statistics lack neuron layer(s) {', '.join(missing)}; collect statistics "
            "from the same fused model that is being converted"
        )
    context = None
    if normalizer.method.needs_simulation and calibration_images is not None:
        context = NormalizationContext(
            topology=topology,
            neuron_layers=names,
            neuron_model=neuron_model,
            neuron_parameters=parameters,
            images=np.asarray(calibration_images, np.float32),
            timesteps=calibration_timesteps,
        )
    scales = normalizer.scales(ActivationStatistics({name: stats[name] for name in names}, stats.provenance), context)
    thresholds = {name: scales[name] for name in names}

    return SpikingNetwork(
        topology=topology,
        neuron_model=neuron_model,
        neuron_parameters=parameters,
        thresholds=thresholds,
        normalization=normalization,
        provenance=provenance(normalization=normalization, neuron=neuron),
    )
