"""Contract checks for plugin authors, usable from any test suite.

Each ``check_*`` function exercises one contribution the way the converter and the
simulator will, and raises ``AssertionError`` with the broken rule named::

    from snn_core.testing import check_neuron_model
    from my_plugin import MY_NEURON

    def test_my_neuron_meets_contract():
        check_neuron_model(MY_NEURON)

Installed with snn-core, this module is also a pytest plugin (entry point
``pytest11``). It provides the fixture ``snn_plugins``: a fresh
:class:`~snn_core.plugins.Plugins` with every installed plugin loaded, set as the
process-wide instance for the duration of one test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

CONTRACT_CURRENTS = (-0.5, 0.0, 0.125, 0.25, 0.5, 1.0, 2.0)
"""Constant input currents of the rate check, in units of the threshold.

Apart from 0 and the two beyond [0, 1], they are 1/k for integer k, where reset to
zero is exact too (it loses the surplus above the threshold for other currents).
"""

CONTRACT_THRESHOLDS = (0.5, 1.0, 2.0)
"""Per-channel thresholds of the check, which also covers broadcasting over the last axis."""


def check_neuron_model(
    model: Any,
    parameters: Any = None,
    *,
    timesteps: int = 200,
    rate_tolerance: float = 0.03,
    expected_rate: Callable[[np.ndarray], np.ndarray] | None = None,
) -> None:
    """Check that a :class:`~snn_core.neurons.NeuronModel` meets the simulator's contract.

    The rules:

    - ``step`` traces inside ``tf.function`` and ``tf.while_loop``.
    - ``step`` is pure: the same arguments give the same result, eager or traced.
    - Spikes are 0 or 1, or -1, 0 or 1 for a model declared ``signed``.
    - The state keeps its structure, shapes and dtypes.
    - With a constant current ``I`` (in units of the threshold), the firing rate
      over ``timesteps`` steps is within ``rate_tolerance + 1 / timesteps`` of
      ``expected_rate(I)``, by default ``I`` clipped to [0, 1].
    - Where the model has a ``fused_update`` and it is available here, its
      outputs and states equal ``step``'s spikes times the threshold and
      ``step``'s states bit for bit over ``timesteps`` steps, with scalar and
      per-channel thresholds, on image-shaped currents that are random or reach
      the threshold exactly.

    Thresholds are per channel (:data:`CONTRACT_THRESHOLDS`).

    Args:
        model: the neuron model.
        parameters: parameters to check instead of the model's defaults;
            ``v_threshold`` is replaced by the per-channel thresholds.
        timesteps: steps of the rate check.
        rate_tolerance: allowed rate error on top of ``1 / timesteps``.
        expected_rate: the limit rate of a constant current, elementwise.

    Raises:
        AssertionError: a rule is broken; the message names it and the model.
    """
    import tensorflow as tf

    name = getattr(model, "name", repr(model))
    thresholds = np.asarray(CONTRACT_THRESHOLDS, np.float32)
    parameters = dataclasses.replace(parameters or model.parameters, v_threshold=thresholds)
    ratios = np.asarray(CONTRACT_CURRENTS, np.float32)[:, None] * np.ones_like(thresholds)
    currents = tf.constant(ratios * thresholds)
    shape = tf.TensorShape(currents.shape)

    state = model.initial_state(shape, parameters)
    spikes, new_state = model.step(currents, state, parameters)
    _check_state(name, state, new_state)
    again, _ = model.step(currents, state, parameters)
    assert np.array_equal(spikes.numpy(), again.numpy()), f"neuron model {name!r}: step is not pure, two calls differ"

    traced_step = tf.function(lambda current, state: model.step(current, state, parameters))
    traced_spikes, traced_state = traced_step(currents, state)
    assert np.array_equal(spikes.numpy(), traced_spikes.numpy()), (
        f"neuron model {name!r}: step gives other spikes under tf.function than eagerly"
    )
    _check_state(name, state, traced_state)

    @tf.function
    def count_spikes(current):
        def body(t, state, count, allowed):
            spikes, state = model.step(current, state, parameters)
            values = {-1.0, 0.0, 1.0} if model.signed else {0.0, 1.0}
            is_allowed = tf.reduce_any(tf.stack([tf.equal(spikes, value) for value in sorted(values)]), axis=0)
            return t + 1, state, count + spikes, tf.logical_and(allowed, tf.reduce_all(is_allowed))

        initial = (tf.constant(0), model.initial_state(shape, parameters), tf.zeros(shape), tf.constant(True))
        _, _, count, allowed = tf.while_loop(lambda t, *_: t < timesteps, body, initial)
        return count, allowed

    count, allowed = count_spikes(currents)
    kinds = "-1, 0 or 1" if model.signed else "0 or 1"
    assert bool(allowed), f"neuron model {name!r}: spikes must be {kinds} (signed={model.signed})"

    rates = count.numpy() / timesteps
    expected = (expected_rate or (lambda ratio: np.clip(ratio, 0.0, 1.0)))(ratios)
    error = np.abs(rates - expected)
    worst = np.unravel_index(np.argmax(error), error.shape)
    assert error[worst] <= rate_tolerance + 1.0 / timesteps, (
        f"neuron model {name!r}: for a constant current of {ratios[worst]:g} times the threshold "
        f"{thresholds[worst[1]]:g}, the rate after {timesteps} steps is {rates[worst]:.4f}, "
        f"expected {expected[worst]:.4f} within {rate_tolerance + 1.0 / timesteps:.4f}"
    )

    if getattr(model, "fused_update", None) is not None:
        _check_fused_update(model, parameters, timesteps)


def _check_fused_update(model: Any, parameters: Any, timesteps: int) -> None:
    """Check that ``model.fused_update`` repeats ``step`` times the threshold exactly.

    It runs with per-channel thresholds (those of ``parameters``) and with a
    scalar one, on ``[batch, height, width, channels]`` currents. Half the
    currents are random, of both signs. The other half are a quarter of the
    threshold, so that potentials reach the threshold exactly, where ``>=`` and
    ``>`` differ.
    """
    import tensorflow as tf

    name = getattr(model, "name", repr(model))
    channel_thresholds = np.asarray(parameters.v_threshold, np.float32)
    rng = np.random.default_rng(0)
    for thresholds in (channel_thresholds, np.float32(0.75)):
        case_parameters = dataclasses.replace(parameters, v_threshold=thresholds)
        shape = (2, 3, 4, channel_thresholds.size)
        exact = np.broadcast_to(np.float32(0.25) * thresholds, shape)
        kind = "scalar" if np.ndim(thresholds) == 0 else "per-channel"
        try:
            update = model.fused_update(case_parameters)
        except Exception as error:
            raise AssertionError(
                f"neuron model {name!r}: fused_update failed with a {kind} threshold: {_first_line(error)}"
            ) from error
        if update is None:
            return

        both_steps = tf.function(_both_steps(model, case_parameters, update))
        reference = fused = model.initial_state(tf.TensorShape(shape), case_parameters)
        for t in range(timesteps):
            random = rng.normal(0.3, 0.8, shape).astype(np.float32) * thresholds
            current = tf.constant(np.where(np.arange(shape[0]).reshape(-1, 1, 1, 1) == 0, random, exact))
            try:
                expected, reference, outputs, fused = both_steps(current, reference, fused)
            except Exception as error:
                raise AssertionError(
                    f"neuron model {name!r}: the update from fused_update failed with a {kind} threshold "
                    f"on currents of shape {shape}: {_first_line(error)}"
                ) from error

            assert tuple(outputs.shape) == shape, (
                f"neuron model {name!r}: fused_update returned outputs of shape {tuple(outputs.shape)} for currents of shape {shape}"
            )
            differences = np.abs(outputs.numpy() - expected.numpy())
            assert not differences.any(), (
                f"neuron model {name!r}: fused_update outputs differ from step's spikes times the {kind} threshold "
                f"at step {t + 1} (largest difference {differences.max():g}, {int((differences > 0).sum())} elements)"
            )
            _check_state(name, reference, fused)
            for reference_tensor, fused_tensor in zip(tf.nest.flatten(reference), tf.nest.flatten(fused), strict=True):
                difference = np.abs(reference_tensor.numpy() - fused_tensor.numpy()).max()
                assert difference == 0, (
                    f"neuron model {name!r}: fused_update's state differs from step's with a {kind} threshold "
                    f"at step {t + 1} (largest difference {difference:g})"
                )


def _first_line(error: Exception) -> str:
    """Return the type and the first line of ``error``'s message. TensorFlow's messages span many lines."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _both_steps(model: Any, parameters: Any, update: Callable) -> Callable:
    """Return a function that advances a reference state with ``step`` and a fused one with ``update``."""

    def both_steps(current, reference, fused):
        spikes, reference = model.step(current, reference, parameters)
        outputs, fused = update(current, fused)
        return spikes * parameters.v_threshold, reference, outputs, fused

    return both_steps


