"""A run killed (SIGKILL) mid-epoch after a checkpoint, then resumed with --resume,
ends where an uninterrupted run ends; a resume with changed settings is refused, the
message naming the settings and their flags."""

import os
import signal
import subprocess
import sys
import time

import pytest
from train_helpers import RESUMABLE
from train_helpers import TRAIN_SCRIPT
from train_helpers import cityscapes
from train_helpers import env
from train_helpers import max_weight_difference
from train_helpers import unbroken_run

from keras_drn.training import preemption

ARGS = ["train", *RESUMABLE]


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_weights(tmp_path, tmp_path_factory, capsys):
    # The run in a subprocess, killed once its step-3 checkpoint exists.
    run_dir = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, TRAIN_SCRIPT, *ARGS, "--output-dir",
                             str(run_dir)], env=env(), stdout=subprocess.DEVNULL,
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
    assert 3 <= step < 12, latest  # killed after step 3 of the 6 of epoch 1
    # Resume to the end.
    capsys.readouterr()
    assert cityscapes([*ARGS, "--output-dir", run_dir, "--resume", run_dir]) == 0
    out = capsys.readouterr().out
    # It continued (a restart from scratch would also end equal, being deterministic).
    assert f"Resumed from {latest} at step {step} (epoch {step // 6 + 1}" in out
    first_epoch = [line for line in out.splitlines() if line.startswith("Epoch 1/2")]
    assert all(" 1/6 " not in line for line in first_epoch)  # no step 1 redone
    # The uninterrupted run (shared with test_train_preemption.py).
    whole = unbroken_run(tmp_path_factory, RESUMABLE)
    assert max_weight_difference(os.path.join(whole, "final.weights.h5"),
                                 run_dir / "final.weights.h5") <= 1e-6


def test_resume_refuses_changed_settings(tmp_path, tmp_path_factory, capsys):
    whole = unbroken_run(tmp_path_factory, RESUMABLE)
    capsys.readouterr()
    code = cityscapes([*ARGS, "--batch-size", "4", "--output-dir", tmp_path,
                       "--resume", whole])
    err = capsys.readouterr().err
    assert code == preemption.EXIT_USAGE, err
    assert "global_batch: 2 -> 4" in err and "--batch-size" in err, err
    assert "Traceback" not in err
