"""Activation statistics of every neuron layer, collected in one streaming pass.

Binning
-------

A positive float32 value ``x`` falls in bin ``k = bits(x) >> 16``, where ``bits(x)``
is its IEEE 754 bit pattern read as an unsigned integer. The shift keeps the
exponent and the top 7 bits of the mantissa, so every doubling of the value is split
into 128 bins of equal width. A bin is between 0.39% and 0.78% of its lower edge
wide, and a percentile interpolated inside a bin is within 0.78% (relative) of the
exact value. Counting needs one shift and one ``bincount`` per value, and the bins
cover every positive float32, so no value is ever out of range.

Percentiles are percentiles of the *positive* values of a layer: the zeros of a
ReLU layer say nothing about its range, and robust normalization (Rueckauer et
al., "Conversion of continuous-valued deep networks to efficient event-driven
networks", Frontiers in Neuroscience 2017) takes its percentiles the same way.
Values ``<= 0`` and positive values below ``2**-133`` (the subnormals whose top
16 bits are zero) are counted apart, as ``nonpositive``.

Memory
------

Per neuron layer: a ``32768``-bin int64 histogram (256 KiB), the maximum, and the
maximum of each channel (last axis). With ``channel_histograms=True``, each channel
also gets a 4096-bin int64 histogram (32 KiB per channel, 16 MiB for a 512-channel
layer) at the same resolution, restricted to ``[2**-16, 2**16)``: values below fall
in its first bin and values above in its last, and a percentile read from those two
bins is clamped to the range (and to the channel's maximum). None of this depends
on the number of samples. Statistics merge by adding counts and taking maxima, so
merging batches, files or replicas gives the same statistics as one pass.

File format
-----------

``activations.npz``, readable with ``numpy.load`` alone, version 2:

=========================  =====================================================
key                        value
=========================  =====================================================
``format``                 the string ``"snn-activation-statistics"``
``format_version``         int, 2
``bin_shift``              int, 16: bin ``k`` holds the positive float32 values
                           whose bit pattern shifted right by ``bin_shift`` is
                           ``k``, so its lower edge is
                           ``np.uint32(k << bin_shift).view(np.float32)``
``layers``                 str array, the neuron layers in network order
``histogram_<i>``          int64 ``[32768]``, counts of layer ``i``; bin 0 is
                           always 0
``nonpositive_<i>``        int64, count of values of layer ``i`` that are
                           ``<= 0`` or below ``2**-133``
``max_<i>``                float64, largest value of layer ``i``
``channel_max_<i>``        float64 ``[channels]``, largest value per channel
                           (last axis)
``channel_first_bin``      int, 14208: column ``j`` of a channel histogram is
                           bin ``channel_first_bin + j`` (``2**-16`` is the
                           lower edge of column 0)
``channel_histogram_<i>``  int64 ``[channels, 4096]``, or ``[0, 4096]`` when
                           not collected; column 0 also counts smaller positive
                           values and the last column larger ones
``provenance``             str, JSON with package versions and inputs
=========================  =====================================================

Version 1 (log-spaced bins of ``2**(1/128)``) is no longer read; collect the
statistics again.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from snn_core.artifacts import atomic_path
from snn_core.distribute import MAX, SUM, reduce_over_dataset
from snn_core.errors import ArtifactError, SnnError

FORMAT = "snn-activation-statistics"
FORMAT_VERSION = 2

BIN_SHIFT = 16
NUM_BINS = 1 << (32 - BIN_SHIFT - 1)  # every bit pattern with the sign bit clear
BINS_PER_OCTAVE = 1 << (23 - BIN_SHIFT)

CHANNEL_MIN_EXPONENT = -16
CHANNEL_MAX_EXPONENT = 16
CHANNEL_FIRST_BIN = (127 + CHANNEL_MIN_EXPONENT) * BINS_PER_OCTAVE
CHANNEL_BINS = (CHANNEL_MAX_EXPONENT - CHANNEL_MIN_EXPONENT) * BINS_PER_OCTAVE


def bin_edges(first: int, count: int) -> np.ndarray:
    """Return the ``count + 1`` edges (float64) of bins ``first`` to ``first + count - 1``.

    Edges from bin 32640 on are the bit patterns of infinity and NaN.
    """
    patterns = (np.arange(first, first + count + 1, dtype=np.uint64) << BIN_SHIFT).astype(np.uint32)
    with np.errstate(invalid="ignore"):
        return patterns.view(np.float32).astype(np.float64)


def _percentile_from_counts(counts: np.ndarray, first_bin: int, q: float, maximum: float) -> float:
    """Interpolate the ``q``-th percentile of the values counted in ``counts`` (bins from ``first_bin``)."""
    total = int(counts.sum())
    if total == 0:
        return 0.0
    if q == 100:
        return float(maximum)

    cumulative = np.cumsum(counts)
    rank = q / 100.0 * total
    index = int(np.searchsorted(cumulative, rank, side="left"))
    before = cumulative[index - 1] if index > 0 else 0
    fraction = (rank - before) / counts[index]

    # Within one bin the values are taken as evenly spread: the bins are linear in
    # the mantissa, so linear interpolation matches the bin layout.
    lower, upper = bin_edges(first_bin + index, 1)
    return float(min(lower + fraction * (upper - lower), maximum))


def _check_percentile(q: float) -> None:
    if not 0 < q <= 100:
        raise SnnError(f"percentile must be in (0, 100], got {q}")


@dataclass
class LayerStatistics:
    """The distribution of one neuron layer's activations.

    Attributes:
        histogram: int64 ``[NUM_BINS]`` counts of positive values (see the module
            docstring for the bins).
        nonpositive: count of values ``<= 0`` (and of positive subnormals below ``2**-133``).
        max: largest value seen.
        channel_max: float64 ``[channels]``, largest value per channel, or ``None``.
        channel_histogram: int64 ``[channels, CHANNEL_BINS]`` counts per channel,
            or ``None`` when they were not collected.
    """

    histogram: np.ndarray = field(default_factory=lambda: np.zeros(NUM_BINS, np.int64))
    nonpositive: int = 0
    max: float = float("-inf")
    channel_max: np.ndarray | None = None
    channel_histogram: np.ndarray | None = None

    @property
    def positive(self) -> int:
        """Number of positive values counted."""
        return int(self.histogram.sum())

    @property
    def has_channel_histograms(self) -> bool:
        return self.channel_histogram is not None

    def merge(self, other: LayerStatistics) -> LayerStatistics:
        """Return the statistics of both samples together.

        Raises:
            SnnError: the two have different numbers of channels.
        """
        return LayerStatistics(
            histogram=self.histogram + other.histogram,
            nonpositive=self.nonpositive + other.nonpositive,
            max=max(self.max, other.max),
            channel_max=_merge_optional(self.channel_max, other.channel_max, np.maximum),
            channel_histogram=_merge_optional(self.channel_histogram, other.channel_histogram, np.add),
        )

    def percentile(self, q: float) -> float:
        """Estimate the ``q``-th percentile (0 < q <= 100) of the positive values.

        The estimate is within 0.78% (relative) of the exact percentile; ``q = 100``
        returns the exact maximum, and a layer that was never positive returns 0.0.
        """
        _check_percentile(q)
        return _percentile_from_counts(self.histogram, 0, q, self.max)

    def channel_percentiles(self, q: float) -> np.ndarray:
        """Estimate the ``q``-th percentile of each channel's positive values (float64 ``[channels]``).

        Within 0.78% of the exact value for percentiles in ``[2**-16, 2**16)``.
        A channel that was never positive gets 0.0.

        Raises:
            SnnError: the channel histograms were not collected.
        """
        _check_percentile(q)
        if self.channel_histogram is None or self.channel_max is None:
            raise SnnError(
                "these activation statistics have no per-channel histograms; collect them again with "
                "channel histograms (`snn stats` collects them unless given --no-channel-histograms)"
            )
        return np.array(
            [
                _percentile_from_counts(counts, CHANNEL_FIRST_BIN, q, maximum)
                for counts, maximum in zip(self.channel_histogram, self.channel_max, strict=True)
            ]
        )


def _merge_optional(first: np.ndarray | None, second: np.ndarray | None, combine) -> np.ndarray | None:
    if first is None:
        return second
    if second is None:
        return first
    if first.shape != second.shape:
        raise SnnError(f"cannot merge per-channel statistics of shapes {first.shape} and {second.shape}")
    return combine(first, second)


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

    @property
    def has_channel_histograms(self) -> bool:
        """Whether every layer has per-channel histograms."""
        return all(layer.has_channel_histograms for layer in self.layers.values())

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
            "bin_shift": np.array(BIN_SHIFT),
            "channel_first_bin": np.array(CHANNEL_FIRST_BIN),
            "layers": np.array(list(self.layers), dtype=str),
            "provenance": np.array(json.dumps(self.provenance)),
        }
        for index, layer in enumerate(self.layers.values()):
            arrays[f"histogram_{index}"] = layer.histogram
            arrays[f"nonpositive_{index}"] = np.array(layer.nonpositive, np.int64)
            arrays[f"max_{index}"] = np.array(layer.max, np.float64)
            arrays[f"channel_max_{index}"] = np.asarray(layer.channel_max if layer.channel_max is not None else [], np.float64)
            channel_histogram = layer.channel_histogram
            if channel_histogram is None:
                channel_histogram = np.zeros((0, CHANNEL_BINS), np.int64)
            arrays[f"channel_histogram_{index}"] = channel_histogram
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
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise ArtifactError(f"{path} is not an activation statistics file ({error}); run `snn stats` again") from None
        with data:
            if "format" not in data or str(data["format"]) != FORMAT:
                raise ArtifactError(f"{path} is not an activation statistics file")
            version = int(data["format_version"])
            if version != FORMAT_VERSION:
                raise ArtifactError(
                    f"{path} has statistics format version {version}, this snn-core reads version {FORMAT_VERSION}; "
                    "collect the statistics again with `snn stats`"
                )
            layers = {}
            for index, name in enumerate(data["layers"]):
                channel_max = data[f"channel_max_{index}"]
                channel_histogram = data[f"channel_histogram_{index}"].astype(np.int64)
                layers[str(name)] = LayerStatistics(
                    histogram=data[f"histogram_{index}"].astype(np.int64),
                    nonpositive=int(data[f"nonpositive_{index}"]),
                    max=float(data[f"max_{index}"]),
                    channel_max=channel_max if channel_max.size else None,
                    channel_histogram=channel_histogram if channel_histogram.shape[0] else None,
                )
            provenance = json.loads(str(data["provenance"]))
        return cls(layers, provenance)


def merge_statistics(statistics: Iterable[ActivationStatistics]) -> ActivationStatistics:
    """Merge statistics of several shards (batches, files, workers) into one.

    Raises:
        SnnError: ``statistics`` is empty or the shards come from different models.
    """
    merged = None
    for shard in statistics:
        merged = shard if merged is None else merged.merge(shard)
    if merged is None:
        raise SnnError("no activation statistics to merge")
    return merged


def histogram_counts(values: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Return the bin counts (int64 ``[NUM_BINS]``) of ``values`` and the count of nonpositive ones.

    Bin 0 of the result is always 0: its values count as nonpositive.
    """
    counts = _bincount(tf.reshape(_bin_indices(values), [-1]), NUM_BINS)
    counts = tf.concat([tf.zeros([1], tf.int64), counts[1:]], axis=0)
    nonpositive = tf.size(values, out_type=tf.int64) - tf.reduce_sum(counts)
    return counts, nonpositive


