"""Activation statistics of every neuron layer, collected in one streaming pass.

Each neuron layer's positive activations are counted in a histogram with
logarithmically spaced bins, ``BINS_PER_OCTAVE`` per doubling, from ``2**MIN_EXPONENT``
to ``2**MAX_EXPONENT``. Adjacent bin edges differ by a factor of ``2**(1/128)``, about
0.54%, so a percentile read from the histogram is within that relative error of the
exact value (values beyond the range fall in the first or last bin, and the exact
maximum is kept beside the histogram). Memory depends on the number of layers and
channels, never on the number of samples, and statistics from several passes merge
by adding counts.

File format (``activations.npz``, readable with ``numpy.load`` alone), version 1:

=====================  ==========================================================
key                    value
=====================  ==========================================================
``format``             the string ``"snn-activation-statistics"``
``format_version``     int, 1
``bins_per_octave``    int, bins per doubling of the activation value
``min_exponent``       int, the histogram starts at ``2**min_exponent``
``max_exponent``       int, the histogram ends at ``2**max_exponent``
``layers``             str array, the neuron layers in network order
``histogram_<i>``      int64 array, counts of positive values of layer ``i``; bin
                       ``k`` covers ``[2**(min_exponent + k / bins_per_octave),
                       2**(min_exponent + (k + 1) / bins_per_octave))``
``nonpositive_<i>``    int64, count of values <= 0 of layer ``i``
``max_<i>``            float64, largest value of layer ``i``
``channel_max_<i>``    float64 array, largest value per channel (last axis)
``provenance``         str, JSON with package versions and inputs
=====================  ==========================================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from snn_core.artifacts import atomic_path
from snn_core.errors import ArtifactError, SnnError

FORMAT = "snn-activation-statistics"
FORMAT_VERSION = 1
BINS_PER_OCTAVE = 128
MIN_EXPONENT = -24
MAX_EXPONENT = 24
NUM_BINS = (MAX_EXPONENT - MIN_EXPONENT) * BINS_PER_OCTAVE


@dataclass
class LayerStatistics:
    """The distribution of one neuron layer's activations.

    Attributes:
        histogram: int64 counts of positive values in logarithmic bins.
        nonpositive: count of values <= 0.
        max: largest value seen.
        channel_max: largest value per channel.
    """

    histogram: np.ndarray = field(default_factory=lambda: np.zeros(NUM_BINS, np.int64))
    nonpositive: int = 0
    max: float = float("-inf")
    channel_max: np.ndarray | None = None

    @property
    def positive(self) -> int:
        return int(self.histogram.sum())

    def merge(self, other: LayerStatistics) -> LayerStatistics:
        """Return the statistics of both samples together."""
        if self.channel_max is None:
            channel_max = other.channel_max
        elif other.channel_max is None:
            channel_max = self.channel_max
        else:
            channel_max = np.maximum(self.channel_max, other.channel_max)
        return LayerStatistics(
            histogram=self.histogram + other.histogram,
            nonpositive=self.nonpositive + other.nonpositive,
            max=max(self.max, other.max),
            channel_max=channel_max,
        )

    def percentile(self, q: float) -> float:
        """Estimate the ``q``-th percentile (0 < q <= 100) of the positive values.

        Percentiles are taken over positive activations only, as in SNN Toolbox's
        robust normalization, because the zeros of a ReLU layer say nothing about
        its range. Returns 0.0 for a layer that was never positive.
        """
        if not 0 < q <= 100:
            raise SnnError(f"percentile must be in (0, 100], got {q}")
        total = self.positive
        if total == 0:
            return 0.0
        if q == 100:
            return float(self.max)

        cumulative = np.cumsum(self.histogram)
        rank = q / 100.0 * total
        index = int(np.searchsorted(cumulative, rank, side="left"))
        before = cumulative[index - 1] if index > 0 else 0
        fraction = (rank - before) / self.histogram[index]

        # Interpolate geometrically: the bins are evenly spaced in log2.
        exponent = MIN_EXPONENT + (index + fraction) / BINS_PER_OCTAVE
        return float(min(2.0**exponent, self.max))


@dataclass
class ActivationStatistics:
    """Statistics of every neuron layer of one model, keyed by layer name (network order)."""

    layers: dict[str, LayerStatistics]
    provenance: dict = field(default_factory=dict)

    def __getitem__(self, layer: str) -> LayerStatistics:
        try:
            return self.layers[layer]
        except KeyError:
            raise SnnError(
                f"no activation statistics for layer {layer!r}; the statistics hold {', '.join(self.layers)}. "
                "Collect statistics from the same fused model that is being converted"
            ) from None

    def merge(self, other: ActivationStatistics) -> ActivationStatistics:
        """Return the statistics of both passes together; both must cover the same layers."""
        if list(self.layers) != list(other.layers):
            raise SnnError("cannot merge statistics of different models: the layer names differ")
        return ActivationStatistics({name: self.layers[name].merge(other.layers[name]) for name in self.layers}, self.provenance)

    def save(self, path: Path | str) -> None:
        """Write the statistics in the documented ``.npz`` format, atomically."""
        arrays: dict[str, np.ndarray] = {
            "format": np.array(FORMAT),
            "format_version": np.array(FORMAT_VERSION),
            "bins_per_octave": np.array(BINS_PER_OCTAVE),
            "min_exponent": np.array(MIN_EXPONENT),
            "max_exponent": np.array(MAX_EXPONENT),
            "layers": np.array(list(self.layers), dtype=str),
            "provenance": np.array(json.dumps(self.provenance)),
        }
        for index, layer in enumerate(self.layers.values()):
            arrays[f"histogram_{index}"] = layer.histogram
            arrays[f"nonpositive_{index}"] = np.array(layer.nonpositive, np.int64)
            arrays[f"max_{index}"] = np.array(layer.max, np.float64)
            arrays[f"channel_max_{index}"] = np.asarray(layer.channel_max if layer.channel_max is not None else [], np.float64)
        with atomic_path(path) as temporary:
            with open(temporary, "wb") as handle:
                np.savez_compressed(handle, **arrays)

    @classmethod
    def load(cls, path: Path | str) -> ActivationStatistics:
        """Read statistics written by :meth:`save`.

        Raises:
            ArtifactError: the file is missing, not a statistics file, or of another version.
        """
        path = Path(path)
        if not path.is_file():
            raise ArtifactError(f"activation statistics not found: {path}; run `snn stats` first")
        with np.load(path, allow_pickle=False) as data:
            if "format" not in data or str(data["format"]) != FORMAT:
                raise ArtifactError(f"{path} is not an activation statistics file")
            version = int(data["format_version"])
            if version != FORMAT_VERSION:
                raise ArtifactError(
                    f"{path} has statistics format version {version}, this snn-core reads version {FORMAT_VERSION}; "
                    "collect the statistics again"
                )
            layers = {}
            for index, name in enumerate(data["layers"]):
                channel_max = data[f"channel_max_{index}"]
                layers[str(name)] = LayerStatistics(
                    histogram=data[f"histogram_{index}"].astype(np.int64),
                    nonpositive=int(data[f"nonpositive_{index}"]),
                    max=float(data[f"max_{index}"]),
                    channel_max=channel_max if channel_max.size else None,
                )
            provenance = json.loads(str(data["provenance"]))
        return cls(layers, provenance)


def histogram_counts(values: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Return the log-bin counts of the positive entries of ``values`` and the count of the others."""
    flat = tf.reshape(tf.cast(values, tf.float32), [-1])
    positive = tf.boolean_mask(flat, flat > 0)

    bins = tf.floor((tf.math.log(positive) / np.log(2.0) - MIN_EXPONENT) * BINS_PER_OCTAVE)
    bins = tf.clip_by_value(tf.cast(bins, tf.int32), 0, NUM_BINS - 1)
    counts = tf.math.bincount(bins, minlength=NUM_BINS, maxlength=NUM_BINS, dtype=tf.int64)

    nonpositive = tf.size(flat, out_type=tf.int64) - tf.size(positive, out_type=tf.int64)
    return counts, nonpositive


