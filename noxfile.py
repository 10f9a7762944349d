"""Development sessions: tests, lint, demo, bench, build.

Each session installs the workspace packages into its own virtual environment
(reused between runs). `./dev nox -s NAME` runs one without a global nox.
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests"]

PACKAGES = ["packages/snn-core", "packages/snn-norm", "packages/snn-models", "packages/snn-cli"]
EDITABLE = [argument for package in PACKAGES for argument in ("-e", package)]


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite (extra arguments go to pytest)."""
    session.install(*EDITABLE, "-r", "requirements-dev.txt")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and imports with ruff."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "packages", "benchmarks", "noxfile.py")


@nox.session
def demo(session: nox.Session) -> None:
    """Run the main job: `snn run` on the embedded digits (extra arguments go to snn run)."""
    session.install(*EDITABLE)
    session.run("snn", "run", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run every benchmark in benchmarks/ and save JSON under bench-results/."""
    session.install(*EDITABLE, "psutil")
    Path("bench-results").mkdir(exist_ok=True)
    for script in sorted(Path("benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)


@nox.session
def build(session: nox.Session) -> None:
    """Build a wheel and an sdist of every package into dist/."""
    session.install("build")
    for package in PACKAGES:
        session.run("python", "-m", "build", "--outdir", "dist", package)