def _check_state(name: str, before: Any, after: Any) -> None:
    import tensorflow as tf

    try:
        tf.nest.assert_same_structure(before, after)
    except (TypeError, ValueError) as error:
        raise AssertionError(f"neuron model {name!r}: step changed the structure of the state ({error})") from None
    for old, new in zip(tf.nest.flatten(before), tf.nest.flatten(after), strict=True):
        assert tuple(old.shape) == tuple(new.shape), (
            f"neuron model {name!r}: step changed a state tensor's shape from {tuple(old.shape)} to {tuple(new.shape)}"
        )
        assert old.dtype == new.dtype, f"neuron model {name!r}: step changed a state tensor's dtype from {old.dtype} to {new.dtype}"


def check_input_encoder(encoder: Any, *, timesteps: int = 1000, tolerance: float = 0.07) -> None:
    """Check that an :class:`~snn_core.encoders.InputEncoder` meets the simulator's contract.

    The rules:

    - ``encode`` keeps the input's shape and dtype.
    - The same step and seed give the same values, eager or under ``tf.function``.
    - A ``constant`` encoder gives the same value at every step.
    - A ``spikes`` encoder gives each pixel 0 and at most one other value.
    - The mean over ``timesteps`` steps is within ``tolerance`` (relative to 255)
      of the pixel values 0..255. The default 0.07 is over four standard
      deviations of a Poisson rate of 0.5 measured over 1000 steps.
    - An ``indexed`` encoder gives an image the same values alone as beside a
      different image: besides the image, only its position in the run counts.
    """
    import tensorflow as tf

    name = getattr(encoder, "name", repr(encoder))
    pixels = tf.constant(np.linspace(0.0, 255.0, 12, dtype=np.float32).reshape(1, 3, 4, 1))
    indexed = getattr(encoder, "indexed", False)

    def encode(inputs, step, first_index=0):
        if indexed:
            return encoder.encode(inputs, step, 7, tf.constant(first_index))
        return encoder.encode(inputs, step, 7)

    first = encode(pixels, tf.constant(3))
    assert tuple(first.shape) == tuple(pixels.shape), f"input encoder {name!r}: output shape {tuple(first.shape)} differs from the input's"
    assert first.dtype == pixels.dtype, f"input encoder {name!r}: output dtype {first.dtype} differs from the input's"
    again = encode(pixels, tf.constant(3))
    assert np.array_equal(first.numpy(), again.numpy()), f"input encoder {name!r}: the same step and seed gave different values"
    traced = tf.function(lambda inputs, step: encode(inputs, step))(pixels, tf.constant(3))
    assert np.array_equal(first.numpy(), traced.numpy()), f"input encoder {name!r}: tf.function gives other values than eager"

    if indexed:
        # The second image is darker, so that statistics over the batch change too.
        images = [pixels, pixels / 4.0]
        pair = encode(tf.concat(images, axis=0), tf.constant(3), 4).numpy()
        alone = [encode(image, tf.constant(3), position).numpy()[0] for image, position in zip(images, (4, 5), strict=True)]
        assert np.array_equal(pair, np.stack(alone)), (
            f"input encoder {name!r}: declared indexed but an image's values depend on the images beside it"
        )

    steps = np.stack([encode(pixels, tf.constant(t)).numpy() for t in range(timesteps)])
    if encoder.constant:
        assert np.all(steps == steps[:1]), f"input encoder {name!r}: declared constant but changes between steps"
    if getattr(encoder, "spikes", False):
        for index in np.ndindex(*pixels.shape.as_list()):
            values = np.unique(steps[(slice(None), *index)])
            assert values.size == 1 or (values.size == 2 and 0.0 in values), (
                f"input encoder {name!r}: declared spikes but pixel {index} takes the values {values[:5]}"
            )
    error = np.max(np.abs(steps.mean(axis=0) - pixels.numpy())) / 255.0
    assert error <= tolerance, f"input encoder {name!r}: mean over {timesteps} steps is off by {error:.3f} of 255"


