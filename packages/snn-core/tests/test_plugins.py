"""Plugin discovery, registries and their error messages."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass

import pytest

from snn_core import DuplicateNameError, Plugins, UnknownNameError, hookimpl
from snn_core.neurons import IF_SUBTRACT


@dataclass(frozen=True)
class _Named:
    name: str


class _ToyEncoders:
    @hookimpl
    def snn_input_encoders(self):
        return [_Named("toy")]


class _ClashingNeurons:
    @hookimpl
    def snn_neuron_models(self):
        return [_Named("if")]


def test_builtins_arrive_through_entry_points():
    plugins = Plugins()

    assert "core" in {info.name for info in plugins.describe()}
    assert plugins.neuron_models.get("if") is IF_SUBTRACT
    assert plugins.neuron_models.plugin_of("if") == "core (snn-core)"
    assert "digits" in plugins.datasets


def test_unknown_name_lists_valid_names():
    plugins = Plugins()

    with pytest.raises(UnknownNameError) as raised:
        plugins.datasets.get("digts")

    message = str(raised.value)
    assert "unknown --dataset value 'digts'" in message
    assert "did you mean 'digits'?" in message
    assert "valid datasets: " in message
    assert "digits" in message


def test_duplicate_name_names_both_plugins():
    plugins = Plugins()
    plugins.register(_ClashingNeurons(), name="clashing")

    with pytest.raises(DuplicateNameError) as raised:
        plugins.neuron_models.get("if")

    assert "'core (snn-core)'" in str(raised.value)
    assert "'clashing'" in str(raised.value)


def test_registered_plugin_is_seen_and_removed():
    plugins = Plugins(load_entry_points=False)
    plugins.register(_ToyEncoders(), name="toy-plugin")

    assert plugins.input_encoders.names() == ["toy"]
    assert plugins.input_encoders.plugin_of("toy") == "toy-plugin"

    plugins.unregister("toy-plugin")
    assert plugins.input_encoders.names() == []


def test_disable_variable_skips_plugin(monkeypatch):
    monkeypatch.setenv("SNN_DISABLE_PLUGINS", "norm")

    plugins = Plugins()

    assert "norm" not in {info.name for info in plugins.describe()}
    assert "core" in {info.name for info in plugins.describe()}


def test_installed_distribution_plugin_is_discovered(tmp_path, monkeypatch):
    source = tmp_path / "source"
    (source / "toy_snn_plugin").mkdir(parents=True)
    (source / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [project]
            name = "toy-snn-plugin"
            version = "1.2.3"

            [project.entry-points.snn]
            toy = "toy_snn_plugin"

            [build-system]
            requires = ["poetry-core>=2.0"]
            build-backend = "poetry.core.masonry.api"

            [tool.poetry]
            packages = [{ include = "toy_snn_plugin" }]
            """
        )
    )
    (source / "toy_snn_plugin" / "__init__.py").write_text(
        textwrap.dedent(
            """
            from dataclasses import dataclass
            from snn_core import hookimpl

            @dataclass(frozen=True)
            class Encoder:
                name: str

            @hookimpl
            def snn_input_encoders():
                return [Encoder("toy-rate")]
            """
        )
    )
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(source)],
        check=True,
    )
    monkeypatch.syspath_prepend(str(target))

    plugins = Plugins()

    info = {info.name: info for info in plugins.describe()}["toy"]
    assert (info.distribution, info.version) == ("toy-snn-plugin", "1.2.3")
    assert info.contributions == {"input encoders": ["toy-rate"]}
    assert plugins.input_encoders.plugin_of("toy-rate") == "toy (toy-snn-plugin)"
