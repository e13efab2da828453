"""export/convert_weights.py: checkpoint in, Keras weights file out, parity printed."""

from __future__ import annotations

import collections
import importlib.util
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from test_weights_writers import write_tar

import keras_drn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "export", "convert_weights.py")


@pytest.fixture(scope="module")
def cli():
    spec = importlib.util.spec_from_file_location("convert_weights_cli", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _diff(out: str) -> float:
    match = re.search(r"max \|keras - torch\| = (\S+) over logits up to (\S+)", out)
    assert match, out
    assert float(match.group(2)) > 0
    return float(match.group(1))


@pytest.mark.torch
def test_drnseg_checkpoint(cli, capsys, tmp_path, torch_reference):
    """A segment.py training checkpoint (module. keys, legacy container) -> .weights.h5;
    the file then loads through the public constructor with the same outputs."""
    import torch

    net = torch_reference.randomize_bn(
        torch_reference.TorchDRNSeg(torch_reference.build("drn_d_22"), 19)).eval()
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
    assert _diff(printed) <= 1e-4
    assert sorted(os.listdir(out.parent)) == [out.name]  # no temporary left behind
    x = np.random.default_rng(3).normal(size=(1, 40, 48, 3)).astype("float32")
    model = keras_drn.DRNSeg("drn_d_22", classes=19, weights=str(out))
    with torch.no_grad():
        expected = net(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy()
    assert np.abs(np.asarray(model(x)) - expected.transpose(0, 2, 3, 1)).max() <= 1e-4


@pytest.mark.torch
def test_classifier_in_the_tar_container(cli, capsys, tmp_path, torch_reference):
    """Classes read from fc.weight; torch.load refuses tar files with
    weights_only=True, so the torch model gets keras_drn's arrays (and says so)."""
    net = torch_reference.randomize_bn(torch_reference.build("drn_c_26", classes=7))
    state = collections.OrderedDict((k, v.numpy()) for k, v in net.state_dict().items()
                                    if not k.endswith("num_batches_tracked"))
    src = tmp_path / "drn_c_26-00000000.pth"
    write_tar(state, src)
    out = tmp_path / "c26.keras"
    assert cli.main([str(src), "--arch", "DRN-C-26", "--output", str(out),
                     "--input-size", "40x48"]) == 0
    printed = capsys.readouterr().out
    assert "classifier, 7 classes" in printed and "read by keras_drn" in printed
    assert _diff(printed) <= 1e-4
    assert out.exists()


def test_bad_arguments(cli, capsys, tmp_path):
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
    ]
    for argv, message in cases:
        assert cli.main(argv) == 2, argv
        assert message in capsys.readouterr().err
    assert not list(tmp_path.glob("o*"))


@pytest.mark.torch
def test_wrong_classes_and_no_reference(cli, capsys, tmp_path, torch_reference,
                                        monkeypatch):
    import torch

    src = tmp_path / "d22.pth"
    torch.save(torch_reference.build("drn_d_22", classes=5).state_dict(), src)
    out = tmp_path / "d22.weights.h5"
    assert cli.main([str(src), "--arch", "drn_d_22", "--classes", "19",
                     "--output", str(out)]) == 2
    assert "--classes=19, but" in capsys.readouterr().err
    monkeypatch.setattr(cli, "load_reference", lambda: None)
    assert cli.main([str(src), "--arch", "drn_d_22", "--output", str(out)]) == 0
    assert "parity: skipped" in capsys.readouterr().out
    assert out.exists()


def test_runs_as_a_script():
    result = subprocess.run([sys.executable, SCRIPT, "--help"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0
    assert "--arch" in result.stdout and "--output" in result.stdout
