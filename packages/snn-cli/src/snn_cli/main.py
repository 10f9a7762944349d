"""The ``snn`` command: the root group, which composes the command modules.

User mistakes raise :class:`snn_core.SnnError` (or a click usage error); the root
catches them and prints one line to stderr with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys

import click

from snn_cli import __version__
from snn_cli.commands import compare_norm, plugins, report, run, steps, train

EXIT_USER_ERROR = 1


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


@contextlib.contextmanager
def _stderr_silenced():
    # TensorFlow's C++ start-up lines (CPU features, missing CUDA drivers) are
    # written before its log level applies, straight to file descriptor 2.
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow and probe its devices with its C++ start-up log hidden.

    Set ``SNN_TF_LOGS=1`` to see that log.
    """
    if os.environ.get("SNN_TF_LOGS") == "1":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()


def main(argv: list[str] | None = None) -> None:
    arguments = sys.argv[1:] if argv is None else argv
    if not {"-h", "--help", "--version"} & set(arguments) and arguments:
        _import_tensorflow_quietly()
    cli.main(args=argv, prog_name="snn")


if __name__ == "__main__":
    sys.exit(main())
