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

from keras_drn.training import preemption

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "train", "cityscapes.py")
ARGS = ["--arch", "drn_d_22", "--width", "0.5", "-s", "48", "--batch-size", "2",
        "--epochs", "2", "--steps-per-epoch", "6", "--lr", "0.01",
        "--synthetic-size", "48,96", "--val-count", "2", "--strategy", "default",
        "--deterministic", "--seed", "3", "--print-freq", "1", "--eval-every", "0"]
CLI = dict(prog="t", datasets=("synthetic",), default_dataset="synthetic",
           real_dataset="cityscapes", description="")


def _weights(path):
    import h5py

    values = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: values.__setitem__(name, np.array(obj))
                     if isinstance(obj, h5py.Dataset) else None)
    return values


@pytest.mark.slow
def test_sigterm_checkpoints_and_resume_matches_unbroken_run(tmp_path, capsys):
    from keras_drn.training.cli import main

    run_dir = tmp_path / "stopped"
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, SCRIPT, "train", *ARGS, "--output-dir",
                             str(run_dir)], env=env, stdout=subprocess.PIPE,
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
    # Resume to the end, then the unbroken run, in this process.
    capsys.readouterr()
    assert main(["train", *ARGS, "--output-dir", str(run_dir), "--resume",
                 str(run_dir)], **CLI) == 0
    resumed_out = capsys.readouterr().out
    assert f"Resumed from {latest} at step {step} (epoch 1, step {step} of 6)" in \
        resumed_out
    assert main(["train", *ARGS, "--output-dir", str(tmp_path / "whole")], **CLI) == 0
    whole = _weights(tmp_path / "whole" / "final.weights.h5")
    resumed = _weights(run_dir / "final.weights.h5")
    assert whole.keys() == resumed.keys() and len(whole) > 50
    worst = max(float(np.abs(resumed[k] - whole[k]).max()) for k in whole)
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


def test_time_based_checkpoint_is_written_between_epoch_ends(tmp_path, monkeypatch):
    """With the interval reached at every call, a checkpoint follows every step."""
    from keras_drn.training.cli import main

    monkeypatch.setattr(preemption.StopControl, "requests",
                        lambda self: np.array([0, 1], np.float32))
    args = [a if a != "6" else "3" for a in ARGS]  # 3 steps per epoch
    assert main(["train", *args, "--epochs", "1", "--output-dir", str(tmp_path)],
                **CLI) == 0
    import tensorflow as tf

    state = tf.train.get_checkpoint_state(str(tmp_path / "checkpoints"))
    steps = sorted(int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths)
    assert steps == [1, 2, 3], steps


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
                            text=True, timeout=60, env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == preemption.EXIT_INTERRUPTED, result.stderr
    assert "Second interrupt" in result.stderr  # not the normal end (status 0)


def test_help_documents_the_exit_statuses(capsys):
    from keras_drn.training.cli import main

    with pytest.raises(SystemExit):
        main(["--help"], **CLI)
    text = " ".join(capsys.readouterr().out.split())
    assert "143 SIGTERM or Ctrl-C" in text and "--checkpoint-minutes" in text


def test_error_summary_keeps_the_unhealthy_task():
    error = RuntimeError("Graph execution error:\n\nCollective ops is aborted by: "
                         "The following tasks are unhealthy (stopped sending "
                         "heartbeats):\n/job:worker/replica:0/task:1\nmore")
    summary = preemption.error_summary(error)
    assert summary.endswith("heartbeats): /job:worker/replica:0/task:1"), summary
