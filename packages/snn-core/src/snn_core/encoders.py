r"""Input encoders: how an image becomes the input of each time step.

Encoders work on the image in the dataset's raw pixel units (0..255 for 8-bit
images, see :class:`~snn_core.datasets.DatasetSpec`), before the model's own
preprocessing layers. The spiking network applies those layers (``Rescaling``,
``Normalization``, all affine) to every step's input, so it sees the ANN's scale
in the mean.

``analog``
    The image itself at every step, a constant input current (Rueckauer et al.,
    "Conversion of continuous-valued deep networks to efficient event-driven
    networks", Frontiers in Neuroscience 2017).
``poisson``
    Each pixel spikes at step :math:`t` with probability :math:`p = x / 255`,
    clipped to [0, 1]. A spike has the amplitude 255, so its expected value is the
    pixel :math:`x`. The random numbers of an image depend only on the seed, the
    step and the image's position in the run (see :func:`image_uniform`), so the
    same seed gives the same spike trains whatever the batch size, the chunk size
    or the number of replicas. The simulator compiled with XLA
    (``jit_compile=True``) drew other numbers than without it in a check on CPU,
    so runs reproduce only with the same compilation setting.
``rate``
    A regular spike train with the same rate: the pixel spikes at step :math:`t`
    when :math:`\lfloor (t + 1) p \rfloor > \lfloor t p \rfloor`, so after
    :math:`T` steps it has sent exactly :math:`\lfloor T p \rfloor` spikes.

Pixels outside [0, 255] are clipped by the two rate encoders; a dataset whose raw
range is not 0..255 needs its own encoder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tensorflow as tf

PIXEL_MAX = 255.0
"""Raw value that maps to a rate of one spike per step (the 8-bit pixel maximum)."""

PHILOX = 1
"""The ``alg`` value that selects Philox in TensorFlow's stateless random operations."""


@dataclass(frozen=True)
class InputEncoder:
    """An encoder contributed through the ``snn_input_encoders`` hook.

    Attributes:
        name: registry key, as typed after ``--encoder``.
        encode: ``encode(inputs, step, seed) -> tensor`` with the shape of ``inputs``:
            the input layer's value at time step ``step`` (int32 scalar tensor,
            counted from 0) for a batch of images in the model's raw input units.
        constant: whether ``encode`` returns the same value at every step. The
            simulator then computes the layers that see only the input once, not
            once per step.
        summary: one line for ``snn plugins`` and help texts.
        spikes: whether ``encode`` returns spikes (each value 0 or one amplitude).
            The layers that receive spikes are charged accumulate operations per
            spike; layers that receive a non-spiking input are charged
            multiply-accumulates every step (see :mod:`snn_core.metrics`).
        indexed: whether ``encode`` takes a fourth argument, ``first_index``: the
            position of ``inputs[0]`` among the images of the run, counted from 0
            (int32 scalar tensor). The images of one call are consecutive. An
            encoder that draws random numbers per position, as
            :func:`image_uniform` does, gives every image the same input however
            the run is batched.
    """

    name: str
    encode: Callable[..., tf.Tensor]
    constant: bool = False
    summary: str = ""
    spikes: bool = False
    indexed: bool = False


def spike_probability(inputs: tf.Tensor) -> tf.Tensor:
    """Return the per-step spike probability of raw pixels: ``inputs / 255`` clipped to [0, 1]."""
    return tf.clip_by_value(inputs / PIXEL_MAX, 0.0, 1.0)


def _analog(inputs: tf.Tensor, step: tf.Tensor, seed: int) -> tf.Tensor:
    return inputs


def image_uniform(shape: tf.Tensor, seed: int, step: tf.Tensor, first_index: tf.Tensor) -> tf.Tensor:
    """Return float32 numbers uniform in [0, 1) of ``shape`` (images first), image ``i`` drawn from ``(seed, step, first_index + i)``.

    The generator is Philox (Salmon et al., "Parallel random numbers: as easy as
    1, 2, 3", SC 2011), which turns every value of a counter into four random
    32-bit words. The key comes from ``(seed, step)``. Each image position owns
    a run of counter values, so an image receives the same numbers whether it is
    drawn alone or with others.
    """
    key, counter = tf.raw_ops.StatelessRandomGetKeyCounter(
        seed=tf.stack([tf.cast(seed, tf.int32), tf.cast(step, tf.int32)])
    )
    values = tf.reduce_prod(shape[1:])
    counters_per_image = (values + 3) // 4

    offset = tf.cast(first_index, tf.uint64) * tf.cast(counters_per_image, tf.uint64)
    counter = counter + tf.stack([offset, tf.constant(0, tf.uint64)])
    words = tf.raw_ops.StatelessRandomUniformV2(
        shape=tf.stack([shape[0], 4 * counters_per_image]), key=key, counter=counter, alg=PHILOX
    )
    return tf.reshape(words[:, :values], shape)


def _poisson(inputs: tf.Tensor, step: tf.Tensor, seed: int, first_index: tf.Tensor) -> tf.Tensor:
    probability = spike_probability(inputs)
    uniform = tf.cast(image_uniform(tf.shape(inputs), seed, step, first_index), inputs.dtype)

    spikes = tf.cast(uniform < probability, inputs.dtype)
    return spikes * PIXEL_MAX


def _regular(inputs: tf.Tensor, step: tf.Tensor, seed: int) -> tf.Tensor:
    probability = spike_probability(inputs)
    t = tf.cast(step, inputs.dtype)

    spikes = tf.floor((t + 1.0) * probability) - tf.floor(t * probability)
    return spikes * PIXEL_MAX


ANALOG = InputEncoder(
    name="analog",
    encode=_analog,
    constant=True,
    summary="the image itself as a constant input current (Rueckauer et al. 2017)",
)

POISSON = InputEncoder(
    name="poisson",
    encode=_poisson,
    summary="Poisson spike trains, rate pixel/255, reproducible from --seed",
    spikes=True,
    indexed=True,
)

REGULAR = InputEncoder(
    name="rate",
    encode=_regular,
    summary="regular spike trains, rate pixel/255, floor(T * rate) spikes after T steps",
    spikes=True,
)

BUILTIN_INPUT_ENCODERS = (ANALOG, POISSON, REGULAR)
