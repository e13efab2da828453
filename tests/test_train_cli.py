"""The training command lines' flags: --help is immediate and silent and shows each
default once, the ImageNet command shares the segmentation commands' flags, and
library errors (which name parameters) are reported with the flags."""

import re
import subprocess
import sys
import time

import pytest
from train_helpers import ROOT
from train_helpers import TINY
from train_helpers import cityscapes
from train_helpers import env

from keras_drn.training import cli
from keras_drn.training import preemption
from keras_drn.training.errors import ParameterError


def _commands():
    from keras_drn.cli import train

    return {"cityscapes": train.CITYSCAPES, "camvid": train.CAMVID,
            "pascal_voc": train.PASCAL_VOC, "imagenet": train.IMAGENET,
            "train": train.SEGMENTATION}


def _option_helps(text):
    """(option, help text) for each option of a --help text."""
    return [(block.split()[0], " ".join(block.split()))
            for block in re.split(r"\n  (?=-)", text)[1:]]


@pytest.mark.parametrize("name", ["cityscapes", "camvid", "pascal_voc", "imagenet",
                                  "train"])
def test_help_shows_each_default_once(name):
    text = cli.build_parser(_commands()[name]).format_help()
    helps = _option_helps(text.split("exit status:")[0])
    assert len(helps) > 30
    for option, help_text in helps:
        # "--strategy {auto,default,...}" names a choice called default.
        counted = help_text.replace("{auto,default,", "{")
        assert counted.count("(default:") <= 1, (option, help_text)
        assert counted.count("default") <= 1, (option, help_text)
    assert "(default: 10)" in text  # --print-freq: a real default is shown


def test_imagenet_shares_the_segmentation_flags():
    commands = _commands()
    imagenet = cli.build_parser(commands["imagenet"])._option_string_actions
    segmentation = cli.build_parser(commands["cityscapes"])._option_string_actions
    shared = set(imagenet) & set(segmentation)
    assert {"--strategy", "--mixed-precision", "--checkpoint-minutes", "--resume",
            "--collective-timeout", "--output-dir", "--width", "--lr-mode"} <= shared
    assert len(shared) >= 40
    # classify.py's aliases, and no segmentation-only flags.
    assert {"-a", "-b", "-p", "--learning-rate", "--data"} <= set(imagenet)
    assert not {"--ms", "--phase", "--head", "--random-scale"} & set(imagenet)


def test_help_is_immediate_and_prints_nothing_from_tensorflow():
    start = time.monotonic()
    result = subprocess.run([sys.executable, f"{ROOT}/train/cityscapes.py", "--help"],
                            env=env(TF_CPP_MIN_LOG_LEVEL="0"), capture_output=True,
                            text=True, timeout=60)
    took = time.monotonic() - start
    assert result.returncode == 0 and "usage: train/cityscapes.py" in result.stdout
    assert result.stderr == ""
    assert took < 10, took  # no TensorFlow import (that alone takes several seconds)
    fit_help = subprocess.run([sys.executable, f"{ROOT}/train/keras_fit.py", "--help"],
                              env=env(), capture_output=True, text=True, timeout=60)
    assert fit_help.returncode == 0 and fit_help.stderr == ""
    assert "--batch-size" in fit_help.stdout and "(default: 8)" in fit_help.stdout
    code = ("import sys; from keras_drn.cli import keras_fit, train; "
            "print(any(m.split('.')[0] in ('tensorflow', 'keras') for m in sys.modules))")
    imported = subprocess.run([sys.executable, "-c", code], env=env(),
                              capture_output=True, text=True, timeout=60)
    assert imported.stdout.strip() == "False", imported.stdout + imported.stderr


def test_parameter_errors_are_reported_with_flags():
    parser = cli.build_parser(_commands()["pascal_voc"])
    flags = cli.flag_names(parser)
    assert flags["batch_size"] == "--batch-size" and flags["family"] == "--model"
    assert flags["dilation_stage"] == "--stage" and flags["global_batch"] == "--batch-size"
    error = ParameterError("Invalid batch_size=6: expected a multiple of 4; or set "
                           "steps_per_epoch=N.", "batch_size", "steps_per_epoch")
    assert cli.with_flags(error, flags) == (
        "Invalid --batch-size 6: expected a multiple of 4; or set --steps-per-epoch N.")
    error = ParameterError("global_batch: 2 -> 4 differs.", "global_batch")
    assert cli.with_flags(error, flags) == (
        "global_batch: 2 -> 4 differs. (on the command line: --batch-size)")


def test_missing_pretrained_file_is_a_flag_error(tmp_path, capsys):
    missing = tmp_path / "missing.weights.h5"
    code = cityscapes(["train", *TINY, "--epochs", "1", "--steps-per-epoch", "1",
                       "--pretrained", missing, "--output-dir", tmp_path / "run"])
    err = capsys.readouterr().err
    assert code == preemption.EXIT_USAGE, err
    assert f"error: Invalid --pretrained '{missing}'" in err, err
    assert "no such file" in err and "Traceback" not in err
