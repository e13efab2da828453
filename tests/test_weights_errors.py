"""Loading the wrong file fails clearly and changes nothing; model variants (no top,
other heads) and Keras files load what they should."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from test_weights_writers import write_caffemodel
from test_weights_writers import write_py2_legacy

import keras_drn
from keras_drn.weights import CheckpointMismatchError
from keras_drn.weights import PthFormatError
from keras_drn.weights import WeightsFileError
from keras_drn.weights import load_weights

pytestmark = pytest.mark.torch
X = np.random.default_rng(0).normal(size=(1, 40, 56, 3)).astype("float32")


def _state(torch_reference, arch="drn_d_22", classes=10, seg=False):
    model = torch_reference.build(arch, classes=classes)
    if seg:
        model = torch_reference.TorchDRNSeg(model, classes)
    return torch_reference.randomize_bn(model).eval()


def _numpy(state_dict):
    return collections.OrderedDict((k, v.numpy()) for k, v in state_dict.items())


def _torch_out(model, x=X, fn=None):
    import torch

    with torch.no_grad():
        out = (fn or model)(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy()
    return out if out.ndim == 2 else out.transpose(0, 2, 3, 1)


@pytest.fixture(scope="module")
def classifier():
    return keras_drn.DRN_D_22(classes=10, classifier_activation=None,
                              input_shape=(None, None, 3))


@pytest.fixture(scope="module")
def segmenter():
    return keras_drn.DRNSeg("drn_d_22", classes=19)


def _snapshot(model):
    return [np.array(v) for v in model.weights]


def _assert_unchanged(model, before):
    after = _snapshot(model)
    assert all(np.array_equal(a, b) for a, b in zip(before, after)), \
        "a failed load changed the model"


def _fails(model, path, error, *patterns, kind="classifier"):
    before = _snapshot(model)
    with pytest.raises(error) as info:
        load_weights(model, str(path), arch="drn_d_22", kind=kind)
    for pattern in patterns:
        assert pattern in str(info.value), (pattern, str(info.value))
    _assert_unchanged(model, before)
    return str(info.value)


def test_segmentation_checkpoint_into_a_classifier(classifier, torch_reference, tmp_path):
    import torch

    path = tmp_path / "drn_d_22_cityscapes.pth"
    torch.save(_state(torch_reference, classes=19, seg=True).state_dict(), path)
    _fails(classifier, path, CheckpointMismatchError, "DRNSeg", "base.0.0.weight",
           "missing from the checkpoint: fc.bias", "nothing was loaded")


def test_classifier_checkpoint_into_drnseg(segmenter, torch_reference, tmp_path):
    import torch

    path = tmp_path / "drn_d_22-4bd2f8ea.pth"
    torch.save(_state(torch_reference).state_dict(), path)
    _fails(segmenter, path, CheckpointMismatchError, "classifier checkpoint",
           "backbone_weights", "layer0.0.weight", kind="segmentation")


def test_checkpoint_of_another_architecture(classifier, torch_reference, tmp_path):
    import torch

    path = tmp_path / "drn_c_26.pth"
    torch.save(_state(torch_reference, "drn_c_26").state_dict(), path)
    message = _fails(classifier, path, CheckpointMismatchError, "conv1.weight",
                     "layer0.0.weight")
    assert "missing from the checkpoint" in message
    assert "unexpected in the checkpoint" in message


def test_wrong_number_of_classes(classifier, torch_reference, tmp_path):
    import torch

    path = tmp_path / "five.pth"
    torch.save(_state(torch_reference, classes=5).state_dict(), path)
    _fails(classifier, path, CheckpointMismatchError, "fc.weight", "(512, 5)",
           "(512, 10)", "number of classes")


def test_one_key_missing_and_one_extra_are_named(classifier, torch_reference, tmp_path):
    state = _numpy(_state(torch_reference).state_dict())
    del state["layer5.1.bn2.running_var"]
    state["layer9.0.weight"] = np.zeros((1,), "float32")
    path = tmp_path / "edited.pth"
    write_py2_legacy(state, path)
    message = _fails(classifier, path, CheckpointMismatchError,
                     "missing from the checkpoint: layer5.1.bn2.running_var",
                     "unexpected in the checkpoint: layer9.0.weight")
    assert "fc.weight" not in message


def test_truncated_checkpoint(classifier, torch_reference, tmp_path):
    import torch

    path = tmp_path / "cut.pth"
    torch.save(_state(torch_reference).state_dict(), path,
               _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4])
    _fails(classifier, path, PthFormatError, "truncated")


def test_caffemodel_into_a_drn(classifier, tmp_path):
    path = tmp_path / "dilation8_camvid.caffemodel"
    write_caffemodel({"conv1_1": [np.zeros((64, 3, 3, 3), "f4"), np.zeros(64, "f4")]},
                     path)
    _fails(classifier, path, WeightsFileError, "Caffe model", ".pth files")


def test_unknown_file(classifier, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not weights")
    _fails(classifier, path, WeightsFileError, "not a PyTorch checkpoint")
    with pytest.raises(ValueError, match="neither a known weights name nor an existing"):
        load_weights(classifier, str(tmp_path / "absent.pth"), arch="drn_d_22")


def test_without_top_and_with_pooling(torch_reference, tmp_path):
    """include_top=False ignores the checkpoint's fc; the features match torch's."""
    import torch

    reference = _state(torch_reference)
    path = tmp_path / "drn_d_22.pth"
    torch.save(reference.state_dict(), path)
    features = _torch_out(reference, fn=reference.features)
    headless = keras_drn.DRN_D_22(include_top=False, weights=str(path),
                                  input_shape=(None, None, 3))
    assert np.abs(np.asarray(headless(X)) - features).max() <= 1e-4
    pooled = keras_drn.DRN_D_22(include_top=False, pooling="avg", weights=str(path),
                                input_shape=(None, None, 3))
    assert np.abs(np.asarray(pooled(X)) - features.mean(axis=(1, 2))).max() <= 1e-4


def test_other_segmentation_heads(torch_reference, tmp_path):
    """head="none" and "bilinear" have no `up` layer; the checkpoint's frozen
    up.weight is skipped, everything else loads."""
    import torch

    reference = _state(torch_reference, classes=19, seg=True)
    path = tmp_path / "seg.pth"
    torch.save(reference.state_dict(), path)
    stride8 = _torch_out(reference, fn=lambda x: reference(x)[1])  # segment.py's 2nd
    model = keras_drn.DRNSeg("drn_d_22", classes=19, head="none", weights=str(path))
    assert np.abs(np.asarray(model(X)) - stride8).max() <= 1e-4
    bilinear = keras_drn.DRNSeg("drn_d_22", classes=19, head="bilinear",
                                weights=str(path))
    assert np.asarray(bilinear(X)).shape == (1, 40, 56, 19)


def test_keras_files_round_trip(classifier, torch_reference, tmp_path):
    import torch

    path = tmp_path / "drn_d_22.pth"
    torch.save(_state(torch_reference).state_dict(), path)
    load_weights(classifier, str(path), arch="drn_d_22")
    expected = np.asarray(classifier(X))
    h5 = tmp_path / "drn_d_22.weights.h5"
    classifier.save_weights(str(h5))
    again = keras_drn.DRN_D_22(classes=10, classifier_activation=None,
                               input_shape=(None, None, 3), weights=str(h5))
    np.testing.assert_allclose(np.asarray(again(X)), expected, atol=1e-6)
    wrong = keras_drn.DRN_D_22(classes=7, classifier_activation=None)
    before = _snapshot(wrong)
    with pytest.raises(ValueError, match="nothing was loaded"):
        load_weights(wrong, str(h5), arch="drn_d_22")
    _assert_unchanged(wrong, before)
