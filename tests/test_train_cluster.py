"""Two MultiWorkerMirroredStrategy workers on 127.0.0.1 running train/cityscapes.py:
a SIGTERM to one worker stops both at the same step (the all-reduced stop request); a
SIGKILLed worker makes the chief stop within a bounded time, non-zero, naming the lost
worker and the resume command, with no traceback on the screen; both workers resumed
from the chief's --output-dir finish the run."""

import re
import signal
import time

import pytest
from train_helpers import TINY
from train_helpers import TRAIN_SCRIPT
from train_helpers import Cluster

from keras_drn.training import preemption

STEPS = 12
ARGS = ["train", *TINY, "--epochs", "1", "--steps-per-epoch", str(STEPS),
        "--strategy", "multi_worker", "--print-freq", "1", "--eval-every", "0",
        "--checkpoint-steps", "2", "--collective-timeout", "60"]


def _cluster(run_dir, logs, extra=()):
    command = [TRAIN_SCRIPT, *ARGS, "--output-dir", run_dir, *extra]
    return Cluster([command, command], logs)


@pytest.mark.slow
def test_workers_agree_to_stop_survive_a_lost_worker_and_resume(tmp_path):
    run_dir = tmp_path / "run"
    # 1. SIGTERM to worker 1 only: both stop at the same step, checkpointed.
    cluster = _cluster(run_dir, tmp_path)
    cluster.wait_for(r" 3/12 ")
    cluster.procs[1].send_signal(signal.SIGTERM)
    (rc0, out0), (rc1, out1) = cluster.finish(timeout=90)
    assert rc0 == rc1 == preemption.EXIT_PREEMPTED, out0[-2000:] + out1[-2000:]
    step0 = int(re.search(r"Stopped at step (\d+)", out0).group(1))
    step1 = int(re.search(r"Stopped at step (\d+)", out1).group(1))
    assert step0 == step1 < STEPS, (step0, step1)
    assert "on a stop request from another worker" in out0
    assert f"--resume {run_dir}" in out0
    # 2. Resumed on both; worker 1 SIGKILLed mid-epoch: the chief stops in bounded time.
    cluster = _cluster(run_dir, tmp_path, ["--resume", run_dir])
    cluster.wait_for(rf"Resumed from .* at step {step0} ")
    cluster.wait_for(rf" {step0 + 2}/12 ")
    killed = time.monotonic()
    cluster.procs[1].send_signal(signal.SIGKILL)
    cluster.procs[0].wait(timeout=120)
    took = time.monotonic() - killed
    (rc0, out0), _ = cluster.finish()
    print(f"chief exit {took:.1f} s after SIGKILL of worker 1")
    assert took < 90, took
    assert rc0 == preemption.EXIT_LOST_WORKER, out0[-3000:]
    assert "Traceback" not in out0
    assert "lost contact with worker 1 (127.0.0.1:" in out0, out0[-3000:]
    assert f"--resume {run_dir}" in out0
    log = run_dir / "logs" / "error-worker0.log"
    assert "Traceback" in log.read_text()
    # 3. Both restarted with --resume <the chief's output dir>: the run finishes.
    cluster = _cluster(run_dir, tmp_path, ["--resume", run_dir])
    results = cluster.finish()
    for rc, out in results:
        assert rc == 0, out[-3000:]
    assert "Resumed from" in results[0][1]
    assert (run_dir / "final.weights.h5").is_file()
