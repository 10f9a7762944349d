"""Importing TensorFlow without its C++ start-up log on the terminal."""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def _stderr_silenced():
    # TensorFlow's C++ start-up lines (CPU features, missing CUDA drivers) are
    # written before its log level applies, straight to file descriptor 2.
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and probe its devices with its C++ start-up log hidden.

    Set ``SNN_TF_LOGS=1`` to see that log.
    """
    if os.environ.get("SNN_TF_LOGS") == "1":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()
