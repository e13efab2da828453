"""A run killed (SIGKILL) mid-epoch after a checkpoint, then resumed with --resume,
ends where an uninterrupted run ends."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "train", "cityscapes.py")
ARGS = ["--arch", "drn_d_22", "--width", "0.5", "-s", "48", "--batch-size", "2",
        "--epochs", "2", "--steps-per-epoch", "8", "--checkpoint-steps", "3",
        "--lr", "0.01", "--synthetic-size", "48,96", "--val-count", "2",
        "--strategy", "default", "--deterministic", "--seed", "5"]


def _weights(path):
    import h5py

    values = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: values.__setitem__(name, np.array(obj))
                     if isinstance(obj, h5py.Dataset) else None)
    return values


def test_killed_run_resumes_to_the_same_weights(tmp_path, capsys):
    from keras_drn.training.cli import main

    cli = dict(prog="t", datasets=("synthetic",), default_dataset="synthetic",
               real_dataset="cityscapes", description="")
    # The uninterrupted run, in this process.
    assert main(["train", *ARGS, "--output-dir", str(tmp_path / "whole")], **cli) == 0
    # The same run in a subprocess, killed once its step-3 checkpoint exists.
    run_dir = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen([sys.executable, SCRIPT, "train", *ARGS, "--output-dir",
                             str(run_dir)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    # The manager's pointer file is written after the checkpoint's files: wait for it.
    pointer = run_dir / "checkpoints" / "checkpoint"
    deadline = time.monotonic() + 240
    while not (pointer.exists() and "ckpt-" in pointer.read_text()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the training subprocess ended or stalled before checkpoint 3")
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run_dir / "final.weights.h5").exists(), "killed too late"
    import tensorflow as tf

    latest = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    step = int(latest.rsplit("-", 1)[1])
    assert 3 <= step < 16, latest  # killed after step 3 of the 8 of epoch 1
    # Resume to the end.
    capsys.readouterr()
    assert main(["train", *ARGS, "--output-dir", str(run_dir), "--resume",
                 str(run_dir)], **cli) == 0
    out = capsys.readouterr().out
    # It continued (a restart from scratch would also end equal, being deterministic).
    assert f"Resumed from {latest} at step {step} (epoch {step // 8 + 1}" in out
    first_epoch = [line for line in out.splitlines() if line.startswith("Epoch 1/2")]
    assert all(" 1/8 " not in line for line in first_epoch)  # no step 1 redone
    whole = _weights(tmp_path / "whole" / "final.weights.h5")
    resumed = _weights(run_dir / "final.weights.h5")
    assert whole.keys() == resumed.keys() and len(whole) > 50
    for key in whole:
        np.testing.assert_allclose(resumed[key], whole[key], rtol=0, atol=1e-6,
                                   err_msg=key)


def test_resume_refuses_changed_settings(tmp_path):
    from keras_drn.training.cli import main

    cli = dict(prog="t", datasets=("synthetic",), default_dataset="synthetic",
               real_dataset="cityscapes", description="")
    short = ARGS + ["--epochs", "1", "--steps-per-epoch", "2"]  # later flags win
    assert main(["train", *short, "--output-dir", str(tmp_path)], **cli) == 0
    with pytest.raises(ValueError, match="global_batch: 2 -> 4"):
        main(["train", *short, "--batch-size", "4", "--output-dir", str(tmp_path),
              "--resume", str(tmp_path)], **cli)
