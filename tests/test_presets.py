"""Named presets built on first use from a download (served on 127.0.0.1), cached for
every later call, with the source's SHA-256 recorded; and keras-drn-preset
(keras_drn/cli/preset.py, wrapped by export/make_preset.py), which makes a preset from a
checkpoint, a Keras file or a training run, with parity and a round-trip check, and
refuses bad input with status 2.

The reference is the PyTorch port `keras_drn.reference`: DRNSeg answers as segment.py's
forward does (log-softmax of the upsampled logits, and the stride-8 logits), so the
segmenters' logits are compared through their log-softmax."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from test_weights_download import isolate
from test_weights_download import serve

import keras_drn
from keras_drn import presets
from keras_drn.models import DRNBackbone
from keras_drn.models import DRNImageSegmenter
from keras_drn.models import DRNImageSegmenterPreprocessor
from keras_drn.reference.parity import log_softmax
from keras_drn.weights import registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "export", "make_preset.py")
ATOL = 1e-4  # as tests/test_weights_parity.py
LOGIT_SCALE = 10.0
SHAPE = (1, 48, 64, 3)
# The Cityscapes train ids 0 and 18 (Cordts et al., 2016).
FIRST_AND_LAST = ("road", "bicycle")


def _nhwc(t):
    out = t.numpy()
    return out.transpose(0, 2, 3, 1) if out.ndim == 4 else out


class TorchModel:
    """A model of the PyTorch port of the reference with random weights and BN
    statistics, its head scaled so that the logits reach LOGIT_SCALE, saved as the
    authors' files are (a plain state dict, torch.save). `expected` is its answer for
    `x`: DRNSeg's log-probabilities (segment.py's first output), a classifier's logits
    over the global mean of its stride-8 map (drn.py's AvgPool2d(28) needs 224x224)."""

    def __init__(self, kind, path, arch="drn_d_22", classes=19):
        import torch

        from keras_drn import reference

        torch.manual_seed(0)
        self.kind = kind
        self.x = np.random.default_rng(0).normal(size=SHAPE).astype("float32")
        if kind == "segmentation":
            net = reference.TorchDRNSeg(reference.build(arch), classes)
            head = net.seg
        else:
            net = reference.build(arch, classes=classes)
            head = net.fc
        self.net = reference.randomize_bn(net).eval()
        with torch.no_grad():
            scale = LOGIT_SCALE / np.abs(self.logits(self.x)).max()
            head.weight.mul_(scale)
            head.bias.mul_(scale)
        self.expected = self(self.x)
        torch.save(self.net.state_dict(), path)
        self.path = str(path)
        self.sha256 = hashlib.sha256(open(path, "rb").read()).hexdigest()

    def _run(self, fn, x):
        import torch

        with torch.no_grad():
            return fn(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))))

    def logits(self, x):
        """The stride-8 logits (segment.py's second output) or a classifier's."""
        from keras_drn.reference.parity import global_pool_logits

        if self.kind == "segmentation":
            return _nhwc(self._run(self.net, x)[1])
        return _nhwc(self._run(lambda t: global_pool_logits(self.net, t), x))

    def __call__(self, x):
        if self.kind == "segmentation":
            return _nhwc(self._run(self.net, x)[0])
        return self.logits(x)

    def features(self, x):
        return _nhwc(self._run(self.net.features, x))


@pytest.fixture(scope="module")
def cityscapes(tmp_path_factory):
    """drn_d_22_cityscapes.pth in a directory to serve: DRNSeg D-22, 19 classes."""
    pytest.importorskip("torch")
    root = tmp_path_factory.mktemp("www")
    return TorchModel("segmentation", root / "drn_d_22_cityscapes.pth")


def _read_json(path):
    with open(path) as f:
        return json.load(f)


# ------------------------------------------------------------------------ named presets
def test_presets_are_listed_by_class():
    assert set(DRNImageSegmenter.presets) == {
        "drn_d_22_cityscapes", "drn_d_38_cityscapes", "drn_d_105_cityscapes"}
    assert set(keras_drn.DilationImageSegmenter.presets) == {
        "dilation8_pascal_voc", "dilation8_camvid", "dilation7_kitti",
        "dilation10_cityscapes"}
    assert set(DRNBackbone.presets) == {
        f"{arch}_imagenet" for arch in ("drn_a_50", "drn_c_26", "drn_c_42", "drn_c_58",
                                        "drn_d_22", "drn_d_38", "drn_d_54", "drn_d_105")}
    meta = DRNImageSegmenter.presets["drn_d_22_cityscapes"]
    assert (meta["classes"], meta["dataset"]) == (19, "cityscapes")


