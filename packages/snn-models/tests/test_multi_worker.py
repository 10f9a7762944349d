"""Two training workers on 127.0.0.1 under the multi-worker strategy end with the same weights."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np

WORKER_SCRIPT = Path(__file__).with_name("multi_worker_train.py")
TIMEOUT_SECONDS = 600


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for handle in sockets:
            handle.bind(("127.0.0.1", 0))
        return [handle.getsockname()[1] for handle in sockets]
    finally:
        for handle in sockets:
            handle.close()


def test_two_workers_end_with_identical_weights(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    try:
        for index in range(2):
            environment = dict(os.environ)
            environment["TF_CONFIG"] = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
            processes.append(
                subprocess.Popen(
                    [sys.executable, str(WORKER_SCRIPT), str(tmp_path / "run"), str(tmp_path / f"weights{index}.npz")],
                    env=environment,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        outputs = [process.communicate(timeout=TIMEOUT_SECONDS)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]
        assert "replicas 2" in output

    first, second = (np.load(tmp_path / f"weights{index}.npz") for index in range(2))
    assert len(first.files) == len(second.files) > 0
    for key in first.files:
        np.testing.assert_array_equal(first[key], second[key], err_msg=f"weight {key} differs between workers")

    # Only the chief (worker 0) writes the run directory's artifacts.
    assert (tmp_path / "run" / "model.keras").is_file()
    assert json.loads((tmp_path / "run" / "training.json").read_text())["strategy"]["workers"] == 2
