"""Bad data through the command line: train/cityscapes.py on tiny Cityscapes-layout
directories with one broken file ends with EXIT_DATA_ERROR (2) and names the file; a
NaN loss ends with EXIT_DIVERGED (3) and names the last good checkpoint.

One case runs the script in a real process (its exit status, a quiet standard error
without a traceback); the others call the same program in this process."""

import subprocess
import sys

import numpy as np
import pytest
from data_fixtures import make_cityscapes_dir
from PIL import Image
from train_helpers import TRAIN_SCRIPT
from train_helpers import cityscapes
from train_helpers import env

from keras_drn.training import preemption

TINY = ["--arch", "drn_d_22", "--width", "0.5", "-s", "32", "--batch-size", "2",
        "--epochs", "1", "--steps-per-epoch", "1", "--strategy", "default",
        "--eval-every", "0"]


def _argv(data_dir, out_dir, *extra):
    return ["train", "-d", str(data_dir), "-c", "19", *TINY, "--output-dir",
            str(out_dir), *extra]


def _train(capsys, data_dir, out_dir, *extra):
    """(exit status, stdout, stderr) of the program run in this process."""
    capsys.readouterr()
    code = cityscapes(_argv(data_dir, out_dir, *extra))
    out, err = capsys.readouterr()
    return code, out, err


def _dataset(tmp_path):
    pairs = make_cityscapes_dir(tmp_path / "cityscapes", splits=(("train", 2),
                                                                 ("val", 1)))
    return tmp_path / "cityscapes", pairs


def _assert_data_error(code, out, err, path, *words):
    assert code == preemption.EXIT_DATA_ERROR, (out + err)[-3000:]
    assert "data error" in err and str(path) in err, (out + err)[-3000:]
    for word in words:
        assert word in err, (word, err[-2000:])
    assert "Traceback" not in out + err
    print(err.strip().splitlines()[-1])


@pytest.mark.slow
def test_corrupt_png_names_the_file_in_a_real_process(tmp_path):
    root, pairs = _dataset(tmp_path)
    image_path = pairs["train"][1][0]
    with open(image_path, "r+b") as f:  # keep the PNG signature, break the rest
        f.seek(16)
        f.write(b"\x00garbage" * 40)
    result = subprocess.run(
        [sys.executable, TRAIN_SCRIPT, *_argv(root, tmp_path / "run")], env=env(),
        capture_output=True, text=True, timeout=300)
    _assert_data_error(result.returncode, result.stdout, result.stderr, image_path)
    # TensorFlow's start-up lines stay hidden (keras_drn.cli.quiet).
    assert "absl::InitializeLog" not in result.stderr, result.stderr[-2000:]


def test_label_ids_out_of_range_name_the_file(tmp_path, capsys):
    root, pairs = _dataset(tmp_path)
    label_path = pairs["train"][0][1]
    label = np.array(Image.open(label_path))
    label[:4, :4] = 200  # neither a Cityscapes label id (0..33) nor 255
    Image.fromarray(label).save(label_path)
    _assert_data_error(*_train(capsys, root, tmp_path / "run"), label_path, "200")


def test_image_and_label_of_different_sizes_name_the_file(tmp_path, capsys):
    root, pairs = _dataset(tmp_path)
    label_path = pairs["train"][1][1]
    label = np.array(Image.open(label_path))
    Image.fromarray(label[:, :50]).save(label_path)
    _assert_data_error(*_train(capsys, root, tmp_path / "run"), label_path, "size")


def test_nan_loss_exits_3_naming_the_last_good_checkpoint(tmp_path, capsys):
    root, _ = _dataset(tmp_path)
    code, out, err = _train(capsys, root, tmp_path / "run", "--steps-per-epoch", "12",
                            "--lr", "1e6", "--weight-decay", "0",
                            "--checkpoint-steps", "1")
    text = out + err
    assert code == preemption.EXIT_DIVERGED, text[-3000:]
    assert "diverged" in text and "Traceback" not in text
    latest = str(tmp_path / "run" / "checkpoints" / "ckpt-")
    assert f"The last good checkpoint, {latest}" in text, text[-2000:]
    assert not (tmp_path / "run" / "final.weights.h5").exists()
