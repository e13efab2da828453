"""Preemption: SIGTERM mid-epoch checkpoints at the step reached and exits with
EXIT_PREEMPTED; --resume continues from that step to the unbroken run's weights. Also
the agreed stop/checkpoint requests and the time-based checkpoint interval."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from train_helpers import RESUMABLE
from train_helpers import TRAIN_SCRIPT
from train_helpers import cityscapes
from train_helpers import env
from train_helpers import max_weight_difference
from train_helpers import unbroken_run

from keras_drn.training import preemption

CLI_ARGS = ["train", *RESUMABLE]


@pytest.mark.slow
def test_sigterm_checkpoints_and_resume_matches_unbroken_run(tmp_path, tmp_path_factory,
                                                             capsys):
    run_dir = tmp_path / "stopped"
    proc = subprocess.Popen([sys.executable, TRAIN_SCRIPT, *CLI_ARGS, "--output-dir",
                             str(run_dir)], env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.monotonic() + 240
    for line in proc.stdout:  # wait for step 2 of epoch 1, then signal
        lines.append(line)
        if "Epoch 1/2" in line and " 2/6 " in line:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no progress line before the deadline:\n" + "".join(lines))
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    out = "".join(lines) + rest
    assert proc.returncode == preemption.EXIT_PREEMPTED, out[-3000:]
    assert took < 60, took
    with capsys.disabled():
        print(f"\nSIGTERM to exit: {took:.1f} s")
    assert "SIGTERM received" in out
    stopped = [line for line in out.splitlines() if line.startswith("Stopped at step")]
    assert stopped, out[-3000:]
    step = int(stopped[0].split()[3])
    assert 2 <= step < 6, stopped  # mid-epoch 1: the step in flight was finished
    assert f"--resume {run_dir}" in out
    assert "Traceback" not in out
    assert not (run_dir / "final.weights.h5").exists()
    import tensorflow as tf

    latest = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    assert latest.endswith(f"ckpt-{step}"), latest
    # Resume to the end in this process; the unbroken run is shared with
    # test_train_resume.py.
    capsys.readouterr()
    assert cityscapes([*CLI_ARGS, "--output-dir", run_dir, "--resume", run_dir]) == 0
    resumed_out = capsys.readouterr().out
    assert f"Resumed from {latest} at step {step} (epoch 1, step {step} of 6)" in \
        resumed_out
    whole = unbroken_run(tmp_path_factory, RESUMABLE)
    worst = max_weight_difference(os.path.join(whole, "final.weights.h5"),
                                  run_dir / "final.weights.h5")
    print(f"max abs weight difference, resumed vs unbroken: {worst:.3g}")
    assert worst <= 1e-5


class _Signals:
    received = None


def test_stop_control_requests_and_time_interval():
    now = [100.0]
    signals = _Signals()
    control = preemption.StopControl(signals, checkpoint_minutes=10,
                                     clock=lambda: now[0])
    np.testing.assert_array_equal(control.requests(), [0, 0])
    now[0] += 599
    assert control.requests()[preemption.SAVE] == 0
    now[0] += 2
    assert control.requests()[preemption.SAVE] == 1
    control.saved()
    assert control.requests()[preemption.SAVE] == 0
    signals.received = "SIGTERM"
    assert control.requests()[preemption.STOP] == 1
    off = preemption.StopControl(_Signals(), checkpoint_minutes=0, clock=lambda: 1e9)
    assert off.requests()[preemption.SAVE] == 0


def test_first_signal_is_recorded_and_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with preemption.StopSignals(stream=open(os.devnull, "w")) as signals:
        assert signals.received is None
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        assert signals.received == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is before


def test_time_based_checkpoint_is_written_between_epoch_ends(tmp_path_factory):
    """With the interval reached at every call (see train_helpers.unbroken_run), a
    checkpoint follows every step, not only every --checkpoint-steps 3."""
    import tensorflow as tf

    whole = unbroken_run(tmp_path_factory, RESUMABLE)
    state = tf.train.get_checkpoint_state(os.path.join(whole, "checkpoints"))
    steps = sorted(int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths)
    assert steps == [10, 11, 12], steps  # the last 3 kept (--keep-checkpoints)


def test_resume_command_replaces_resume():
    command = preemption.resume_command(
        ["train/cityscapes.py", "train", "--resume", "old", "--lr", "1"], "runs/x")
    assert command == "python train/cityscapes.py train --lr 1 --resume runs/x"


def test_lost_worker_name_from_message():
    cluster = {"worker": ["127.0.0.1:1111", "127.0.0.1:2222"]}
    error = RuntimeError("Task /job:worker/replica:0/task:1 heartbeat timeout")
    assert preemption.lost_worker_name(error, cluster) == "worker 1 (127.0.0.1:2222)"
    assert preemption.lost_worker_name(RuntimeError("?"), cluster) == "another worker"


def test_second_ctrl_c_stops_at_once():
    code = (
        "import os, signal, sys, time\n"
        "from keras_drn.training.preemption import StopSignals\n"
        "with StopSignals() as s:\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(0.2)\n"
        "    assert s.received == 'SIGINT'\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(5)\n"
        "sys.exit(0)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            text=True, timeout=60, env=env())
    assert result.returncode == preemption.EXIT_INTERRUPTED, result.stderr
    assert "Second interrupt" in result.stderr  # not the normal end (status 0)


def test_help_documents_the_exit_statuses(capsys):
    with pytest.raises(SystemExit):
        cityscapes(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "143 SIGTERM or Ctrl-C" in text and "--checkpoint-minutes" in text


def test_error_summary_keeps_the_unhealthy_task():
    error = RuntimeError("Graph execution error:\n\nCollective ops is aborted by: "
                         "The following tasks are unhealthy (stopped sending "
                         "heartbeats):\n/job:worker/replica:0/task:1\nmore")
    summary = preemption.error_summary(error)
    assert summary.endswith("heartbeats): /job:worker/replica:0/task:1"), summary
