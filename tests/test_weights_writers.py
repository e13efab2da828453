"""Writers of the authors' file formats for the weights tests, and their own checks.

- `write_py2_legacy`: a checkpoint as PyTorch 0.1.12-0.3 under Python 2 wrote it (the
  2017 DRN releases): the legacy pickle stream, Python 2 byte strings, OrderedDict
  reduced to a list of pairs, `torch._utils._rebuild_tensor` (v1) and CUDA storages.
- `write_tar`: PyTorch's oldest container (torchvision's resnet50-19c8e357.pth).
- `encode_caffemodel`: a binary caffemodel in the V2 (`layer`) or V1 (`layers`)
  layout, with `shape` or the deprecated 4-D dims, packed or not.

Modern torch cannot write the first two, and Caffe is not installed, so the writers
follow the format descriptions (torch/serialization.py, caffe.proto); the tests in
this file check them against independent readers: `torch.load` and the `protobuf`
runtime with a schema built from caffe.proto's field numbers.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import tarfile

import numpy as np
import pytest

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

_STORAGE_NAMES = {
    np.dtype("float32"): "FloatStorage", np.dtype("float64"): "DoubleStorage",
    np.dtype("float16"): "HalfStorage", np.dtype("int64"): "LongStorage",
    np.dtype("int32"): "IntStorage", np.dtype("uint8"): "ByteStorage",
}


# --------------------------------------------------------------------------- pickles
class Global:
    def __init__(self, module, name):
        self.module, self.name = module, name


class Reduce:
    def __init__(self, func: Global, args: tuple, state=None):
        self.func, self.args, self.state = func, args, state


class PersId:
    def __init__(self, pid):
        self.pid = pid


class Py2Pickler:
    """Protocol-2 opcodes as Python 2's pickle emits them for the types a checkpoint
    holds: str as BINSTRING (Python 2 `str`), no memo."""

    def __init__(self):
        self.out = io.BytesIO()

    def dumps(self, obj) -> bytes:
        self.out.write(b"\x80\x02")
        self.save(obj)
        self.out.write(b".")
        return self.out.getvalue()

    def save(self, obj):  # noqa: C901
        w = self.out.write
        if obj is None:
            w(b"N")
        elif obj is True or obj is False:
            w(b"\x88" if obj else b"\x89")
        elif isinstance(obj, int):
            if 0 <= obj < 256:
                w(b"K" + bytes([obj]))
            elif 0 <= obj < 65536:
                w(b"M" + struct.pack("<H", obj))
            elif -(2 ** 31) <= obj < 2 ** 31:
                w(b"J" + struct.pack("<i", obj))
            else:
                data = obj.to_bytes((obj.bit_length() + 8) // 8, "little", signed=True)
                w(b"\x8a" + bytes([len(data)]) + data)
        elif isinstance(obj, float):
            w(b"G" + struct.pack(">d", obj))
        elif isinstance(obj, str):
            data = obj.encode("latin1")
            if len(data) < 256:
                w(b"U" + bytes([len(data)]) + data)
            else:
                w(b"T" + struct.pack("<i", len(data)) + data)
        elif isinstance(obj, tuple):
            w(b"(")
            for item in obj:
                self.save(item)
            w(b"t")
        elif isinstance(obj, list):
            w(b"]")
            if obj:
                w(b"(")
                for item in obj:
                    self.save(item)
                w(b"e")
        elif isinstance(obj, collections.OrderedDict):
            # Python 2's OrderedDict.__reduce__: (OrderedDict, ([[k, v], ...],))
            self.save(Reduce(Global("collections", "OrderedDict"),
                             ([[k, v] for k, v in obj.items()],)))
        elif isinstance(obj, dict):
            w(b"}")
            if obj:
                w(b"(")
                for k, v in obj.items():
                    self.save(k)
                    self.save(v)
                w(b"u")
        elif isinstance(obj, Global):
            w(b"c" + obj.module.encode() + b"\n" + obj.name.encode() + b"\n")
        elif isinstance(obj, Reduce):
            self.save(obj.func)
            self.save(tuple(obj.args))
            w(b"R")
            if obj.state is not None:
                self.save(obj.state)
                w(b"b")
        elif isinstance(obj, PersId):
            self.save(obj.pid)
            w(b"Q")
        else:
            raise TypeError(f"cannot pickle {type(obj)}")


def py2_dumps(obj) -> bytes:
    return Py2Pickler().dumps(obj)


def _storage_global(array, module):
    return Global(module, _STORAGE_NAMES[array.dtype])


def _as_legacy_objects(state, make_pid):
    """Replaces arrays by `_rebuild_tensor(storage, offset, size, stride)`."""
    def tensor(array):
        array = array.copy(order="C")
        strides = tuple(s // array.itemsize for s in array.strides) if array.ndim else ()
        return Reduce(Global("torch._utils", "_rebuild_tensor"),
                      (make_pid(array), 0, tuple(array.shape), strides))

    def walk(obj):
        if isinstance(obj, np.ndarray):
            return tensor(obj)
        if isinstance(obj, collections.OrderedDict):
            return collections.OrderedDict((k, walk(v)) for k, v in obj.items())
        if isinstance(obj, dict):
            return {k: walk(v) for k, v in obj.items()}
        return obj

    return walk(state)


def write_py2_legacy(obj, path, *, module="torch.cuda", location="cuda:0"):
    """A PyTorch 0.1.12-0.3 / Python 2 checkpoint of `obj` (dicts of numpy arrays)."""
    storages = []

    def pid(array):
        key = str(140000000 + 1000 * len(storages))
        storages.append((key, array))
        return PersId(("storage", _storage_global(array, module), key, location,
                       array.size, None))

    body = py2_dumps(_as_legacy_objects(obj, pid))
    sys_info = {"protocol_version": 1001, "little_endian": True,
                "type_sizes": {"short": 2, "int": 4, "long": 8}}
    with open(path, "wb") as f:
        f.write(py2_dumps(LEGACY_MAGIC))
        f.write(py2_dumps(1001))
        f.write(py2_dumps(sys_info))
        f.write(body)
        keys = sorted(k for k, _ in storages)
        f.write(py2_dumps(keys))
        by_key = dict(storages)
        for key in keys:
            array = by_key[key].copy(order="C")
            f.write(struct.pack("<q", array.size))
            f.write(array.astype(array.dtype.newbyteorder("<")).tobytes())


def write_tar(obj, path, *, module="torch"):
    """A PyTorch <= 0.1.9 tar checkpoint of `obj` (a dict of numpy arrays), laid out as
    torch/serialization.py `legacy_load` reads it; one storage shared by two tensors
    when `obj` has a key "shared_a" and "shared_b" of the same size."""
    storages, tensors = [], []
    ids = iter(range(1000, 10 ** 6, 7))

    def pid(array):
        storage_key = next(ids)
        storages.append((storage_key, array.copy(order="C").reshape(-1)))
        tensor_key = next(ids)
        tensors.append((tensor_key, storage_key, array))
        return PersId(str(tensor_key))

    def walk(o):
        if isinstance(o, np.ndarray):
            return pid(o)
        if isinstance(o, dict):
            return type(o)((k, walk(v)) for k, v in o.items())
        return o

    pickled = py2_dumps(walk(obj))
    store = io.BytesIO()
    store.write(py2_dumps(len(storages)))
    for key, flat in storages:
        store.write(py2_dumps((key, "cpu", _storage_global(flat, module))))
        store.write(struct.pack("<q", flat.size) + flat.tobytes())
    store.write(py2_dumps([]))  # no storage views
    tens = io.BytesIO()
    tens.write(py2_dumps(len(tensors)))
    for key, storage_key, array in tensors:
        name = _STORAGE_NAMES[array.dtype].replace("Storage", "Tensor")
        tens.write(py2_dumps((key, storage_key, Global(module, name))))
        strides = [s // array.itemsize for s in array.copy(order="C").strides]
        tens.write(struct.pack("<ii", array.ndim, 0))
        tens.write(struct.pack(f"<{array.ndim}q", *array.shape))
        tens.write(struct.pack(f"<{array.ndim}q", *strides))
        tens.write(struct.pack("<q", 0))
    sys_info = py2_dumps({"protocol_version": 1001, "little_endian": True,
                          "type_sizes": {"short": 2, "int": 4, "long": 8}})
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("sys_info", sys_info), ("pickle", pickled),
                           ("storages", store.getvalue()), ("tensors", tens.getvalue())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def malicious_pickle(payload_path: str, how: str) -> bytes:
    """A protocol-2 pickle that creates `payload_path` if it is ever executed."""
    calls = {
        "os.system": Reduce(Global("os", "system"), (f"touch {payload_path}",)),
        "posix.system": Reduce(Global("posix", "system"), (f"touch {payload_path}",)),
        "builtins.open": Reduce(Global("builtins", "open"), (payload_path, "w")),
        "builtins.exec": Reduce(Global("builtins", "exec"),
                                (f"open({payload_path!r}, 'w').close()",)),
        "subprocess.call": Reduce(Global("subprocess", "call"),
                                  (["touch", payload_path],)),
    }
    # Buried in an otherwise ordinary state dict, after a tensor-free entry.
    return py2_dumps(collections.OrderedDict([("epoch", 3), ("state_dict", calls[how])]))


# --------------------------------------------------------------------------- caffe
def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    return _varint((number << 3) | wire) + payload


def _bytes_field(number: int, data: bytes) -> bytes:
    return _field(number, 2, _varint(len(data)) + data)


def _nested(number: int, parts: list) -> list:
    """A length-delimited field as a list of buffers (large blobs are not copied)."""
    size = sum(memoryview(p).nbytes for p in parts)
    return [_varint((number << 3) | 2) + _varint(size)] + parts


def _blob(array: np.ndarray, *, legacy_dims: bool, packed: bool, double: bool) -> list:
    parts = []
    if legacy_dims:
        dims = (1,) * (4 - array.ndim) + tuple(array.shape)
        for number, d in zip((1, 2, 3, 4), dims):
            parts.append(_field(number, 0, _varint(d)))
    else:
        parts.append(_bytes_field(7, _bytes_field(
            1, b"".join(_varint(d) for d in array.shape))))
    flat = array.reshape(-1)
    number, dtype, wire = (8, "<f8", 1) if double else (5, "<f4", 5)
    if packed:
        parts += _nested(number, [np.ascontiguousarray(flat, dtype=dtype).data])
    else:
        tag = _varint((number << 3) | wire)
        parts.extend(tag + v.tobytes() for v in flat.astype(dtype))
    return parts


def caffemodel_parts(blobs: dict, *, layout: str = "v2", legacy_dims: bool = False,
                     packed: bool = True, double: bool = False,
                     extra_layers: bool = True) -> list:
    """A binary NetParameter, as a list of buffers: one layer per entry of `blobs`
    ({name: [arrays]}), plus parameterless layers (input, ReLU) a reader must skip."""
    net = [_bytes_field(1, b"test_net")]
    layers = [(name, arrays) for name, arrays in blobs.items()]
    if extra_layers:
        layers = [("data", [])] + layers + [("relu_last", [])]
    for name, arrays in layers:
        bodies = [_blob(np.asarray(a), legacy_dims=legacy_dims, packed=packed,
                        double=double) for a in arrays]
        if layout == "v2":
            kind = "Convolution" if arrays else "ReLU"
            parts = [_bytes_field(1, name.encode()), _bytes_field(2, kind.encode()),
                     _bytes_field(3, b"bottom"), _bytes_field(4, b"top")]
            for body in bodies:
                parts += _nested(7, body)
            net += _nested(100, parts)
        else:
            enum = 4 if arrays else 18  # V1LayerParameter.LayerType CONVOLUTION, RELU
            parts = [_bytes_field(2, b"bottom"), _bytes_field(3, b"top"),
                     _bytes_field(4, name.encode()), _field(5, 0, _varint(enum))]
            for body in bodies:
                parts += _nested(6, body)
            net += _nested(2, parts)
    return net


def encode_caffemodel(blobs: dict, **kwargs) -> bytes:
    """`caffemodel_parts` joined into one bytes object."""
    return b"".join(caffemodel_parts(blobs, **kwargs))


def write_caffemodel(blobs: dict, path, **kwargs) -> None:
    with open(path, "wb") as f:
        f.writelines(caffemodel_parts(blobs, **kwargs))


def caffe_proto_classes(packed: bool = True):
    """NetParameter and friends as protobuf classes, from caffe.proto's field numbers
    (fyu/caffe-dilation src/caffe/proto/caffe.proto): the independent reference."""
    from google.protobuf import descriptor_pb2
    from google.protobuf import descriptor_pool
    from google.protobuf import message_factory

    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name=f"caffe_min_{packed}.proto",
                                             package=f"caffemin{int(packed)}")

    def message(name, fields):
        m = fdp.message_type.add(name=name)
        for fname, number, ftype, label, type_name in fields:
            f = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                f.type_name = f".{fdp.package}.{type_name}"
            if label == F.LABEL_REPEATED and ftype in (F.TYPE_FLOAT, F.TYPE_DOUBLE,
                                                       F.TYPE_INT64):
                f.options.packed = packed

    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    message("BlobShape", [("dim", 1, F.TYPE_INT64, rep, None)])
    message("BlobProto", [
        ("shape", 7, F.TYPE_MESSAGE, opt, "BlobShape"),
        ("data", 5, F.TYPE_FLOAT, rep, None), ("diff", 6, F.TYPE_FLOAT, rep, None),
        ("double_data", 8, F.TYPE_DOUBLE, rep, None),
        ("num", 1, F.TYPE_INT32, opt, None), ("channels", 2, F.TYPE_INT32, opt, None),
        ("height", 3, F.TYPE_INT32, opt, None), ("width", 4, F.TYPE_INT32, opt, None),
    ])
    message("LayerParameter", [
        ("name", 1, F.TYPE_STRING, opt, None), ("type", 2, F.TYPE_STRING, opt, None),
        ("bottom", 3, F.TYPE_STRING, rep, None), ("top", 4, F.TYPE_STRING, rep, None),
        ("blobs", 7, F.TYPE_MESSAGE, rep, "BlobProto"),
    ])
    message("V1LayerParameter", [
        ("bottom", 2, F.TYPE_STRING, rep, None), ("top", 3, F.TYPE_STRING, rep, None),
        ("name", 4, F.TYPE_STRING, opt, None), ("type", 5, F.TYPE_INT32, opt, None),
        ("blobs", 6, F.TYPE_MESSAGE, rep, "BlobProto"),
    ])
    message("NetParameter", [
        ("name", 1, F.TYPE_STRING, opt, None),
        ("layers", 2, F.TYPE_MESSAGE, rep, "V1LayerParameter"),
        ("layer", 100, F.TYPE_MESSAGE, rep, "LayerParameter"),
    ])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return {name: message_factory.GetMessageClass(
        pool.FindMessageTypeByName(f"{fdp.package}.{name}"))
        for name in ("NetParameter", "BlobProto")}


# --------------------------------------------------------------------------- checks
def _sample_state(rng):
    return collections.OrderedDict([
        ("conv.weight", rng.normal(size=(4, 3, 3, 3)).astype("float32")),
        ("bn.running_mean", rng.normal(size=4).astype("float32")),
        ("half", rng.normal(size=(2, 5)).astype("float16")),
        ("double", rng.normal(size=(3,)).astype("float64")),
        ("count", np.array(7, dtype="int64")),
    ])


@pytest.mark.torch
def test_py2_legacy_writer_is_read_by_torch(tmp_path, rng):
    torch = pytest.importorskip("torch")
    state = _sample_state(rng)
    path = tmp_path / "py2.pth"
    write_py2_legacy(state, path)
    loaded = torch.load(path, map_location="cpu", weights_only=False)
    assert list(loaded) == list(state)
    for key, value in state.items():
        assert np.array_equal(loaded[key].numpy(), value), key


@pytest.mark.torch
def test_tar_writer_is_read_by_torch(tmp_path, rng):
    torch = pytest.importorskip("torch")
    state = _sample_state(rng)
    path = tmp_path / "old.pth"
    write_tar(state, path)
    assert tarfile.is_tarfile(path)
    loaded = torch.load(path, map_location="cpu", weights_only=False)
    for key, value in state.items():
        assert np.array_equal(loaded[key].numpy(), value), key


def test_malicious_pickle_would_run_under_plain_pickle(tmp_path):
    """The payloads are live: a plain unpickler creates the file (so the refusal tests
    in test_weights_pth_reader.py test something real)."""
    target = tmp_path / "pwned"
    pickle.loads(malicious_pickle(str(target), "builtins.open"))
    assert target.exists()


@pytest.mark.parametrize("layout", ["v2", "v1"])
@pytest.mark.parametrize("legacy_dims,packed,double", [
    (False, True, False), (True, True, False), (False, False, False),
    (True, False, True),
])
def test_caffemodel_encoder_matches_protobuf(rng, layout, legacy_dims, packed, double):
    pytest.importorskip("google.protobuf")
    blobs = {"conv1": [rng.normal(size=(4, 3, 3, 3)).astype("float32"),
                       rng.normal(size=4).astype("float32")]}
    data = encode_caffemodel(blobs, layout=layout, legacy_dims=legacy_dims,
                             packed=packed, double=double)
    net = caffe_proto_classes(packed)["NetParameter"]()
    net.ParseFromString(data)
    layers = list(net.layer if layout == "v2" else net.layers)
    assert [layer.name for layer in layers] == ["data", "conv1", "relu_last"]
    weight, bias = layers[1].blobs
    values = weight.double_data if double else weight.data
    np.testing.assert_allclose(np.array(values), blobs["conv1"][0].reshape(-1),
                               rtol=1e-6)
    if legacy_dims:
        assert (weight.num, weight.channels, weight.height, weight.width) == (4, 3, 3, 3)
        assert (bias.num, bias.channels, bias.height, bias.width) == (1, 1, 1, 4)
    else:
        assert list(weight.shape.dim) == [4, 3, 3, 3]
        assert list(bias.shape.dim) == [4]