def collect_activation_stats(model: keras.Model, dataset: tf.data.Dataset, progress=None, plugins=None) -> ActivationStatistics:
    """Collect the activation statistics of every neuron layer of ``model``.

    Args:
        model: the fused model; its neuron layers are found by the same layer
            converters that :func:`~snn_core.conversion.convert` uses, so the names
            match the converted network's.
        dataset: batched ``(images, labels)``, normally the training split.
        progress: optional callable ``progress(images_done)`` called after every batch.

    Returns:
        Statistics of every neuron layer, in network order.
    """
    from snn_core.conversion import neuron_layer_names, prepare_for_conversion

    spiking_topology = prepare_for_conversion(model, plugins)
    names = neuron_layer_names(spiking_topology)
    if not names:
        raise SnnError(f"model {model.name!r} has no ReLU-like activations, so it has no neuron layers to normalize")
    probe = keras.Model(spiking_topology.inputs, [spiking_topology.get_layer(name).output for name in names])

    @tf.function
    def batch_statistics(images):
        outputs = tf.nest.flatten(probe(images, training=False))
        results = []
        for output in outputs:
            counts, nonpositive = histogram_counts(output)
            channel_axes = list(range(len(output.shape) - 1))
            results.append((counts, nonpositive, tf.reduce_max(output), tf.reduce_max(output, axis=channel_axes)))
        return results

    layers = {name: LayerStatistics() for name in names}
    seen = 0
    for images, _ in dataset:
        for name, (counts, nonpositive, maximum, channel_max) in zip(names, batch_statistics(images)):
            batch = LayerStatistics(counts.numpy(), int(nonpositive), float(maximum), channel_max.numpy().astype(np.float64))
            layers[name] = layers[name].merge(batch)
        seen += int(images.shape[0])
        if progress is not None:
            progress(seen)

    if seen == 0:
        raise SnnError("the dataset for activation statistics is empty")
    return ActivationStatistics(layers)
