"""Fixtures shared by snn-core's tests."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from snn_core import NormalizationMethod, Plugins, hookimpl


@pytest.fixture
def digits_images() -> np.ndarray:
    """Return 64 real test digits, float32 [64, 28, 28, 1] in 0..255."""
    from snn_core.digits import load_arrays

    images, _ = load_arrays("test")
    return images[::16][:64]


def _randomize_batch_norms(model: keras.Model, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.moving_mean.shape[0]
            weights = []
            if layer.scale:
                weights.append(rng.uniform(0.5, 1.5, channels))
            if layer.center:
                weights.append(rng.normal(0.0, 0.3, channels))
            weights += [rng.normal(0.0, 0.5, channels), rng.uniform(0.2, 2.0, channels)]
            layer.set_weights([w.astype(np.float32) for w in weights])


@pytest.fixture
def randomize_batch_norms():
    """Return a function that gives every batch norm of a model non-trivial statistics, scale and offset."""
    return _randomize_batch_norms


FIXED_SCALE = 2.0
"""The scale of every neuron layer under the ``fixed`` normalization of the ``plugins`` fixture."""


class _FixedScale:
    @hookimpl
    def snn_normalizers(self):
        return [NormalizationMethod("fixed", lambda stats, argument: dict.fromkeys(stats.layers, FIXED_SCALE))]


@pytest.fixture
def plugins() -> Plugins:
    """Return the installed plugins plus a ``fixed`` normalization that scales every layer by 2.0."""
    plugins = Plugins()
    plugins.register(_FixedScale(), name="fixed-scale")
    return plugins