def channel_histogram_counts(values: tf.Tensor) -> tf.Tensor:
    """Return per-channel bin counts, int64 ``[channels, CHANNEL_BINS]``, of the positive ``values``.

    Channels are the last axis; bins are clamped to the channel histogram's range.
    """
    bins = _bin_indices(values)
    positive = (bins > 0) & (bins < NUM_BINS)
    columns = tf.clip_by_value(bins - CHANNEL_FIRST_BIN, 0, CHANNEL_BINS - 1) + 1
    # Column 0 of each channel's row collects the values that are not positive.
    columns = tf.where(positive, columns, 0)

    channels = values.shape[-1]
    row_length = CHANNEL_BINS + 1
    indices = columns + tf.range(channels, dtype=tf.int32) * row_length
    counts = _bincount(tf.reshape(indices, [-1]), channels * row_length)
    return tf.reshape(counts, [channels, row_length])[:, 1:]


def _bincount(indices: tf.Tensor, size: int) -> tf.Tensor:
    """Count each of ``0 .. size - 1`` in the int32 ``indices``, skipping larger ones; int64 ``[size]``.

    The raw op with int32 counts took 1.2 ns per value against 2.0 ns for
    ``tf.math.bincount``, which also scans the input for its largest value
    (TensorFlow 2.21, 2-core x86 CPU, 16 million values).

    NOTE: the counts of one call are int32, so one layer output of one batch must
    put fewer than ``2**31`` values in a bin.
    """
    counts = tf.raw_ops.DenseBincount(input=indices, size=size, weights=tf.constant([], tf.int32), binary_output=False)
    return tf.cast(counts, tf.int64)


