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


# Benchmarks that need packages outside the workspace run in their own session.
PEER_BENCHMARKS = {"bench_peers.py"}
# The CPU build of torch that SpikingJelly is compared on; pinned so that nothing
# installs another torch into the session.
TORCH = "torch==2.13.0"
# What SpikingJelly 2.0.0 imports at run time. It is installed without its declared
# dependencies, because torchvision and torchaudio would pull in another torch.
SPIKINGJELLY = ["spikingjelly==2.0.0", "numpy", "loguru>=0.7,<1", "tqdm", "requests", "matplotlib", "scipy", "packaging"]


@nox.session
def bench(session: nox.Session) -> None:
    """Run every benchmark in benchmarks/ except the peer comparison; save JSON under bench-results/.

    Extra arguments go to every script, for example `./dev nox -s bench -- --quick`.
    """
    session.install(*EDITABLE, "psutil")
    Path("bench-results").mkdir(exist_ok=True)
    for script in sorted(Path("benchmarks").glob("bench_*.py")):
        if script.name not in PEER_BENCHMARKS:
            session.run("python", str(script), *session.posargs)


@nox.session(name="bench-peers")
def bench_peers(session: nox.Session) -> None:
    """Compare the simulator with SpikingJelly on the demo CNN (extra arguments go to bench_peers.py)."""
    session.install(*EDITABLE, "psutil", TORCH)
    session.install("--no-deps", SPIKINGJELLY[0])
    session.install(*SPIKINGJELLY[1:], TORCH)
    Path("bench-results").mkdir(exist_ok=True)
    session.run("python", "benchmarks/bench_peers.py", *session.posargs)


@nox.session
def build(session: nox.Session) -> None:
    """Build a wheel and an sdist of every package into dist/."""
    session.install("build")
    for package in PACKAGES:
        session.run("python", "-m", "build", "--outdir", "dist", package)
