"""Two MultiWorkerMirroredStrategy workers on 127.0.0.1 running train/cityscapes.py:
a SIGTERM to one worker stops both at the same step (the all-reduced stop request); a
SIGKILLed worker makes the chief stop within a bounded time, non-zero, naming the lost
worker and the resume command, with no traceback on the screen; both workers resumed
from the chief's --output-dir finish the run."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from keras_drn.training import preemption

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "train", "cityscapes.py")
STEPS = 12
ARGS = ["train", "--arch", "drn_d_22", "--width", "0.5", "-s", "48", "--batch-size", "2",
        "--epochs", "1", "--steps-per-epoch", str(STEPS), "--lr", "0.01",
        "--synthetic-size", "48,96", "--val-count", "2", "--strategy", "multi_worker",
        "--print-freq", "1", "--eval-every", "0", "--checkpoint-steps", "2",
        "--collective-timeout", "60"]


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _start(run_dir, logs, extra=()):
    """Both workers; their output (stdout and stderr) goes to files in `logs`."""
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers},
                     "task": {"type": "worker", "index": index}}
        env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3",
                   PYTHONUNBUFFERED="1", TF_CONFIG=json.dumps(tf_config))
        out = open(logs / f"worker{index}-{time.monotonic_ns()}.log", "w+")
        procs.append((subprocess.Popen(
            [sys.executable, SCRIPT, *ARGS, "--output-dir", str(run_dir), *extra],
            env=env, stdout=out, stderr=subprocess.STDOUT, text=True), out))
    return procs


def _text(out):
    out.flush()
    out.seek(0)
    return out.read()


def _wait_for(procs, pattern, timeout=240):
    deadline = time.monotonic() + timeout
    while not re.search(pattern, _text(procs[0][1])):
        if any(p.poll() is not None for p, _ in procs) or time.monotonic() > deadline:
            _kill(procs)
            pytest.fail(f"no {pattern!r} from the chief:\n" + _text(procs[0][1])[-3000:]
                        + "\n--- worker 1:\n" + _text(procs[1][1])[-3000:])
        time.sleep(0.1)


def _kill(procs):
    for p, _ in procs:
        if p.poll() is None:
            p.kill()


def _finish(procs, timeout=240):
    try:
        for p, _ in procs:
            p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(procs)
        raise
    return [(p.returncode, _text(out)) for p, out in procs]


@pytest.mark.slow
def test_workers_agree_to_stop_survive_a_lost_worker_and_resume(tmp_path):
    run_dir = tmp_path / "run"
    # 1. SIGTERM to worker 1 only: both stop at the same step, checkpointed.
    procs = _start(run_dir, tmp_path)
    _wait_for(procs, r" 3/12 ")
    procs[1][0].send_signal(signal.SIGTERM)
    (rc0, out0), (rc1, out1) = _finish(procs, timeout=90)
    assert rc0 == rc1 == preemption.EXIT_PREEMPTED, out0[-2000:] + out1[-2000:]
    step0 = int(re.search(r"Stopped at step (\d+)", out0).group(1))
    step1 = int(re.search(r"Stopped at step (\d+)", out1).group(1))
    assert step0 == step1 < STEPS, (step0, step1)
    assert "on a stop request from another worker" in out0
    assert f"--resume {run_dir}" in out0
    # 2. Resumed on both; worker 1 SIGKILLed mid-epoch: the chief stops in bounded time.
    procs = _start(run_dir, tmp_path, ["--resume", str(run_dir)])
    _wait_for(procs, rf"Resumed from .* at step {step0} ")
    _wait_for(procs, rf" {step0 + 2}/12 ")
    killed = time.monotonic()
    procs[1][0].send_signal(signal.SIGKILL)
    procs[0][0].wait(timeout=120)
    took = time.monotonic() - killed
    (rc0, out0), _ = _finish(procs)
    print(f"chief exit {took:.1f} s after SIGKILL of worker 1")
    assert took < 90, took
    assert rc0 == preemption.EXIT_LOST_WORKER, out0[-3000:]
    assert "Traceback" not in out0
    assert "lost contact with worker 1 (127.0.0.1:" in out0, out0[-3000:]
    assert f"--resume {run_dir}" in out0
    log = run_dir / "logs" / "error-worker0.log"
    assert "Traceback" in log.read_text()
    # 3. Both restarted with --resume <the chief's output dir>: the run finishes.
    procs = _start(run_dir, tmp_path, ["--resume", str(run_dir)])
    results = _finish(procs)
    for rc, out in results:
        assert rc == 0, out[-3000:]
    assert "Resumed from" in results[0][1]
    assert (run_dir / "final.weights.h5").is_file()