def check_normalization_method(
    method: Any, stats: Any, argument: float | None = None, context: Any = None
) -> dict[str, np.ndarray]:
    """Check a :class:`~snn_core.normalization.NormalizationMethod` on activation statistics and return its scales.

    The rules: one scale per layer of ``stats``, each finite and positive, of shape
    ``()`` or ``(channels,)``. A method with ``needs_simulation`` also needs a
    :class:`~snn_core.normalization.NormalizationContext` as ``context``.
    """
    name = getattr(method, "name", repr(method))
    if getattr(method, "needs_simulation", False):
        assert context is not None, f"normalization method {name!r} runs the spiking network: pass a context"
        scales = dict(method.compute_scales(stats, argument, context))
    else:
        scales = dict(method.compute_scales(stats, argument))
    assert set(scales) == set(stats.layers), (
        f"normalization method {name!r}: scales for {sorted(scales)}, expected {sorted(stats.layers)}"
    )
    for layer, scale in scales.items():
        scale = np.asarray(scale)
        assert np.all(np.isfinite(scale)), f"normalization method {name!r}: layer {layer!r} scale {scale} is not finite"
        assert np.all(scale > 0), f"normalization method {name!r}: layer {layer!r} scale {scale} is not positive"
        channel_max = stats.layers[layer].channel_max
        allowed = {()} | ({(len(channel_max),)} if channel_max is not None else set())
        assert scale.shape in allowed, f"normalization method {name!r}: layer {layer!r} scale has shape {scale.shape}, expected one of {allowed}"
    return scales


@pytest.fixture
def snn_plugins():
    """Provide a fresh plugin manager with every installed plugin, set process-wide for one test."""
    from snn_core.plugins import Plugins, set_plugins

    plugins = Plugins()
    previous = set_plugins(plugins)
    yield plugins
    set_plugins(previous)
