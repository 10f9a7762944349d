"""Weight-normalization methods and how they are looked up by name.

Normalization picks, for every neuron layer, the activation value ``lambda`` that
maps to the maximum firing rate (one spike per time step). The converter uses
``lambda`` as the layer's firing threshold and as the amplitude of its spikes, which
is equivalent to the weight normalization of Diehl et al. (2015), where the
weights into layer ``l`` are multiplied by ``lambda_(l-1) / lambda_l`` and the
threshold is 1, but keeps residual branches with different scales consistent.

Most methods need only the activation statistics of the fused model. A method
that sets ``needs_simulation`` (threshold balancing, for example) also receives a
:class:`NormalizationContext` with the spiking topology, the neuron model and a
sample of training images, so that it can run the spiking network itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from snn_core.errors import SnnError, UnknownNameError
from snn_core.plugins import Plugins, get_plugins

if TYPE_CHECKING:
    from snn_core.statistics import ActivationStatistics

ScaleFunction = Callable[..., Mapping[str, np.ndarray]]

_NAME_WITH_ARGUMENT = re.compile(r"^(?P<base>[A-Za-z_-]*[A-Za-z_])(?P<argument>\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class NormalizationContext:
    """Inputs, beyond the statistics, of a method that runs the spiking network.

    Attributes:
        topology: the spiking topology of the fused model (see
            :func:`~snn_core.conversion.prepare_for_conversion`): affine layers with
            the fused weights and one ``ReLU`` layer per neuron layer.
        neuron_layers: names of the neuron layers, in network order.
        neuron_model: the neuron model the converted network will use.
        neuron_parameters: its parameters; ``v_threshold`` is what the method sets.
        images: float32 ``[N, ...]`` training images in the model's input units.
        timesteps: number of time steps to simulate.
    """

    topology: Any
    neuron_layers: list[str]
    neuron_model: Any
    neuron_parameters: Any
    images: np.ndarray
    timesteps: int


@dataclass(frozen=True)
class NormalizationMethod:
    """A way to compute per-layer (or per-channel) scales from activation statistics.

    Attributes:
        name: registry key (``"max"``, or ``"p"`` for a method that takes a number).
        compute_scales: ``compute_scales(stats, argument)`` returns a mapping from
            neuron-layer name to a positive float32 array: shape ``()`` for one scale
            per layer, ``(channels,)`` for one per channel. ``argument`` is the number
            that followed the name (``99.9`` for ``p99.9``) or ``None``. A method
            with ``needs_simulation`` is called as ``compute_scales(stats, argument,
            context)`` with a :class:`NormalizationContext`.
        accepts_argument: whether the name may be followed by a number.
        argument_range: ``(low, high)``: the number must satisfy
            ``low < number <= high``; checked when the name is resolved, before
            any work. ``None`` accepts any number.
        default_argument: the number used when a method that accepts one is named
            without it.
        needs_simulation: whether the method runs the spiking network on training
            images, so that the converter must pass a :class:`NormalizationContext`.
        needs_channel_histograms: whether the statistics must hold per-channel
            histograms (see ``collect_activation_stats(channel_histograms=True)``).
        summary: one line for ``snn plugins`` and help texts.
        citation: the paper the method comes from.
    """

    name: str
    compute_scales: ScaleFunction
    accepts_argument: bool = False
    argument_range: tuple[float, float] | None = None
    default_argument: float | None = None
    needs_simulation: bool = False
    needs_channel_histograms: bool = False
    summary: str = ""
    citation: str = ""


@dataclass(frozen=True)
class Normalizer:
    """A method together with the argument it was named with (``p`` and 99.9)."""

    method: NormalizationMethod
    argument: float | None
    spec: str

    def scales(self, stats: ActivationStatistics, context: NormalizationContext | None = None) -> dict[str, np.ndarray]:
        """Compute the scale of every neuron layer in ``stats``.

        Raises:
            SnnError: the method needs a simulation pass and ``context`` is
                ``None``, needs per-channel histograms that ``stats`` lacks, or
                returned a scale of more than one dimension.
        """
        if self.method.needs_channel_histograms and not stats.has_channel_histograms:
            raise SnnError(
                f"normalization {self.spec!r} needs per-channel histograms, which these activation statistics "
                "lack; collect them again with `snn stats` (without --no-channel-histograms)"
            )
        if self.method.needs_simulation:
            if context is None:
                raise SnnError(
                    f"normalization {self.spec!r} runs the spiking network on training images; "
                    "pass calibration images to convert()"
                )
            computed = self.method.compute_scales(stats, self.argument, context)
        else:
            computed = self.method.compute_scales(stats, self.argument)

        scales = {}
        for layer, scale in computed.items():
            scale = np.asarray(scale, dtype=np.float32)
            if scale.ndim > 1:
                raise SnnError(
                    f"normalization {self.spec!r} returned a scale of shape {scale.shape} for layer {layer!r}; "
                    "a scale is a scalar or one value per channel"
                )
            if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
                # A layer that never activates on the statistics data has no scale;
                # 1.0 leaves its (silent) neurons at the ANN's own units.
                scale = np.where(np.isfinite(scale) & (scale > 0), scale, np.float32(1.0))
            scales[layer] = scale
        return scales


def resolve_normalizer(spec: str, plugins: Plugins | None = None) -> Normalizer:
    """Find the method named by ``spec`` (``"max"``, ``"p99.99"``).

    Raises:
        UnknownNameError: no method matches; the message lists the valid names.
        SnnError: the method takes no number but one was given.
    """
    registry = (plugins or get_plugins()).normalizers

    if spec in registry:
        method = registry.get(spec)
        return Normalizer(method, method.default_argument if method.accepts_argument else None, spec)

    match = _NAME_WITH_ARGUMENT.match(spec)
    if match is None or match["base"] not in registry:
        raise UnknownNameError(_unknown_message(spec, registry))

    method = registry.get(match["base"])
    if not method.accepts_argument:
        raise SnnError(f"normalization method {method.name!r} takes no number, got {spec!r}; use {method.name!r}")
    argument = float(match["argument"])
    if method.argument_range is not None:
        low, high = method.argument_range
        if not low < argument <= high:
            example = f"{method.name}{method.default_argument:g}" if method.default_argument is not None else method.name
            raise SnnError(
                f"normalization method {method.name!r} needs a number in ({low:g}, {high:g}], got {spec!r}; "
                f"for example {example}"
            )
    return Normalizer(method, argument, spec)


def _unknown_message(spec: str, registry) -> str:
    names = [
        f"{entry.name}<number>" if entry.value.accepts_argument else entry.name
        for entry in registry.entries()
    ]
    return f"unknown --norm value {spec!r}; valid normalization methods: {', '.join(names)}"
