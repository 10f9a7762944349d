"""Running pipeline steps under a ``tf.distribute`` strategy.

The steps that read a whole dataset (evaluation, activation statistics,
simulation) are data parallel: every replica processes its share of each global
batch, and the per-replica results are combined exactly (counts by summing,
maxima by taking the maximum), so the result equals a one-device pass. TensorFlow's
strategies do the distribution; this module only names them and reduces results.

Strategies, by name:

``default``
    One device: the first GPU when TensorFlow sees one, else the CPU.
``mirrored``
    ``tf.distribute.MirroredStrategy`` over all local GPUs, or over N logical CPU
    devices when there is no GPU (see :func:`configure_logical_cpus`; for testing).
``multi-worker``
    ``tf.distribute.MultiWorkerMirroredStrategy`` over the hosts described by the
    ``TF_CONFIG`` environment variable.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from snn_core.errors import SnnError

STRATEGIES = ("default", "mirrored", "multi-worker")

SUM = "sum"
MAX = "max"


def configure_logical_cpus(count: int) -> None:
    """Split the CPU into ``count`` logical devices, so ``mirrored`` can run without GPUs.

    Must be called before TensorFlow initializes its devices (before the first
    operation runs).
    """
    if count < 1:
        raise SnnError(f"the number of logical CPU devices must be at least 1, got {count}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:
        current = len(tf.config.list_logical_devices("CPU"))
        if current != count:
            raise SnnError(
                f"cannot split the CPU into {count} logical devices after TensorFlow has started "
                f"(it has {current}); configure them at the start of the program"
            ) from None


_strategies: dict[str, tf.distribute.Strategy] = {}


def make_strategy(name: str = "default") -> tf.distribute.Strategy:
    """Return the strategy called ``name`` (one of :data:`STRATEGIES`).

    The first call for a name creates the strategy and later calls return the same
    object: two live instances of a collective strategy in one process reuse
    collective keys and abort each other's operations.

    Raises:
        SnnError: unknown name, or ``multi-worker`` without a valid ``TF_CONFIG``.
    """
    if name == "default":
        return tf.distribute.get_strategy()

    if name not in STRATEGIES:
        raise SnnError(f"unknown --strategy value {name!r}; valid strategies: {', '.join(STRATEGIES)}")
    if name not in _strategies:
        _strategies[name] = _create_strategy(name)
    return _strategies[name]


def _create_strategy(name: str) -> tf.distribute.Strategy:
    if name == "mirrored":
        if tf.config.list_logical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        devices = [device.name for device in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)

    _check_tf_config()
    return tf.distribute.MultiWorkerMirroredStrategy()


def _check_tf_config() -> None:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise SnnError(
            "the multi-worker strategy needs the TF_CONFIG environment variable, describing the cluster "
            'and this task, e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}'
        )
    try:
        config = json.loads(raw)
        config["cluster"]["worker"]
        config["task"]["index"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise SnnError(f"TF_CONFIG is not valid: {raw!r}; it needs 'cluster' with a 'worker' list and 'task' with 'type' and 'index'") from None


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """Return whether this process writes artifacts: always, except on non-chief workers of a multi-worker run."""
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def replicas(strategy: tf.distribute.Strategy | None = None) -> int:
    """Return the number of replicas that process a global batch."""
    return (strategy or tf.distribute.get_strategy()).num_replicas_in_sync


def reduce_over_dataset(
    dataset: tf.data.Dataset,
    batch_function: Callable[..., Any],
    reductions: Any,
    strategy: tf.distribute.Strategy | None = None,
    progress: Callable[[int], None] | None = None,
) -> Any:
    """Apply ``batch_function`` to every batch on every replica and combine the results.

    Args:
        dataset: batched ``(images, labels)``, or tuples with more per-image
            tensors after those two; each global batch is split across replicas.
        batch_function: ``batch_function(images, labels, ...)``, called with the
            components of one element, returns a nest of tensors
            computed on one replica's share of a batch. It is traced once per input
            shape; it must handle an empty share (a small last batch).
        reductions: a nest of the same structure naming how each result combines
            across replicas and batches: :data:`SUM` or :data:`MAX`.
        progress: optional ``progress(images_done)`` after every global batch.

    Returns:
        ``(results, images)``: the combined results as numpy values in the structure
        of ``reductions``, and the number of images processed.
    """
    strategy = strategy or tf.distribute.get_strategy()
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    distributed = strategy.experimental_distribute_dataset(dataset.with_options(options))


    def replica_batch(*element):
        # A global batch smaller than the number of replicas leaves some replicas an
        # empty share, which convolutions reject. Those replicas process one zero
        # image and contribute the neutral element of each reduction instead.
        def placeholder():
            dummies = [tf.zeros(tf.concat([[1], tf.shape(part)[1:]], axis=0), part.dtype) for part in element]
            results = batch_function(*dummies)
            return tf.nest.map_structure(_neutral, reductions, results)

        if strategy.num_replicas_in_sync == 1:
            return batch_function(*element)
        return tf.cond(tf.shape(element[0])[0] > 0, lambda: batch_function(*element), placeholder)

    @tf.function
    def global_batch(*element):
        images = element[0]
        per_replica = strategy.run(replica_batch, args=element)
        reduced = tf.nest.map_structure(lambda reduction, value: _across_replicas(strategy, reduction, value), reductions, per_replica)
        count = strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(_batch_size, args=(images,)), axis=None)
        return reduced, count

    total = None
    seen = 0
    for element in distributed:
        values, count = global_batch(*element)
        values = tf.nest.map_structure(_widened, values)
        if total is None:
            total = values
        else:
            total = tf.nest.map_structure(_combine, reductions, total, values)
        seen += int(count)
        if progress is not None:
            progress(seen)

    if total is None:
        raise SnnError("the dataset is empty")
    return total, seen


def _across_replicas(strategy: tf.distribute.Strategy, reduction: str, value) -> tf.Tensor:
    if reduction == SUM:
        return strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
    # ReduceOp has no maximum, so every replica's value is gathered along a new
    # leading axis (an all-gather across workers) and reduced here.
    gathered = strategy.gather(strategy.run(lambda local: tf.expand_dims(local, 0), args=(value,)), axis=0)
    return tf.reduce_max(gathered, axis=0)


def _neutral(reduction: str, value: tf.Tensor) -> tf.Tensor:
    if reduction == SUM:
        return tf.zeros_like(value)
    lowest = value.dtype.min if value.dtype.is_integer else float("-inf")
    return tf.fill(tf.shape(value), tf.constant(lowest, value.dtype))


def _batch_size(images: tf.Tensor) -> tf.Tensor:
    return tf.shape(images, out_type=tf.int64)[0]


def _widened(value: tf.Tensor) -> np.ndarray:
    # Per-batch counts may be int32; totals over a dataset need 64 bits.
    array = value.numpy()
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.int64)
    return array.astype(np.float64)


def _combine(reduction: str, total: np.ndarray, value: np.ndarray) -> np.ndarray:
    return total + value if reduction == SUM else np.maximum(total, value)
