"""keras_drn.weights.pth_reader: PyTorch checkpoints read without PyTorch.

Files come from torch.save itself (zip and legacy containers) and from the writers in
test_weights_writers.py (the 2017 Python 2 stream and the tar container), which are
checked there against torch.load.
"""

from __future__ import annotations

import collections
import io
import struct
import zipfile

import numpy as np
import pytest
from test_weights_writers import LEGACY_MAGIC
from test_weights_writers import Global
from test_weights_writers import PersId
from test_weights_writers import Reduce
from test_weights_writers import malicious_pickle
from test_weights_writers import py2_dumps
from test_weights_writers import write_py2_legacy
from test_weights_writers import write_tar

from keras_drn.weights.convert import strip_wrappers
from keras_drn.weights.pth_reader import PthFormatError
from keras_drn.weights.pth_reader import UnsafePickleError
from keras_drn.weights.pth_reader import read_pth

FORMATS = {"zip": {}, "legacy": {"_use_new_zipfile_serialization": False}}


def _tricky_tensors(torch):
    g = torch.Generator().manual_seed(0)
    base = torch.randn(6, 8, generator=g)
    return collections.OrderedDict([
        ("plain", torch.randn(4, 3, 3, 3, generator=g)),
        ("transposed", base.t()),  # non-contiguous strides
        ("sliced", base[2:5, 1::3]),  # storage offset and step
        ("shared_whole", base),  # shares its storage with the two above
        ("half", torch.randn(5, generator=g).half()),
        ("double", torch.randn(2, 3, generator=g).double()),
        ("bfloat16", torch.randn(7, generator=g).bfloat16()),
        ("long", torch.arange(5)),
        ("bool", torch.tensor([True, False, True])),
        ("uint8", torch.arange(4, dtype=torch.uint8)),
        ("scalar", torch.tensor(2.5)),
        ("empty", torch.zeros(0, 3)),
    ])


@pytest.mark.torch
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_torch_files_read_exactly(tmp_path, torch_reference, fmt):
    import torch

    tensors = _tricky_tensors(torch)
    path = tmp_path / "t.pth"
    torch.save(tensors, path, **FORMATS[fmt])
    out = read_pth(path)
    assert list(out) == list(tensors)
    for key, tensor in tensors.items():
        expected = tensor.float().numpy() if tensor.dtype == torch.bfloat16 else \
            tensor.numpy()
        assert out[key].dtype == expected.dtype, key
        assert out[key].shape == expected.shape, key
        np.testing.assert_array_equal(out[key], expected, err_msg=key)
        assert out[key].flags.c_contiguous


@pytest.mark.torch
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_training_checkpoint_wrapper_and_prefix(tmp_path, torch_reference, fmt):
    """segment.py save_checkpoint: {'epoch', 'arch', 'state_dict' of the DataParallel
    wrapper (module. keys), 'best_prec1'}; classify.py's is the same."""
    import torch

    model = torch_reference.build("drn_d_22", classes=5)
    wrapped = torch.nn.DataParallel(model)
    checkpoint = {"epoch": 12, "arch": "drn_d_22", "state_dict": wrapped.state_dict(),
                  "best_prec1": 71.5, "best_np": np.float64(70.25)}
    path = tmp_path / "checkpoint_latest.pth.tar"
    torch.save(checkpoint, path, **FORMATS[fmt])
    out = read_pth(path)
    assert out["epoch"] == 12 and out["arch"] == "drn_d_22"
    assert out["best_np"] == 70.25
    assert all(k.startswith("module.") for k in out["state_dict"])
    flat = strip_wrappers(out)
    expected = {k: v for k, v in model.state_dict().items()
                if not k.endswith("num_batches_tracked")}
    assert sorted(flat) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(flat[key], value.numpy())


@pytest.mark.torch
def test_parameters_and_subclass_rebuilds(tmp_path, torch_reference):
    import torch

    param = torch.nn.Parameter(torch.randn(3, 2))
    param.extra_attribute = "kept by torch, ignored here"
    path = tmp_path / "params.pth"
    torch.save({"w": param, "b": torch.nn.Parameter(torch.ones(2))}, path)
    out = read_pth(path)
    np.testing.assert_array_equal(out["w"], param.detach().numpy())
    np.testing.assert_array_equal(out["b"], np.ones(2, "float32"))


