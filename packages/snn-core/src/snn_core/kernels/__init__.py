"""Compiled neuron kernels: one pass over a neuron layer's memory per time step.

TensorFlow has no single operation for an integrate-and-fire update, so the
update takes five elementwise kernels, each reading and writing the whole layer.
``integrate_and_fire.cc`` does it in one pass, as a TensorFlow custom operation.
It is compiled on first use with the system's C++ compiler against the installed
TensorFlow's headers, and cached in :func:`cache_directory`. A cached library is
reused until the source, TensorFlow's version or the build flags change.

Where no compiler is found, the build fails or ``SNN_KERNELS=0`` is set,
:func:`load_library` logs one warning and returns ``None``. The simulator then
runs TensorFlow's own operations, which give the same results more slowly.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from snn_core.errors import SnnError

logger = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("integrate_and_fire.cc")
"""The C++ source of the ``SnnIntegrateAndFire`` operation."""

SWITCH_VARIABLE = "SNN_KERNELS"
"""Environment variable that turns the compiled kernels off when set to ``0``, ``off``, ``false`` or ``no``."""

CACHE_VARIABLE = "SNN_CACHE_DIR"
"""Environment variable that overrides :func:`cache_directory`."""

BUILD_FLAGS = (
    "-shared",
    "-fPIC",
    "-O3",
    # Let the compiler vectorize the threshold comparison.
    "-fno-trapping-math",
    # Keep multiplies and adds separate, as TensorFlow computes them, so that
    # results are equal bit for bit.
    "-ffp-contract=off",
    # TensorFlow's own headers use functions that they mark as deprecated.
    "-Wno-deprecated-declarations",
)
"""Compiler flags on top of TensorFlow's own (``tf.sysconfig``)."""


TEMPORARY_PREFIX = ".build-"
"""Name prefix of the files that :func:`build` writes before renaming them into place."""

STALE_SECONDS = 3600
"""Age after which :func:`build` deletes a temporary file, which only a killed build leaves behind."""

COMPILER_ADVICE = "Install g++ or clang++, or set CXX to a working C++ compiler"


class KernelBuildError(SnnError):
    """The compiled kernels could not be built or loaded."""


def enabled() -> bool:
    """Return whether ``SNN_KERNELS`` allows the compiled kernels."""
    return os.environ.get(SWITCH_VARIABLE, "1").strip().lower() not in {"0", "off", "false", "no"}


def cache_directory() -> Path:
    """Return the directory of built kernels: ``kernels`` under ``$SNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/snn``, else ``~/.cache/snn``."""
    if os.environ.get(CACHE_VARIABLE):
        return Path(os.environ[CACHE_VARIABLE]) / "kernels"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "snn" / "kernels"


def find_compiler() -> str | None:
    """Return the C++ compiler command to build with: ``$CXX``, else the first of ``c++``, ``g++`` and ``clang++`` on the path."""
    if os.environ.get("CXX"):
        return os.environ["CXX"]
    for name in ("c++", "g++", "clang++"):
        path = shutil.which(name)
        if path:
            return path
    return None


def build(directory: Path, compiler: str | None = None) -> Path:
    """Compile the kernel library into ``directory`` unless it is there already, and return its path.

    The file name contains a hash of the source, TensorFlow's version, the
    platform, the compiler and the flags, so a change to any of them builds
    anew. The library is compiled to a temporary file and renamed into place,
    so a failed, interrupted or concurrent build leaves no partial library
    under the final name. A ``.sha256`` file beside the library stores its
    digest, and a library that no longer matches it (a damaged or partly
    copied file, which could crash the process when loaded) is built again.

    ``compiler`` (by default :func:`find_compiler`) is a command line, split
    like a shell's, so ``"ccache g++"`` works.

    NOTE: only Linux on x86-64 with g++ 12 has been tried. On other platforms a
    failed build falls back to TensorFlow's operations, as without a compiler.

    Raises:
        KernelBuildError: no compiler was found, or it failed.
    """
    import tensorflow as tf

    compiler = compiler or find_compiler()
    if compiler is None:
        raise KernelBuildError(f"no C++ compiler found: CXX is not set and none of c++, g++ and clang++ is on the path. {COMPILER_ADVICE}")
    try:
        program = shlex.split(compiler)
    except ValueError as error:
        raise KernelBuildError(f"the C++ compiler command {compiler!r} is invalid ({error}). {COMPILER_ADVICE}") from None
    if not program:
        raise KernelBuildError(f"the C++ compiler command {compiler!r} is empty. {COMPILER_ADVICE}")

    flags = [*BUILD_FLAGS, *tf.sysconfig.get_compile_flags()]
    link_flags = tf.sysconfig.get_link_flags()
    identity = [SOURCE.read_text(), tf.__version__, sys.platform, platform.machine(), *program, *flags, *link_flags]
    key = hashlib.sha256("\0".join(identity).encode()).hexdigest()[:16]
    target = directory / f"integrate_and_fire-{key}.so"
    digest_path = target.with_suffix(".sha256")
    if _matches_digest(target, digest_path):
        return target

    partial, digest_partial = _temporary_files(directory)
    try:
        _compile([*program, *flags, str(SOURCE), "-o", str(partial), *link_flags], compiler, partial)
        digest_partial.write_text(_sha256(partial) + "\n")
        os.replace(partial, target)
        os.replace(digest_partial, digest_path)
    finally:
        # Only what was not renamed into place is left, after a failure or an interrupt.
        partial.unlink(missing_ok=True)
        digest_partial.unlink(missing_ok=True)
    return target


