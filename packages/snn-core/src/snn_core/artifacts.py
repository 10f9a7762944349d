"""Writing artifacts safely and recording where they came from.

Every artifact is written under a temporary name in its target directory and
renamed into place when complete, so a crash or a rejected input never leaves a
half-written file that a later step would trust.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import keras

from snn_core.errors import ArtifactError

_PACKAGES = ("snn-core", "snn-models", "snn-norm", "snn-cli", "tensorflow", "tensorflow-cpu", "keras", "numpy")


@contextlib.contextmanager
def atomic_path(path: Path | str, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` and move it to ``path`` on success.

    With ``directory=True`` the temporary path is an empty directory. On an
    exception the temporary file or directory is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if directory:
        temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    else:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
        os.close(handle)
        temporary = Path(name)
    try:
        yield temporary
        if directory and path.exists():
            shutil.rmtree(path)
        os.replace(temporary, path)
    except BaseException:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            temporary.unlink(missing_ok=True)
        raise


def write_json(path: Path | str, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: Path | str) -> dict[str, Any]:
    """Read a JSON artifact; raise :class:`ArtifactError` if it is missing or invalid."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"file not found: {path}; run the step that writes it first")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ArtifactError(f"{path} is not valid JSON ({error}); delete it and run the step again") from None


def save_model(model: keras.Model, path: Path | str) -> None:
    """Save a Keras model in the ``.keras`` format, atomically."""
    with atomic_path(path) as temporary:
        temporary.unlink()
        model.save(temporary)


def load_model(path: Path | str) -> keras.Model:
    """Load a ``.keras``, ``.h5`` or SavedModel-free Keras model.

    Raises:
        ArtifactError: the file does not exist or is not a Keras model.
    """
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"model file not found: {path}; give the path of a .keras or .h5 file")
    if path.suffix not in (".keras", ".h5"):
        raise ArtifactError(f"{path} is not a Keras model file; expected a .keras or .h5 file")
    from snn_core.plugins import get_plugins

    # Loading the plugins imports their modules, which registers their custom Keras
    # layers (such as snn-models' ShortcutPadding) for deserialization.
    get_plugins()
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for corrupt files.
        raise ArtifactError(
            f"could not load model {path}: the file is not a readable Keras model ({type(error).__name__}); "
            "check that it was written by Keras model.save"
        ) from None


def provenance(**inputs: Any) -> dict[str, Any]:
    """Return package versions, the time and ``inputs``, to embed in an artifact."""
    versions = {}
    for package in _PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return {
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": versions,
        "inputs": {key: str(value) if isinstance(value, Path) else value for key, value in inputs.items()},
    }
