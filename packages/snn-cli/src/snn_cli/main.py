"""The ``snn`` command: the root group, which composes the command modules.

User mistakes raise :class:`snn_core.SnnError` (or a click usage error); the root
catches them and prints one line to stderr with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import logging
import sys

import click

from snn_cli import __version__
from snn_cli.quiet import import_tensorflow_quietly

# Before the command modules, some of which import TensorFlow.
import_tensorflow_quietly()

from snn_cli.commands import compare_norm, plugins, report, run, steps, train  # noqa: E402

EXIT_USER_ERROR = 1


class WarningEcho(logging.Handler):
    """Print the library's logged warnings as ``warning: ...`` lines on stderr, where click sends its output."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"warning: {record.getMessage()}", err=True)


# The library logs what it cannot do and how it carries on, for example a
# failed build of the compiled neuron kernels.
_library_logger = logging.getLogger("snn_core")
_library_logger.addHandler(WarningEcho(logging.WARNING))
_library_logger.propagate = False


class SnnGroup(click.Group):
    """A click group that turns user errors into one line on stderr."""

    def invoke(self, ctx: click.Context):
        from snn_core import SnnError

        try:
            return super().invoke(ctx)
        except SnnError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(EXIT_USER_ERROR)
        except KeyboardInterrupt:
            click.echo("interrupted; artifacts written so far are complete, the current one was not written", err=True)
            ctx.exit(130)


@click.group(cls=SnnGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="snn")
@click.option(
    "--cpu-devices",
    type=click.IntRange(min=1),
    default=None,
    help="Split the CPU into N logical devices, so --strategy mirrored can be tried without GPUs.",
)
def cli(cpu_devices: int | None) -> None:
    """Convert trained Keras networks into spiking neural networks, simulate them and report.

    `snn run` runs the whole pipeline on the embedded digits; the other commands run one step each.
    """
    if cpu_devices is not None:
        from snn_core.distribute import configure_logical_cpus

        configure_logical_cpus(cpu_devices)


cli.add_command(run.run)
cli.add_command(train.train)
cli.add_command(compare_norm.compare_norm)
cli.add_command(plugins.plugins_command)
cli.add_command(report.report)
for command in steps.COMMANDS:
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="snn")


if __name__ == "__main__":
    sys.exit(main())