def _remove_stale_files(directory: Path) -> None:
    """Delete temporary files older than :data:`STALE_SECONDS` in ``directory``. Only a killed build leaves such files."""
    for path in directory.glob(f"{TEMPORARY_PREFIX}*"):
        try:
            if time.time() - path.stat().st_mtime > STALE_SECONDS:
                path.unlink()
        except OSError:
            continue


def _temporary_files(directory: Path) -> tuple[Path, Path]:
    """Create ``directory``, delete its stale temporary files, and create two empty ones for the library and its digest."""
    created: list[Path] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _remove_stale_files(directory)
        for suffix in (".so", ".sha256"):
            descriptor, name = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=suffix, dir=directory)
            os.close(descriptor)
            created.append(Path(name))
    except OSError as error:
        for path in created:
            path.unlink(missing_ok=True)
        raise KernelBuildError(
            f"the kernel cache {directory} is not writable ({error.strerror}). Set {CACHE_VARIABLE} to a writable directory"
        ) from None
    return created[0], created[1]


def _compile(command: list[str], compiler: str, output: Path) -> None:
    """Run ``command`` and check that it wrote ``output``."""
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        raise KernelBuildError(f"failed to start the C++ compiler {compiler!r}: {error}. {COMPILER_ADVICE}") from None

    if completed.returncode != 0:
        lines = [line for line in completed.stderr.splitlines() if "error" in line.lower()] or completed.stderr.splitlines()
        detail = lines[0].strip() if lines else "no output"
        raise KernelBuildError(
            f"the C++ compiler {compiler!r} failed with exit status {completed.returncode}: {detail}. {COMPILER_ADVICE}"
        )
    if output.stat().st_size == 0:
        raise KernelBuildError(f"the C++ compiler {compiler!r} exited with status 0 but wrote no library. {COMPILER_ADVICE}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _matches_digest(library: Path, digest_path: Path) -> bool:
    """Return whether ``library`` exists and matches the digest stored beside it."""
    try:
        return digest_path.read_text().strip() == _sha256(library)
    except OSError:
        return False


@functools.cache
def load_library() -> Any | None:
    """Return the loaded kernel library (building it on first use), or ``None`` where it cannot be used.

    The reason for ``None`` is logged once per process as a warning, unless
    ``SNN_KERNELS`` turned the kernels off.
    """
    if not enabled():
        return None

    import tensorflow as tf

    try:
        path = build(cache_directory())
        return tf.load_op_library(str(path))
    except (KernelBuildError, OSError, tf.errors.NotFoundError) as error:
        logger.warning(
            "the compiled neuron kernels are not available, so the simulator uses TensorFlow's own operations, "
            "which are slower. Cause: %s. To skip the build, set %s=0",
            error,
            SWITCH_VARIABLE,
        )
        return None


def integrate_and_fire(current, potential, threshold, retain: float = 1.0, reset: str = "subtract"):
    """Advance integrate-and-fire neurons by one step in one compiled kernel.

    Args:
        current: float32 input current.
        potential: float32 membrane potentials of the same shape.
        threshold: float32 scalar, or one threshold per channel (the last axis).
        retain: fraction of the potential kept from the last step, ``1 - leak``.
        reset: ``"subtract"`` (reset by subtraction) or ``"zero"`` (reset to zero).

    Returns:
        ``(outputs, new_potential)``: spikes times the threshold, and the
        potentials after the step.

    Raises:
        KernelBuildError: the library is not available (see :func:`load_library`).
    """
    library = load_library()
    if library is None:
        raise KernelBuildError(
            f"the compiled neuron kernels are not available: {SWITCH_VARIABLE} turns them off, or their build failed "
            "(see the logged warning)"
        )
    return library.snn_integrate_and_fire(current, potential, threshold, retain=retain, reset=reset)
