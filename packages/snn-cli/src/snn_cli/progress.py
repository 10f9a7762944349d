"""Progress and result output on the terminal.

Progress goes to stderr so that stdout holds only results; on a terminal the
current count is rewritten in place, elsewhere a line is printed per step.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import click


class Reporter:
    """Prints which pipeline step runs, how far it is, and how long it took."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self._interactive = sys.stderr.isatty()
        self._started = 0.0
        self._title = ""

    def start(self, title: str) -> None:
        self._title = title
        self._started = time.perf_counter()
        if not self.quiet:
            click.echo(f"{title} ...", err=True)

    def done(self, summary: str = "") -> None:
        elapsed = time.perf_counter() - self._started
        if not self.quiet:
            if self._interactive:
                click.echo("\r\033[K", err=True, nl=False)
            suffix = f": {summary}" if summary else ""
            click.echo(f"{self._title} done in {elapsed:.1f} s{suffix}", err=True)

    def counter(self, total: int | None, unit: str = "images") -> Callable[[int], None]:
        """Return a callback ``callback(done)`` that shows ``done`` of ``total``."""

        def show(done: int) -> None:
            if self.quiet or not self._interactive:
                return
            of_total = f"/{total}" if total else ""
            click.echo(f"\r  {done}{of_total} {unit}", err=True, nl=False)

        return show

    def note(self, message: str) -> None:
        if not self.quiet:
            click.echo(f"  {message}", err=True)


def percent(fraction: float) -> str:
    return f"{100.0 * fraction:6.2f}%"
