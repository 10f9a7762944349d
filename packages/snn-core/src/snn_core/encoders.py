"""Input encoders: how an image becomes the input of each time step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tensorflow as tf


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
    """

    name: str
    encode: Callable[[tf.Tensor, tf.Tensor, int], tf.Tensor]
    constant: bool = False
    summary: str = ""


def _analog(inputs: tf.Tensor, step: tf.Tensor, seed: int) -> tf.Tensor:
    return inputs


ANALOG = InputEncoder(
    name="analog",
    encode=_analog,
    constant=True,
    summary="the image itself as a constant input current (Rueckauer et al. 2017)",
)
