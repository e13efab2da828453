"""keras-drn-convert (keras_drn/cli/convert.py; export/convert_weights.py wraps it):
checkpoint in, Keras weights file out, parity with the PyTorch port printed."""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from test_weights_writers import write_tar

import keras_drn
from keras_drn.cli import convert as cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "export", "convert_weights.py")


def _scale_head(head, logits, target=10.0):
    """Scales `head` so that `logits(x)` reach `target`: drn.py's He initialisation
    with random BN statistics gives logits of ~50, where float32 differences of a few
    1e-6 relative would exceed --atol's absolute 1e-4 (real checkpoints give ~10)."""
    import torch

    with torch.no_grad():
        x = torch.from_numpy(np.random.default_rng(9).normal(
            size=(1, 3, 64, 96)).astype("float32"))
        scale = target / float(logits(x).abs().max())
        head.weight.mul_(scale)
        head.bias.mul_(scale)


def _diff(out: str) -> float:
    match = re.search(r"max \|keras - torch\| = (\S+) over logits up to (\S+)", out)
    assert match, out
    assert float(match.group(2)) > 0
    return float(match.group(1))


@pytest.mark.torch
def test_drnseg_checkpoint(capsys, tmp_path, torch_reference):
    """A segment.py training checkpoint (module. keys, legacy container) -> .weights.h5;
    the file then loads through the public constructor and answers as segment.py's
    forward does (log-softmax of the upsampled logits, stride-8 logits)."""
    import keras
    import torch

    from keras_drn.reference.parity import log_softmax

    net = torch_reference.randomize_bn(
        torch_reference.TorchDRNSeg(torch_reference.build("drn_d_22"), 19)).eval()
    _scale_head(net.seg, lambda x: net(x)[1])
    src = tmp_path / "checkpoint_latest.pth.tar"
    torch.save({"epoch": 3, "state_dict": {"module." + k: v
                                           for k, v in net.state_dict().items()}},
               src, _use_new_zipfile_serialization=False)
    out = tmp_path / "out" / "drn_d_22_cityscapes.weights.h5"
    assert cli.main([str(src), "--arch", "drn_d_22", "--classes", "19",
                     "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "segmentation, 19 classes" in printed
    assert "read by torch.load" in printed and ": OK" in printed
    assert "log-probabilities" in printed and "stride-8 logits" in printed
    assert _diff(printed) <= 1e-4
    assert sorted(os.listdir(out.parent)) == [out.name]  # no temporary left behind
    x = np.random.default_rng(3).normal(size=(1, 40, 48, 3)).astype("float32")
    model = keras_drn.DRNSeg("drn_d_22", classes=19, weights=str(out))
    with torch.no_grad():
        log_probabilities, logits = (
            t.numpy().transpose(0, 2, 3, 1)
            for t in net(torch.from_numpy(x.transpose(0, 3, 1, 2))))
    stride8 = keras.Model(model.input, model.get_layer("seg").output)
    assert np.abs(np.asarray(stride8(x)) - logits).max() <= 1e-4
    assert np.abs(log_softmax(np.asarray(model(x))) - log_probabilities).max() <= 1e-4


@pytest.mark.torch
def test_classifier_in_the_tar_container(capsys, tmp_path, torch_reference):
    """Classes read from fc.weight; torch.load refuses tar files with
    weights_only=True, so the torch model gets keras_drn's arrays (and says so). At
    40x48 drn.py's AvgPool2d(28) does not apply: the output says what is compared."""
    from keras_drn.reference.parity import global_pool_logits

    net = torch_reference.randomize_bn(torch_reference.build("drn_c_26", classes=7))
    _scale_head(net.fc, lambda x: global_pool_logits(net.eval(), x))
    state = collections.OrderedDict((k, v.numpy()) for k, v in net.state_dict().items()
                                    if not k.endswith("num_batches_tracked"))
    src = tmp_path / "drn_c_26-00000000.pth"
    write_tar(state, src)
    out = tmp_path / "c26.keras"
    assert cli.main([str(src), "--arch", "DRN-C-26", "--output", str(out),
                     "--input-size", "40x48"]) == 0
    printed = capsys.readouterr().out
    assert "classifier, 7 classes" in printed and "read by keras_drn" in printed
    assert "global mean" in printed and "input 40x48" in printed
    assert _diff(printed) <= 1e-4
    assert out.exists()


def test_bad_arguments(capsys, tmp_path):
    src = tmp_path / "x.pth"
    src.write_bytes(b"not a checkpoint")
    cases = [
        ([str(src), "--arch", "drn_d_22", "--output", str(tmp_path / "o.h5")],
         "ending in .weights.h5 or .keras"),
        ([str(src), "--arch", "drn_d_22", "--output", str(tmp_path / "o.weights.h5")],
         "not a PyTorch checkpoint"),
        ([str(tmp_path / "absent.pth"), "--arch", "drn_d_22", "--output",
          str(tmp_path / "o.weights.h5")], "no such file"),
        ([str(src), "--arch", "drn_z_9", "--output", str(tmp_path / "o.weights.h5")],
         "Unknown arch"),
        ([str(src), "--arch", "drn_d_22", "--input-size", "64", "--output",
          str(tmp_path / "o.weights.h5")], "--input-size='64'"),
    ]
    for argv, message in cases:
        assert cli.main(argv) == 2, argv
        assert message in capsys.readouterr().err
    assert not list(tmp_path.glob("o*"))


@pytest.mark.torch
def test_wrong_classes_and_no_reference(capsys, tmp_path, torch_reference, monkeypatch):
    import torch

    src = tmp_path / "d22.pth"
    torch.save(torch_reference.build("drn_d_22", classes=5).state_dict(), src)
    out = tmp_path / "d22.weights.h5"
    assert cli.main([str(src), "--arch", "drn_d_22", "--classes", "19",
                     "--output", str(out)]) == 2
    assert "--classes=19, but" in capsys.readouterr().err
    monkeypatch.setattr(torch_reference, "torch_available", lambda: False)
    assert cli.main([str(src), "--arch", "drn_d_22", "--output", str(out)]) == 0
    assert "parity: skipped (needs PyTorch: pip install torch)" in \
        capsys.readouterr().out
    assert out.exists()


def test_help_shows_each_default_once(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert text.count("(default: 0.0001)") == 1
    assert "(default: None)" not in text and "(default: False)" not in text
    for action in cli.build_parser()._actions:  # no formatter adds a second one
        assert (action.help or "").count("default") <= 1, action.dest


def test_runs_as_a_script():
    """The checkout's wrapper is the same program; --help imports no TensorFlow."""
    result = subprocess.run([sys.executable, SCRIPT, "--help"], capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "--arch" in result.stdout and "--output" in result.stdout
    assert result.stderr == ""
    assert "convert_weights.py" in result.stdout  # argparse's prog: the script
