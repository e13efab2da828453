"""Caffemodels without Caffe: the wire-format reader against the protobuf runtime, and
the Dilation models against the independent PyTorch implementation run as Caffe runs
them (BGR input), loaded from caffemodels the tests write in the V1 and V2 layouts.

The Dilation networks are large (fc6 alone is 7x7x512x4096), so only two are built:
Dilation8("pascal_voc") (large context module, `fc-final`, V1 layout with the
deprecated 4-D blob dims) and Dilation10 (basic context, in-network `ctx_upsample`,
V2 layout with `shape`) through its constructor and named weights.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
from test_weights_download import closed_port
from test_weights_download import isolate
from test_weights_download import with_entry
from test_weights_writers import caffe_proto_classes
from test_weights_writers import caffemodel_parts
from test_weights_writers import encode_caffemodel
from test_weights_writers import write_caffemodel
from test_weights_writers import write_py2_legacy

import keras_drn
from keras_drn.weights import CaffeModelFormatError
from keras_drn.weights import CheckpointMismatchError
from keras_drn.weights import WeightsFileError
from keras_drn.weights import download
from keras_drn.weights import load_weights
from keras_drn.weights import named
from keras_drn.weights import read_caffemodel

ATOL = 1e-4
HW = (381, 389)  # just above the minimum input (373): a 2x3 output


def _small_blobs(rng):
    return {
        "conv1_1": [rng.normal(size=(4, 3, 3, 3)).astype("f4"),
                    rng.normal(size=4).astype("f4")],
        "fc-final": [rng.normal(size=(5, 4, 1, 1)).astype("f4"),
                     rng.normal(size=5).astype("f4")],
        "ctx_upsample": [rng.normal(size=(5, 1, 16, 16)).astype("f4")],
    }


def _protobuf_net(blobs, layout, packed, legacy_dims, double) -> bytes:
    classes = caffe_proto_classes(packed)
    net = classes["NetParameter"](name="net")
    for name, arrays in [("data", [])] + list(blobs.items()):
        layer = net.layer.add() if layout == "v2" else net.layers.add()
        layer.name = name
        if layout == "v2":
            layer.type = "Convolution"
        else:
            layer.type = 4
        for array in arrays:
            blob = layer.blobs.add()
            if legacy_dims:
                dims = (1,) * (4 - array.ndim) + array.shape
                blob.num, blob.channels, blob.height, blob.width = dims
            else:
                blob.shape.dim.extend(array.shape)
            (blob.double_data if double else blob.data).extend(array.reshape(-1).tolist())
    return net.SerializeToString()


@pytest.mark.parametrize("layout", ["v2", "v1"])
def test_reader_matches_protobuf(tmp_path, rng, layout):
    pytest.importorskip("google.protobuf")
    blobs = _small_blobs(rng)
    for packed in (True, False):
        for legacy_dims in (False, True):
            for double in (False, True):
                path = tmp_path / f"{packed}{legacy_dims}{double}.caffemodel"
                path.write_bytes(_protobuf_net(blobs, layout, packed, legacy_dims,
                                               double))
                got = read_caffemodel(path)
                assert list(got) == list(blobs)
                for name, arrays in blobs.items():
                    for array, read in zip(arrays, got[name]):
                        expected = array.reshape(
                            ((1,) * (4 - array.ndim) + array.shape) if legacy_dims
                            else array.shape)
                        assert read.shape == expected.shape
                        assert read.dtype == (np.float64 if double else np.float32)
                        np.testing.assert_array_equal(read, expected)


def test_v0_layers_inside_v1(tmp_path, rng):
    """The oldest files nest a V0LayerParameter (name 1, blobs 50) in `layers`."""
    w = rng.normal(size=(2, 3, 1, 1)).astype("f4")

    def field(number, payload):
        key = bytes([number << 3 | 2]) if number < 16 else bytes(
            [(number << 3 | 2) & 0x7F | 0x80, (number << 3 | 2) >> 7])
        return key + bytes([len(payload)]) + payload

    shape = field(7, field(1, bytes([2, 3, 1, 1])))
    blob = shape + field(5, w.tobytes())
    v0 = field(1, b"conv0") + field(50, blob)
    path = tmp_path / "v0.caffemodel"
    path.write_bytes(field(2, field(1, v0)))
    np.testing.assert_array_equal(read_caffemodel(path)["conv0"][0], w)


def test_damaged_and_foreign_files(tmp_path, rng):
    good = encode_caffemodel(_small_blobs(rng))
    cases = {
        "truncated": (good[: len(good) - 100], "not a valid caffemodel"),
        "random": (b"\x07" + rng.bytes(3000), "not a valid caffemodel"),
        "empty": (b"", "empty"),
        "prototxt": (b'name: "VGG"\nlayer {\n  name: "data"\n}\n', "text prototxt"),
        "hdf5": (b"\x89HDF\r\n\x1a\n" + bytes(100), "HDF5"),
        "no blobs": (encode_caffemodel({"relu": []}, extra_layers=False),
                     "no layer with parameters"),
        "twice": (encode_caffemodel({"a": [np.ones(2, "f4")]}) * 2, "two layers named"),
    }
    for name, (content, match) in cases.items():
        path = tmp_path / f"{name}.caffemodel"
        path.write_bytes(content)
        with pytest.raises(CaffeModelFormatError, match=match):
            read_caffemodel(path)


# --------------------------------------------------------------------------- parity
def _torch_dilation(torch_reference, classes, layers, large=False, upsample=False):
    """The reference with He-initialised weights (activations keep their scale through
    the 16 layers) and the last layer scaled so that outputs reach 10."""
    import torch

    torch.manual_seed(0)
    model = torch_reference.TorchDilation(classes, layers, large=large,
                                          upsample=upsample).eval()
    with torch.no_grad():
        for conv in model.convs.values():
            fan_in = conv.weight[0].numel()
            conv.weight.normal_(0, (2.0 / fan_in) ** 0.5)
            conv.bias.uniform_(-0.1, 0.1)
    x_bgr = np.random.default_rng(1).normal(0, 60, size=(1, *HW, 3)).astype("f4")
    last = model.convs[model.specs[-1][0].replace("-", "_")]
    seen = []
    hook = last.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    unscaled = _run_torch(model, x_bgr)
    hook.remove()
    with torch.no_grad():
        scale = 10.0 / np.abs(unscaled).max()
        last.weight.mul_(scale)
        last.bias.mul_(scale)
        # The scaled model's output, from the saved input of its last layer (one
        # forward pass of the 16-layer network is enough).
        out = last(seen[0])
        if upsample:
            out = model.up(out)
    return model, x_bgr, out.numpy().transpose(0, 2, 3, 1)


def _run_torch(model, x_bgr):
    import torch

    with torch.no_grad():
        out = model(torch.from_numpy(x_bgr.transpose(0, 3, 1, 2)))
    return out.numpy().transpose(0, 2, 3, 1)


def _keras(model, x_bgr):
    return np.asarray(model(x_bgr[..., ::-1].copy(), training=False))  # ours take RGB


@pytest.mark.torch
@pytest.mark.slow
def test_dilation10_named_weights_from_the_cache(monkeypatch, tmp_path, torch_reference):
    """Dilation10(weights="cityscapes") with the caffemodel (V2 layout, with
    ctx_upsample) copied into the Keras cache by hand, as the download error suggests
    when the host is down: hash check, conversion, converted cache; the second load
    reads only the converted cache. (The HTTP path is tested with a DRN in
    test_weights_download.py.)"""
    torch_model, x, expected = _torch_dilation(torch_reference, 19, 10, upsample=True)
    blobs = torch_model.blobs()
    assert "ctx_upsample" in blobs
    parts = caffemodel_parts(blobs, layout="v2")
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    isolate(monkeypatch, tmp_path, mirror=f"http://127.0.0.1:{closed_port()}")
    entry = with_entry(monkeypatch, "dilation10_cityscapes", "cityscapes",
                       sha256=digest.hexdigest())
    os.makedirs(download.cache_dir())
    with open(download.cached_path(entry), "wb") as f:
        f.writelines(parts)
    del torch_model, blobs, parts
    model = keras_drn.Dilation10(weights="cityscapes", input_shape=(*HW, 3))
    got = _keras(model, x)
    assert got.shape == expected.shape == (1, 16, 24, 19)
    assert np.abs(got - expected).max() <= ATOL
    os.remove(download.cached_path(entry))
    for variable in model.weights:
        variable.assign(np.zeros(variable.shape, variable.dtype))
    named.load_named_weights(model, "dilation10_cityscapes", "cityscapes")
    assert np.abs(_keras(model, x) - expected).max() <= ATOL


@pytest.fixture(scope="module")
def voc(tmp_path_factory):
    pytest.importorskip("torch")
    from keras_drn import reference as torch_reference

    torch_model, x, expected = _torch_dilation(torch_reference, 21, 8, large=True)
    path = tmp_path_factory.mktemp("voc") / "dilation8_pascal_voc.caffemodel"
    blobs = torch_model.blobs()
    assert "fc-final" in blobs
    write_caffemodel(blobs, path, layout="v1", legacy_dims=True)
    del torch_model, blobs
    model = keras_drn.Dilation8("pascal_voc", input_shape=(*HW, 3))
    yield model, x, expected, path
    os.remove(path)


@pytest.mark.torch
@pytest.mark.slow
def test_dilation8_voc_from_a_v1_caffemodel(voc):
    model, x, expected, path = voc
    load_weights(model, str(path), arch="dilation8_pascal_voc", kind="caffe")
    got = _keras(model, x)
    assert got.shape == expected.shape == (1, 2, 3, 21)
    assert 5 < np.abs(expected).max() <= 10 + 1e-3
    assert np.abs(got - expected).max() <= ATOL


@pytest.mark.torch
@pytest.mark.slow
def test_wrong_files_leave_a_dilation_model_unchanged(voc, tmp_path, rng):
    model = voc[0]
    probe = [model.get_layer("conv1_1").kernel, model.get_layer("ct_final").bias]
    before = [np.array(v) for v in probe]
    pth = tmp_path / "dilation.pth"
    write_py2_legacy({"conv1_1.weight": np.zeros((64, 3, 3, 3), "f4")}, pth)
    with pytest.raises(WeightsFileError, match="Dilation models .caffemodel"):
        load_weights(model, str(pth), arch="dilation8_pascal_voc", kind="caffe")
    partial = tmp_path / "partial.caffemodel"
    write_caffemodel({"conv1_1": [rng.normal(size=(64, 3, 3, 3)).astype("f4"),
                                  rng.normal(size=64).astype("f4")]}, partial)
    with pytest.raises(CheckpointMismatchError, match="missing from the checkpoint: "
                       "conv1_2/0, conv1_2/1"):
        load_weights(model, str(partial), arch="dilation8_pascal_voc", kind="caffe")
    assert all(np.array_equal(a, np.array(v)) for a, v in zip(before, probe))