@pytest.mark.slow
@pytest.mark.torch
def test_a_named_preset_is_built_once_from_the_download(monkeypatch, tmp_path,
                                                        cityscapes):
    entry = registry.get_entry("drnseg_drn_d_22", "cityscapes")
    assert entry.sha256 is None and entry.hash_prefix is None  # nothing to forge
    assert entry.file_name == os.path.basename(cityscapes.path)
    with serve(os.path.dirname(cityscapes.path)) as (base, requests):
        isolate(monkeypatch, tmp_path, mirror=base)
        segmenter = DRNImageSegmenter.from_preset("drn_d_22_cityscapes")
        assert requests == ["/drn_d_22_cityscapes.pth"]
    assert type(segmenter) is DRNImageSegmenter
    got = np.asarray(segmenter(cityscapes.x))
    assert got.shape == cityscapes.expected.shape == (*SHAPE[:3], 19)
    assert np.abs(log_softmax(got) - cityscapes.expected).max() <= ATOL
    assert (segmenter.num_classes, segmenter.dataset, segmenter.head) == (
        19, "cityscapes", "reference")
    names = segmenter.class_names
    assert len(names) == 19 and (names[0], names[-1]) == FIRST_AND_LAST
    assert isinstance(segmenter.preprocessor, DRNImageSegmenterPreprocessor)
    assert segmenter.preprocessor.image_converter.dataset == "cityscapes"

    directory = presets.named_preset_dir("drn_d_22_cityscapes")
    assert directory.startswith(str(tmp_path / "keras_home"))
    meta = _read_json(os.path.join(directory, presets.METADATA_FILE))
    assert meta["source"]["sha256"] == cityscapes.sha256
    assert meta["source"]["file_name"] == "drn_d_22_cityscapes.pth"
    assert meta["preset"] == "drn_d_22_cityscapes"

    # The server is gone: the second call reads the cached preset, no download.
    again = DRNImageSegmenter.from_preset("drn_d_22_cityscapes")
    assert requests == ["/drn_d_22_cityscapes.pth"]
    np.testing.assert_array_equal(np.asarray(again(cityscapes.x)), got)
    # keras-hub's own loader reads the same directory.
    import keras_hub

    hub = keras_hub.models.ImageSegmenter.from_preset(directory)
    assert type(hub) is DRNImageSegmenter
    np.testing.assert_array_equal(np.asarray(hub(cityscapes.x)), got)


# -------------------------------------------------------------------------- make_preset
def _make(argv, capsys):
    from keras_drn.cli.preset import main

    status = main([str(a) for a in argv])
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.mark.slow
@pytest.mark.torch
def test_make_preset_from_a_drnseg_checkpoint(tmp_path, cityscapes, capsys):
    output = tmp_path / "drn_d_22_mine"
    status, out, err = _make([cityscapes.path, "--arch", "drn_d_22", "--output", output],
                             capsys)
    assert status == 0, err
    meta = _read_json(output / presets.METADATA_FILE)
    assert meta["source"] == {
        "file_name": "drn_d_22_cityscapes.pth", "kind": "pth",
        "size": os.path.getsize(cityscapes.path), "sha256": cityscapes.sha256}
    assert (meta["arch"], meta["classes"], meta["head"], meta["dataset"]) == (
        "drn_d_22", 19, "reference", "cityscapes")
    assert meta["parity"]["passed"] and meta["parity"]["max_abs_logit_diff"] <= ATOL
    assert meta["parity"]["max_abs_logit"] > 1.0  # measured on real logits
    assert meta["round_trip"]["max_abs_diff"] <= 1e-6
    assert "kaggle://<user>/drn/keras/drn_d_22_mine" in out
    assert "hf://<user>/drn_d_22_mine" in out
    # The preset answers as the reference does, and takes uint8 images.
    segmenter = DRNImageSegmenter.from_preset(str(output))
    assert np.abs(log_softmax(np.asarray(segmenter(cityscapes.x)))
                  - cityscapes.expected).max() <= ATOL
    images = np.random.default_rng(1).integers(0, 256, (1, 40, 56, 3), dtype=np.uint8)
    normalised = keras_drn.preprocess_input(images, dataset="cityscapes")
    expected = cityscapes(normalised)
    np.testing.assert_allclose(log_softmax(segmenter.predict(images, verbose=0)),
                               expected, rtol=0, atol=ATOL * np.abs(expected).max())


@pytest.mark.slow
@pytest.mark.torch
def test_make_preset_from_an_imagenet_classifier_gives_a_backbone(tmp_path, capsys):
    pytest.importorskip("torch")
    classifier = TorchModel("classifier", tmp_path / "drn_c_26-ddedf421.pth",
                            arch="drn_c_26", classes=10)
    output = tmp_path / "drn_c_26_backbone"
    status, out, err = _make([classifier.path, "--arch", "drn_c_26", "--output", output],
                             capsys)
    assert status == 0, err
    meta = _read_json(output / presets.METADATA_FILE)
    assert (meta["class"], meta["kind"]) == ("DRNBackbone", "classifier")
    assert meta["parity"]["passed"] and meta["parity"]["model"] == "classifier"
    backbone = DRNBackbone.from_preset(str(output))
    expected = classifier.features(classifier.x)
    got = np.asarray(backbone(classifier.x))
    np.testing.assert_allclose(got, expected, rtol=0,
                               atol=1e-5 * max(1.0, np.abs(expected).max()))


