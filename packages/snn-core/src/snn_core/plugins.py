"""The plugin manager: discovers plugins and builds one registry per hook.

Plugins load from the entry-point group ``snn`` of every installed distribution;
the workspace's own built-ins arrive the same way. Three environment variables
switch the plugin system from outside:

``SNN_PLUGINS``
    Comma-separated entry-point names; when set, only these plugins load.
``SNN_DISABLE_PLUGINS``
    Comma-separated entry-point names that never load.
``SNN_TRACE_HOOKS``
    When set to ``1``, every hook call and its result are printed to stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from snn_core import hookspecs
from snn_core.registry import Registry

# (hook name, registry kind in messages, CLI option that selects an entry)
_REGISTRIES: dict[str, tuple[str, str | None]] = {
    "snn_datasets": ("datasets", "--dataset"),
    "snn_models": ("models", "--model"),
    "snn_normalizers": ("normalization methods", "--norm"),
    "snn_layer_converters": ("layer converters", None),
    "snn_neuron_models": ("neuron models", "--neuron"),
    "snn_input_encoders": ("input encoders", "--encoder"),
}


@dataclass
class PluginInfo:
    """The listing of one plugin in ``snn plugins``: its origin and its contributions by hook."""

    name: str
    distribution: str | None
    version: str | None
    contributions: dict[str, list[str]] = field(default_factory=dict)


def _env_names(variable: str) -> set[str] | None:
    value = os.environ.get(variable)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


class Plugins:
    """A pluggy plugin manager for the ``snn`` hooks plus the registries built from it.

    Args:
        load_entry_points: load every plugin announced in the ``snn`` entry-point
            group, subject to ``SNN_PLUGINS`` and ``SNN_DISABLE_PLUGINS``. Tests pass
            ``False`` and register exactly the plugins they need.
    """

    def __init__(self, load_entry_points: bool = True):
        self.manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.manager.add_hookspecs(hookspecs)
        self._distributions: dict[str, tuple[str, str]] = {}
        self._registries: dict[str, Registry[Any]] = {}

        if os.environ.get("SNN_TRACE_HOOKS") == "1":
            self.manager.trace.root.setwriter(sys.stderr.write)
            self.manager.enable_tracing()

        if load_entry_points:
            self._load_entry_points()

    def _load_entry_points(self) -> None:
        allowed = _env_names("SNN_PLUGINS")
        disabled = _env_names("SNN_DISABLE_PLUGINS") or set()

        for entry_point in metadata.entry_points(group=hookspecs.PROJECT_NAME):
            if entry_point.name in disabled:
                continue
            if allowed is not None and entry_point.name not in allowed:
                continue
            if self.manager.get_plugin(entry_point.name) is not None:
                continue

            plugin = entry_point.load()
            self.manager.register(plugin, name=entry_point.name)
            if entry_point.dist is not None:
                self._distributions[entry_point.name] = (entry_point.dist.name, entry_point.dist.version)

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin object or module and return its name.

        Registries built before the call are discarded, so the next lookup includes the new plugin.
        """
        registered = self.manager.register(plugin, name=name)
        if registered is None:
            raise ValueError(f"plugin {name!r} is blocked or already registered")
        self._registries.clear()
        return registered

    def unregister(self, name: str) -> None:
        """Remove the plugin registered as ``name``."""
        self.manager.unregister(name=name)
        self._registries.clear()

    def registry(self, hook_name: str) -> Registry[Any]:
        """Return the registry gathered from ``hook_name``, building it on first use."""
        if hook_name not in self._registries:
            kind, option = _REGISTRIES[hook_name]
            registry: Registry[Any] = Registry(kind, option)
            for plugin_name, items in self._call_per_plugin(hook_name):
                for item in items:
                    registry.add(item.name, item, self._display_name(plugin_name))
            self._registries[hook_name] = registry
        return self._registries[hook_name]

    def _call_per_plugin(self, hook_name: str) -> list[tuple[str, list[Any]]]:
        # Calling each implementation separately tells us which plugin contributed
        # what, which pluggy's merged result would lose.
        caller: Callable[..., Any] = getattr(self.manager.hook, hook_name)
        results = []
        for implementation in caller.get_hookimpls():
            items = implementation.function() or []
            results.append((implementation.plugin_name, list(items)))
        return results

    def _display_name(self, plugin_name: str) -> str:
        distribution = self._distributions.get(plugin_name)
        if distribution is None:
            return plugin_name
        return f"{plugin_name} ({distribution[0]})"

    def describe(self) -> list[PluginInfo]:
        """Return every registered plugin with what it contributed, by hook."""
        infos: dict[str, PluginInfo] = {}
        for plugin_name, _plugin in self.manager.list_name_plugin():
            distribution = self._distributions.get(plugin_name)
            infos[plugin_name] = PluginInfo(
                name=plugin_name,
                distribution=distribution[0] if distribution else None,
                version=distribution[1] if distribution else None,
            )
        for hook_name in _REGISTRIES:
            kind = _REGISTRIES[hook_name][0]
            for plugin_name, items in self._call_per_plugin(hook_name):
                if items:
                    infos[plugin_name].contributions[kind] = sorted(item.name for item in items)
        return sorted(infos.values(), key=lambda info: info.name)

    # Named accessors, one per hook, so callers need not spell hook names.

    @property
    def datasets(self) -> Registry[Any]:
        return self.registry("snn_datasets")

    @property
    def models(self) -> Registry[Any]:
        return self.registry("snn_models")

    @property
    def normalizers(self) -> Registry[Any]:
        return self.registry("snn_normalizers")

    @property
    def layer_converters(self) -> Registry[Any]:
        return self.registry("snn_layer_converters")

    @property
    def neuron_models(self) -> Registry[Any]:
        return self.registry("snn_neuron_models")

    @property
    def input_encoders(self) -> Registry[Any]:
        return self.registry("snn_input_encoders")


_default: Plugins | None = None


def get_plugins() -> Plugins:
    """Return the process-wide :class:`Plugins`, loading entry points on first call."""
    global _default
    if _default is None:
        _default = Plugins()
    return _default


def set_plugins(plugins: Plugins | None) -> Plugins | None:
    """Replace the process-wide :class:`Plugins` (``None`` reloads on next use).

    Returns the previous instance so a test can restore it.
    """
    global _default
    previous, _default = _default, plugins
    return previous
