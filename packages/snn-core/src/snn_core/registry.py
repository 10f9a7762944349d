"""Name-keyed registries of plugin contributions.

Every hook in :mod:`snn_core.hookspecs` contributes objects that carry a ``name``.
The plugin manager collects them into one :class:`Registry` per hook, remembering
which plugin contributed each name, so that a clash and an unknown name can both be
reported precisely.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from snn_core.errors import DuplicateNameError, UnknownNameError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered contribution and the plugin it came from."""

    name: str
    value: T
    plugin: str


class Registry(Generic[T]):
    """Contributions of one kind (for example neuron models), keyed by name.

    Args:
        kind: what the registry holds, in the plural, as used in messages
            (``"neuron models"``).
        option: the command-line option that selects an entry, named in the
            message for an unknown name (``"--neuron"``), or ``None``.
    """

    def __init__(self, kind: str, option: str | None = None):
        self.kind = kind
        self.option = option
        self._entries: dict[str, Entry[T]] = {}

    def add(self, name: str, value: T, plugin: str) -> None:
        """Register ``value`` under ``name``; raise if another plugin has that name."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"plugin {plugin!r} registered one of its {self.kind} with an empty or non-string name {name!r}")

        existing = self._entries.get(name)
        if existing is not None:
            raise DuplicateNameError(
                f"{self.kind} name {name!r} is registered by two plugins, {existing.plugin!r} and "
                f"{plugin!r}; uninstall one of them or disable it with SNN_DISABLE_PLUGINS"
            )
        self._entries[name] = Entry(name, value, plugin)

    def get(self, name: str) -> T:
        """Return the entry registered under ``name``.

        Raises:
            UnknownNameError: no plugin registered ``name``; the message lists the
                valid names, taken from the registry itself.
        """
        try:
            return self._entries[name].value
        except KeyError:
            raise UnknownNameError(self._unknown_message(name)) from None

    def plugin_of(self, name: str) -> str:
        """Return the name of the plugin that registered ``name``."""
        self.get(name)
        return self._entries[name].plugin

    def _unknown_message(self, name: str) -> str:
        valid = sorted(self._entries)
        what = f"{self.option} value" if self.option else f"name among the {self.kind}"
        message = f"unknown {what} {name!r}"
        close = difflib.get_close_matches(name, valid, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        if valid:
            message += f"; valid {self.kind}: {', '.join(valid)}"
        else:
            message += f"; no {self.kind} are registered, check that the plugins providing them are installed"
        return message

    def names(self) -> list[str]:
        """Return the registered names, sorted."""
        return sorted(self._entries)

    def entries(self) -> list[Entry[T]]:
        """Return every entry, sorted by name."""
        return [self._entries[name] for name in self.names()]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