def test_python2_legacy_stream(tmp_path, rng):
    """The 2017 releases: PyTorch 0.2 under Python 2, CUDA storages, v1 rebuild."""
    state = collections.OrderedDict([
        ("layer0.0.weight", rng.normal(size=(16, 3, 7, 7)).astype("float32")),
        ("layer0.1.running_var", rng.random(16).astype("float32")),
        ("fc.bias", rng.normal(size=10).astype("float32")),
    ])
    path = tmp_path / "drn_d_22-0000.pth"
    write_py2_legacy(state, path)
    out = read_pth(path)
    assert list(out) == list(state)
    for key, value in state.items():
        np.testing.assert_array_equal(out[key], value)


def test_tar_container(tmp_path, rng):
    """torchvision's 2017 ResNet files (resnet50-19c8e357.pth) are tar archives."""
    state = collections.OrderedDict([
        ("conv1.weight", rng.normal(size=(8, 3, 7, 7)).astype("float32")),
        ("fc.weight", rng.normal(size=(10, 8)).astype("float32")),
        ("count", np.arange(3, dtype="int64")),
    ])
    path = tmp_path / "resnet50-00000000.pth"
    write_tar(state, path)
    out = read_pth(path)
    for key, value in state.items():
        np.testing.assert_array_equal(out[key], value)


@pytest.mark.torch
def test_big_endian_zip(tmp_path, torch_reference):
    """A zip checkpoint whose byteorder record says "big" (torch writes it on
    big-endian machines): the records are converted."""
    import torch

    values = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    path = tmp_path / "le.pth"
    torch.save({"x": values, "i": torch.arange(3)}, path)
    big = tmp_path / "be.pth"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(big, "w") as dst:
        prefix = next(n for n in src.namelist() if n.endswith("data.pkl"))[:-8]
        sizes = {"0": 4, "1": 8}
        for info in src.infolist():
            data = src.read(info)
            if info.filename == prefix + "byteorder":
                data = b"big"
            elif info.filename.startswith(prefix + "data/"):
                size = sizes[info.filename.rsplit("/", 1)[1]]
                data = np.frombuffer(data, f"<u{size}").astype(f">u{size}").tobytes()
            dst.writestr(info, data)
    out = read_pth(big)
    np.testing.assert_array_equal(out["x"], values.numpy())
    np.testing.assert_array_equal(out["i"], np.arange(3))


@pytest.mark.torch
def test_legacy_storage_views(tmp_path, torch_reference):
    """PyTorch <= 0.3 pickled views of a storage as (view key, offset, size) beside the
    root storage; torch.load is the reference."""
    import torch

    root = np.arange(10, dtype="<f4")

    def pid(view):
        return PersId(("storage", Global("torch", "FloatStorage"), "root", "cpu", 10,
                       view))

    rebuild = Global("torch._utils", "_rebuild_tensor")
    body = py2_dumps(collections.OrderedDict([
        ("whole", Reduce(rebuild, (pid(None), 0, (2, 5), (5, 1)))),
        ("view", Reduce(rebuild, (pid(("v1", 2, 5)), 1, (2, 2), (1, 2)))),
    ]))
    path = tmp_path / "views.pth"
    path.write_bytes(py2_dumps(LEGACY_MAGIC) + py2_dumps(1001) + py2_dumps({}) + body
                     + py2_dumps(["root"]) + struct.pack("<q", 10) + root.tobytes())
    out = read_pth(path)
    expected = torch.load(path, map_location="cpu", weights_only=False)
    for key in ("whole", "view"):
        np.testing.assert_array_equal(out[key], expected[key].numpy())
    np.testing.assert_array_equal(out["view"], [[3, 5], [4, 6]])


# --------------------------------------------------------------------------- safety
def _legacy_stream(body: bytes) -> bytes:
    return py2_dumps(LEGACY_MAGIC) + py2_dumps(1001) + py2_dumps({}) + body + \
        py2_dumps([])


