"""Bad data through the real command line: train/cityscapes.py on tiny Cityscapes-layout
directories with one broken file ends with EXIT_DATA_ERROR (2) and names the file; a
NaN loss ends with EXIT_DIVERGED (3) and names the last good checkpoint."""

import os
import subprocess
import sys

import numpy as np
import pytest
from data_fixtures import make_cityscapes_dir
from PIL import Image

from keras_drn.training import preemption

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "train", "cityscapes.py")
TINY = ["--arch", "drn_d_22", "--width", "0.5", "-s", "32", "--batch-size", "2",
        "--epochs", "1", "--steps-per-epoch", "1", "--strategy", "default",
        "--eval-every", "0"]


def _train(data_dir, out_dir, *extra):
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, SCRIPT, "train", "-d", str(data_dir), "-c", "19", *TINY,
         "--output-dir", str(out_dir), *extra],
        env=env, capture_output=True, text=True, timeout=300)


def _dataset(tmp_path):
    pairs = make_cityscapes_dir(tmp_path / "cityscapes", splits=(("train", 2),
                                                                 ("val", 1)))
    return tmp_path / "cityscapes", pairs


def _assert_data_error(result, path, *words):
    text = result.stdout + result.stderr
    assert result.returncode == preemption.EXIT_DATA_ERROR, text[-3000:]
    assert "data error" in result.stderr and str(path) in result.stderr, text[-3000:]
    for word in words:
        assert word in result.stderr, (word, result.stderr[-2000:])
    assert "Traceback" not in text
    print(result.stderr.strip().splitlines()[-1])


@pytest.mark.slow
def test_corrupt_png_names_the_file(tmp_path):
    root, pairs = _dataset(tmp_path)
    image_path = pairs["train"][1][0]
    with open(image_path, "r+b") as f:  # keep the PNG signature, break the rest
        f.seek(16)
        f.write(b"\x00garbage" * 40)
    _assert_data_error(_train(root, tmp_path / "run"), image_path)


@pytest.mark.slow
def test_label_ids_out_of_range_name_the_file(tmp_path):
    root, pairs = _dataset(tmp_path)
    label_path = pairs["train"][0][1]
    label = np.array(Image.open(label_path))
    label[:4, :4] = 200  # neither a Cityscapes label id (0..33) nor 255
    Image.fromarray(label).save(label_path)
    _assert_data_error(_train(root, tmp_path / "run"), label_path, "200")


@pytest.mark.slow
def test_image_and_label_of_different_sizes_name_the_file(tmp_path):
    root, pairs = _dataset(tmp_path)
    label_path = pairs["train"][1][1]
    label = np.array(Image.open(label_path))
    Image.fromarray(label[:, :50]).save(label_path)
    _assert_data_error(_train(root, tmp_path / "run"), label_path, "size")


@pytest.mark.slow
def test_nan_loss_exits_3_naming_the_last_good_checkpoint(tmp_path):
    root, _ = _dataset(tmp_path)
    result = _train(root, tmp_path / "run", "--steps-per-epoch", "12", "--lr", "1e6",
                    "--weight-decay", "0", "--checkpoint-steps", "1")
    text = result.stdout + result.stderr
    assert result.returncode == preemption.EXIT_DIVERGED, text[-3000:]
    assert "diverged" in text and "Traceback" not in text
    latest = str(tmp_path / "run" / "checkpoints" / "ckpt-")
    assert f"The last good checkpoint, {latest}" in text, text[-2000:]
    assert not (tmp_path / "run" / "final.weights.h5").exists()