def _bin_indices(values: tf.Tensor) -> tf.Tensor:
    # Unsigned, so that negative values (sign bit set) land at NUM_BINS or above,
    # where the bincount skips them. After the shift the result fits int32.
    bits = tf.bitcast(tf.cast(values, tf.float32), tf.uint32)
    return tf.bitcast(tf.bitwise.right_shift(bits, tf.constant(BIN_SHIFT, tf.uint32)), tf.int32)


def collect_activation_stats(
    model: keras.Model,
    dataset: tf.data.Dataset,
    progress: Callable[[int], None] | None = None,
    plugins=None,
    channel_histograms: bool = False,
    strategy: tf.distribute.Strategy | None = None,
) -> ActivationStatistics:
    """Collect the activation statistics of every neuron layer of ``model``.

    Args:
        model: the fused model; its neuron layers are found by the same layer
            converters that :func:`~snn_core.conversion.convert` uses, so the names
            match the converted network's.
        dataset: batched ``(images, labels)``, normally the training split.
        progress: optional callable ``progress(images_done)`` called after every batch.
        channel_histograms: also count a histogram per channel (32 KiB per
            channel), which channel-wise percentile normalization needs.
        strategy: a ``tf.distribute`` strategy; every replica counts its share of
            each batch and the counts are summed, which equals a one-device pass.

    Returns:
        Statistics of every neuron layer, in network order.
    """
    from snn_core.conversion import neuron_layer_names, prepare_for_conversion

    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        spiking_topology = prepare_for_conversion(model, plugins)
    names = neuron_layer_names(spiking_topology)
    if not names:
        raise SnnError(f"model {model.name!r} has no ReLU-like activations, so it has no neuron layers to normalize")
    probe = keras.Model(spiking_topology.inputs, [spiking_topology.get_layer(name).output for name in names])

    def batch_statistics(images, labels):
        outputs = probe(images, training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        results = []
        for output in outputs:
            counts, nonpositive = histogram_counts(output)
            channel_max = tf.reduce_max(output, axis=list(range(len(output.shape) - 1)))
            result = {
                "histogram": counts,
                "nonpositive": nonpositive,
                "max": tf.reduce_max(channel_max),
                "channel_max": channel_max,
            }
            if channel_histograms:
                result["channel_histogram"] = channel_histogram_counts(output)
            results.append(result)
        return results

    # Counts add and maxima take the maximum, across batches and replicas alike,
    # so a distributed pass equals a one-device pass exactly.
    reduction = {"histogram": SUM, "nonpositive": SUM, "max": MAX, "channel_max": MAX}
    if channel_histograms:
        reduction["channel_histogram"] = SUM
    totals, _ = reduce_over_dataset(dataset, batch_statistics, [dict(reduction) for _ in names], strategy, progress)

    layers = {
        name: LayerStatistics(
            histogram=result["histogram"].astype(np.int64),
            nonpositive=int(result["nonpositive"]),
            max=float(result["max"]),
            channel_max=result["channel_max"].astype(np.float64),
            channel_histogram=result["channel_histogram"].astype(np.int64) if channel_histograms else None,
        )
        for name, result in zip(names, totals, strict=True)
    }
    return ActivationStatistics(layers)