def _write_run(directory, model, **settings):
    from keras_drn.files import write_json_atomic

    os.makedirs(directory)
    write_json_atomic(os.path.join(directory, "run.json"), settings)
    model.save_weights(os.path.join(directory, "final.weights.h5"))


def test_make_preset_from_a_training_run(tmp_path, capsys):
    from keras_drn.training.models import build_segmenter

    model = build_segmenter("drn_d_22", 19, width=0.5, head="bilinear")
    rng = np.random.default_rng(2)
    for v in model.weights:
        if "moving_mean" in v.path:
            v.assign(rng.normal(0, 0.2, v.shape).astype("float32"))
    run = tmp_path / "run"
    _write_run(run, model, arch="drn_d_22", width=0.5, classes=19, head="bilinear",
               dataset="synthetic", family="drn", seed=0, global_batch=8)
    output = tmp_path / "from_run"
    status, out, err = _make([run, "--output", output], capsys)
    assert status == 0, err
    meta = _read_json(output / presets.METADATA_FILE)
    assert (meta["arch"], meta["width"], meta["head"], meta["classes"]) == (
        "drn_d_22", 0.5, "bilinear", 19)
    assert meta["source"]["kind"] == "run" and meta["source"]["run"]["seed"] == 0
    assert meta["source"]["sha256"] == hashlib.sha256(
        open(run / "final.weights.h5", "rb").read()).hexdigest()
    assert "skipped" in meta["parity"]
    reloaded = DRNImageSegmenter.from_preset(str(output))
    assert reloaded.backbone.width == 0.5 and reloaded.head == "bilinear"
    x = np.random.default_rng(3).normal(size=SHAPE).astype("float32")
    np.testing.assert_array_equal(np.asarray(reloaded(x)), np.asarray(model(x)))
    # The recorded settings must agree with the arguments.
    status, _, err = _make([run, "--arch", "drn_d_38", "--output", tmp_path / "x"],
                           capsys)
    assert status == 2 and "--arch" in err and "run.json" in err


def test_make_preset_refuses_a_keras_file_of_another_architecture(tmp_path, capsys):
    d24 = keras_drn.models.build_drnseg("drn_d_24", 19)
    path = tmp_path / "drn_d_24_seg.weights.h5"
    d24.save_weights(str(path))
    output = tmp_path / "never"
    status, _, err = _make([path, "--arch", "drn_d_22", "--classes", "19", "--output",
                            output], capsys)
    assert status == 2
    assert str(path) in err and "layer7" in err
    assert not output.exists()


# ---------------------------------------------------------------- the command line
def test_the_wrapper_runs_the_command_line(tmp_path):
    """export/make_preset.py is keras-drn-preset: one real process, bad input."""
    missing = tmp_path / "nowhere" / "drn_d_22_cityscapes.pth"
    result = subprocess.run(
        [sys.executable, SCRIPT, str(missing), "--arch", "drn_d_22", "--output",
         str(tmp_path / "out")], cwd=str(tmp_path), capture_output=True, text=True,
        timeout=300, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {missing}: no such file or directory."
    assert not (tmp_path / "out").exists()


def test_command_line_unknown_arch(tmp_path, capsys):
    src = tmp_path / "model.pth"
    src.write_bytes(b"not read: the architecture is checked first")
    status, _, err = _make([src, "--arch", "drn_z_99", "--output", tmp_path / "out"],
                           capsys)
    assert status == 2
    assert "--arch='drn_z_99'" in err and "drn_d_22" in err


def test_help_shows_each_default_once(capsys):
    from keras_drn.cli.preset import build_parser

    with pytest.raises(SystemExit):
        _make(["--help"], capsys)
    text = " ".join(capsys.readouterr().out.split())
    assert text.count("(default: 0.0001)") == 1 and "(default: None)" not in text
    for action in build_parser()._actions:
        assert (action.help or "").count("default") <= 1, action.dest


@pytest.mark.torch
def test_command_line_checkpoint_of_another_architecture(tmp_path, capsys,
                                                         torch_reference):
    import torch

    src = tmp_path / "drn_d_24-release.pth"
    torch.save(torch_reference.build("drn_d_24", classes=10).state_dict(), src)
    status, _, err = _make([src, "--arch", "drn_d_22", "--output", tmp_path / "out"],
                           capsys)
    assert status == 2, err[-2000:]
    assert str(src) in err
    assert "layer7.3.weight" in err  # the first layer D-22 does not have
    assert not (tmp_path / "out").exists()
