"""``snn plugins``: what every loaded plugin registered."""

from __future__ import annotations

import json

import click


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a listing.")
def plugins_command(as_json: bool) -> None:
    """List every loaded plugin and the names it registered, by hook."""
    from snn_core import get_plugins

    infos = get_plugins().describe()
    if as_json:
        click.echo(json.dumps([info.__dict__ for info in infos], indent=2))
        return

    for info in infos:
        origin = f"{info.distribution} {info.version}" if info.distribution else "registered in code"
        click.echo(f"{info.name} ({origin})")
        if not info.contributions:
            click.echo("  (registers nothing)")
        for kind, names in info.contributions.items():
            click.echo(f"  {kind}: {', '.join(names)}")
