"""Shared pieces of the training tests: the tiny command-line runs, subprocess
environments, clusters of worker processes on 127.0.0.1, and reading weights files.

The package is installed (editable), so subprocesses need no PYTHONPATH.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TRAIN_SCRIPT = os.path.join(ROOT, "train", "cityscapes.py")  # the README's command
# The smallest DRNSeg the trainer builds (width 0.5 is the narrowest DRN-D-22 that
# TensorFlow's oneDNN kernels train), on small synthetic scenes.
TINY = ["--arch", "drn_d_22", "--width", "0.5", "-s", "32", "--batch-size", "2",
        "--lr", "0.01", "--synthetic-size", "32,64", "--val-count", "2",
        "--strategy", "default"]


def env(**extra) -> dict:
    """The environment of a training subprocess: unbuffered, TensorFlow quiet."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1", **extra}


def cityscapes(argv) -> int:
    """train/cityscapes.py's program, in this process."""
    from keras_drn.cli.train import cityscapes as command

    return command(list(map(str, argv)), prog="train/cityscapes.py")


def read_weights(path) -> dict:
    """Every array of a .weights.h5 file, by its path inside the file."""
    import h5py

    values = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: values.__setitem__(name, np.array(obj))
                     if isinstance(obj, h5py.Dataset) else None)
    return values


def max_weight_difference(a, b) -> float:
    """The largest absolute difference between two .weights.h5 files (same layers)."""
    first, second = read_weights(a), read_weights(b)
    assert first.keys() == second.keys() and len(first) > 50
    return max(float(np.abs(first[k] - second[k]).max()) for k in first)


_RUNS = {}


def unbroken_run(tmp_path_factory, args) -> str:
    """The output directory of `train/cityscapes.py train *args` run to the end in
    this process, run once per session for the same arguments.

    Every training call requests the time-based checkpoint (as if the interval had
    passed), so the run also shows the checkpoints written between epoch ends
    (tests/test_train_preemption.py); they do not change the weights.
    """
    key = tuple(args)
    if key not in _RUNS:
        from keras_drn.training import preemption

        out = tmp_path_factory.mktemp("unbroken")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(preemption.StopControl, "requests",
                          lambda self: np.array([0, 1], np.float32))
            assert cityscapes(["train", *args, "--output-dir", out]) == 0
        _RUNS[key] = str(out)
    return _RUNS[key]


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class Cluster:
    """Worker processes of one MultiWorkerMirroredStrategy cluster on 127.0.0.1, each
    with its TF_CONFIG; their output (stdout and stderr) goes to files in `logs`.

    Args:
        commands: one argv per worker (worker 0, the chief, first).
        logs: a folder for the output files.
    """

    def __init__(self, commands, logs):
        workers = [f"127.0.0.1:{port}" for port in free_ports(len(commands))]
        self.procs, self.outs = [], []
        for index, argv in enumerate(commands):
            tf_config = {"cluster": {"worker": workers},
                         "task": {"type": "worker", "index": index}}
            out = open(os.path.join(logs, f"worker{index}-{time.monotonic_ns()}.log"),
                       "w+")
            self.outs.append(out)
            self.procs.append(subprocess.Popen(
                [sys.executable, *map(str, argv)], env=env(TF_CONFIG=json.dumps(tf_config)),
                stdout=out, stderr=subprocess.STDOUT, text=True))

    def text(self, index: int) -> str:
        out = self.outs[index]
        out.flush()
        out.seek(0)
        return out.read()

    def kill(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()

    def wait_for(self, pattern: str, timeout: float = 240) -> None:
        """Waits until the chief's output matches `pattern` (fails the test if a
        worker ends first or the time runs out)."""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.text(0)):
            if any(p.poll() is not None for p in self.procs) or \
                    time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"no {pattern!r} from the chief:\n" + self.text(0)[-3000:]
                            + "\n--- worker 1:\n" + self.text(1)[-3000:])
            time.sleep(0.1)

    def finish(self, timeout: float = 240):
        """Waits for every worker; returns [(exit status, output)]."""
        try:
            for p in self.procs:
                p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        return [(p.returncode, self.text(i)) for i, p in enumerate(self.procs)]


# A run that resumes bit-exactly (deterministic ops), with a checkpoint every 3 steps:
# tests/test_train_preemption.py and test_train_resume.py stop it and compare with the
# same run unbroken (`unbroken_run`).
RESUMABLE = [*TINY, "--epochs", "2", "--steps-per-epoch", "6", "--checkpoint-steps",
             "3", "--deterministic", "--seed", "3", "--print-freq", "1",
             "--eval-every", "0"]