def _zip_with(body: bytes, path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", body)
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/version", "3\n")


def _tar_with(body: bytes, path):
    import tarfile

    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("sys_info", py2_dumps({})), ("pickle", body),
                           ("storages", py2_dumps(0) + py2_dumps([])),
                           ("tensors", py2_dumps(0))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


PAYLOADS = ("os.system", "posix.system", "builtins.open", "builtins.exec",
            "subprocess.call")


@pytest.mark.parametrize("container", ["legacy", "zip", "tar"])
def test_code_in_a_pickle_is_refused_and_never_runs(tmp_path, container):
    for how in PAYLOADS:
        target = tmp_path / f"pwned_{how}"
        body = malicious_pickle(str(target), how)
        path = tmp_path / f"evil_{container}_{how}.pth"
        if container == "legacy":
            path.write_bytes(_legacy_stream(body))
        elif container == "zip":
            _zip_with(body, path)
        else:
            _tar_with(body, path)
        with pytest.raises(UnsafePickleError) as info:
            read_pth(path)
        message = str(info.value)
        assert f"'{how}'" in message
        assert "Nothing from the file was executed" in message
        assert str(path) in message
        assert not target.exists(), how


@pytest.mark.torch
def test_whole_pickled_model_is_refused(tmp_path, torch_reference):
    import torch

    path = tmp_path / "model.pth"
    torch.save(torch_reference.build("drn_d_22", classes=3), path)
    with pytest.raises(UnsafePickleError, match="state_dict"):
        read_pth(path)


def test_module_persistent_id_is_refused(tmp_path):
    body = py2_dumps({"net": PersId(("module", Global("torch.nn", "Module"), "f", "src"))})
    path = tmp_path / "module.pth"
    path.write_bytes(_legacy_stream(body))
    with pytest.raises(UnsafePickleError, match="state_dict"):
        read_pth(path)


def test_tensor_reaching_past_its_storage_is_refused(tmp_path):
    """A crafted size must not read memory beyond the storage (as_strided would)."""
    pid = PersId(("storage", Global("torch", "FloatStorage"), "1", "cpu", 4, None))
    body = py2_dumps({"w": Reduce(Global("torch._utils", "_rebuild_tensor"),
                                  (pid, 2, (100,), (1,)))})
    raw = struct.pack("<q", 4) + np.zeros(4, "<f4").tobytes()
    path = tmp_path / "oob.pth"
    path.write_bytes(py2_dumps(LEGACY_MAGIC) + py2_dumps(1001) + py2_dumps({}) + body
                     + py2_dumps(["1"]) + raw)
    with pytest.raises(PthFormatError, match="reaches past its storage"):
        read_pth(path)


# --------------------------------------------------------------------------- damage
@pytest.mark.torch
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_truncated_files_give_a_clear_error(tmp_path, torch_reference, fmt):
    import torch

    full = tmp_path / "full.pth"
    torch.save(torch_reference.build("drn_d_22", classes=3).state_dict(), full,
               **FORMATS[fmt])
    data = full.read_bytes()
    for keep in (0.999, 0.5, 0.01):
        cut = tmp_path / f"cut{keep}.pth"
        cut.write_bytes(data[: int(len(data) * keep)])
        with pytest.raises(PthFormatError, match=f"cut{keep}.pth"):
            read_pth(cut)


def test_truncated_python2_stream(tmp_path, rng):
    path = tmp_path / "x.pth"
    write_py2_legacy({"w": rng.normal(size=(50, 50)).astype("float32")}, path)
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    with pytest.raises(PthFormatError, match="truncated"):
        read_pth(path)


def test_other_files_are_not_checkpoints(tmp_path):
    cases = [
        (b"", "not a PyTorch checkpoint"),
        (b"hello, this is text\n" * 10, "not a PyTorch checkpoint"),
        (b"\x00" + np.random.default_rng(1).bytes(4095), "not a PyTorch checkpoint"),
        (py2_dumps({"a": 1}), "magic number"),
        (b"PK\x03\x04" + np.random.default_rng(2).bytes(200), "corrupt"),
    ]
    for i, (content, match) in enumerate(cases):
        path = tmp_path / f"x{i}.pth"
        path.write_bytes(content)
        with pytest.raises(PthFormatError, match=match):
            read_pth(path)


def test_missing_file(tmp_path):
    with pytest.raises(PthFormatError, match="not a file"):
        read_pth(tmp_path / "absent.pth")
