"""snn-cli: the ``snn`` command."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("snn-cli")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
