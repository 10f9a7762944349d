"""Exception types for mistakes a user can fix.

Every error raised for bad input derives from :class:`SnnError`. Its message is one
line that says what was wrong, the offending value, and what to do next; the CLI
prints it to stderr and exits non-zero without a traceback.
"""

from __future__ import annotations


class SnnError(Exception):
    """Base class for errors caused by user input rather than by a bug."""


class UnknownNameError(SnnError, KeyError):
    """A name was looked up in a registry that does not contain it."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message.
        return str(self.args[0])


class DuplicateNameError(SnnError):
    """Two plugins registered the same name in one registry."""


class UnsupportedLayerError(SnnError):
    """A model contains layers that rate-coded spiking neurons cannot represent."""

    def __init__(self, message: str, layers: list[tuple[str, str]]):
        super().__init__(message)
        self.layers = layers
        """(layer name, layer type) of every offending layer."""


class ArtifactError(SnnError):
    """An artifact on disk is missing, unreadable or of an unknown format."""


class DatasetNotAvailableError(SnnError):
    """A dataset is registered but its data is not on disk and cannot be downloaded."""


class FusionMismatchError(SnnError):
    """The fused model's outputs differ from the original's beyond the tolerance."""
