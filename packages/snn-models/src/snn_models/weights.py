"""Load weights a user already has into a zoo model, matching layers by name.

Three file formats are read: a whole model saved as ``.keras``, a whole model or
its weights in the legacy HDF5 format (``.h5``), and Keras 3 weights
(``.weights.h5``). Matching by layer name lets a checkpoint from a differently
built but same-named model load, and reports exactly which layers did not match.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from snn_core import ArtifactError, SnnError


@dataclass(frozen=True)
class WeightsReport:
    """The outcome of :func:`load_weights`.

    Attributes:
        loaded: names of the model's layers whose weights were set.
        missing: the model's layers with weights that the file does not contain.
        unused: layers in the file that the model does not contain.
    """

    loaded: tuple[str, ...]
    missing: tuple[str, ...]
    unused: tuple[str, ...]


def load_weights(model: keras.Model, path: Path | str, allow_missing: bool = False) -> WeightsReport:
    """Set the weights of ``model``'s layers from the same-named layers in ``path``.

    Args:
        model: the model to fill; layers of nested models are matched too.
        path: a ``.keras``, ``.h5`` or ``.weights.h5`` file.
        allow_missing: accept model layers that the file lacks (they keep their
            current weights); otherwise they are an error.

    Raises:
        ArtifactError: the file is missing or of an unknown format.
        SnnError: a layer's weight shapes differ from the file's, no layer matched,
            or (without ``allow_missing``) some layers are missing from the file.
    """
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"weights file not found: {path}; give the path of a .keras, .h5 or .weights.h5 file")
    stored = read_layer_weights(path)

    layers = {layer.name: layer for layer in _all_layers(model) if layer.weights}
    mismatched = []
    loaded = []
    for name, layer in layers.items():
        if name not in stored:
            continue
        expected = [tuple(weight.shape) for weight in layer.weights]
        found = [tuple(array.shape) for array in stored[name]]
        if expected != found:
            mismatched.append(f"{name} (model {expected}, file {found})")
            continue
        loaded.append(name)

    if mismatched:
        raise SnnError(
            f"{len(mismatched)} layer(s) of {path} have other weight shapes than model {model.name!r}: "
            f"{'; '.join(mismatched)}; build the model for the same input shape and number of classes"
        )
    if not loaded:
        raise SnnError(
            f"no layer of model {model.name!r} has a same-named layer in {path}; the file contains "
            f"{', '.join(sorted(stored)[:10]) or 'no weights'}"
        )
    missing = tuple(name for name in layers if name not in stored)
    if missing and not allow_missing:
        raise SnnError(
            f"{path} lacks the weights of {len(missing)} layer(s) of model {model.name!r}: {', '.join(missing)}"
        )

    for name in loaded:
        layers[name].set_weights(stored[name])
    unused = tuple(name for name in stored if name not in layers)
    return WeightsReport(tuple(loaded), missing, unused)


def read_layer_weights(path: Path) -> dict[str, list[np.ndarray]]:
    """Return ``{layer name: weights in the layer's own order}`` from a weights or model file."""
    if path.name.endswith(".weights.h5"):
        return _read_keras3_weights(path)
    if path.suffix == ".h5":
        return _read_legacy_h5(path)
    if path.suffix == ".keras":
        try:
            source = keras.saving.load_model(path, compile=False)
        except Exception as error:  # Keras raises many types for corrupt files.
            raise ArtifactError(f"could not load model {path}: {error}") from None
        return {layer.name: layer.get_weights() for layer in _all_layers(source) if layer.weights}
    raise ArtifactError(f"{path} is not a Keras weights file; expected .keras, .h5 or .weights.h5")


def _all_layers(model: keras.Model) -> list[keras.layers.Layer]:
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            layers.extend(_all_layers(layer))
        else:
            layers.append(layer)
    return layers


def _read_keras3_weights(path: Path) -> dict[str, list[np.ndarray]]:
    import h5py

    # Keras 3 stores each layer's variables as datasets "0", "1", ... in a group
    # ".../vars" whose "name" attribute is the layer name.
    weights: dict[str, list[np.ndarray]] = {}

    def visit(group_path: str, item) -> None:
        if isinstance(item, h5py.Group) and group_path.endswith("vars") and "name" in item.attrs and len(item):
            weights[str(item.attrs["name"])] = [np.asarray(item[key]) for key in sorted(item, key=int)]

    try:
        with h5py.File(path, "r") as file:
            file.visititems(visit)
    except OSError as error:
        raise ArtifactError(f"could not read weights file {path}: {error}") from None
    return weights


def _read_legacy_h5(path: Path) -> dict[str, list[np.ndarray]]:
    import h5py

    weights: dict[str, list[np.ndarray]] = {}
    try:
        with h5py.File(path, "r") as file:
            root = file["model_weights"] if "model_weights" in file else file
            if "layer_names" not in root.attrs:
                raise ArtifactError(f"{path} is an HDF5 file without Keras layer weights")
            for raw_name in root.attrs["layer_names"]:
                name = raw_name.decode() if isinstance(raw_name, bytes) else str(raw_name)
                group = root[name]
                names = [item.decode() if isinstance(item, bytes) else str(item) for item in group.attrs["weight_names"]]
                if names:
                    weights[name] = [np.asarray(group[weight_name]) for weight_name in names]
    except OSError as error:
        raise ArtifactError(f"could not read weights file {path}: {error}") from None
    return weights
