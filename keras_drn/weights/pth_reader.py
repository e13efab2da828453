"""Reads PyTorch checkpoints (`.pth`, `.pth.tar`) with the standard library and numpy.

`torch.save` has written three containers over the years; all hold one pickle of the
object (a state dict) in which tensors refer to "storages" saved beside it:

- **tar** (PyTorch up to 0.1.9; torchvision's `resnet50-19c8e357.pth`, which DRN-A-50
  uses, is one): a tar archive with the members `sys_info`, `pickle`, `storages`
  (each storage's raw bytes) and `tensors` (each tensor's sizes, strides and offset).
- **legacy** (0.1.10 to 1.5, and `_use_new_zipfile_serialization=False` since): one
  stream of pickles -- a magic number, the protocol version 1001, `sys_info`, the object
  (storages as persistent ids), the sorted storage keys -- then every storage as an
  int64 element count and its raw bytes. The 2017 DRN releases are in this format.
- **zip** (1.6 and later): `<name>/data.pkl` and one record `<name>/data/<key>` per
  storage, in the byte order given by `<name>/byteorder`.

Unpickling never imports anything: a pickle names the globals it needs, and only the few
a state dict uses (OrderedDict, the tensor rebuild functions, storage and dtype names,
numpy scalars, and `_codecs.encode` for the bytes of those) are answered, each with an
object of this module. Any other global
(`os.system`, `builtins.eval`, a pickled `nn.Module` class, ...) stops the load with
`UnsafePickleError` before anything is called.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import tarfile
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

# torch/serialization.py: MAGIC_NUMBER and PROTOCOL_VERSION of the legacy stream.
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

# Storage class name -> element type. "bfloat16" has no numpy type: read as uint16 and
# widened to float32.
_STORAGE_DTYPES = {
    "DoubleStorage": "f8",
    "FloatStorage": "f4",
    "HalfStorage": "f2",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "i8",
    "IntStorage": "i4",
    "ShortStorage": "i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "b1",
    "UntypedStorage": "u1",
}
_TENSOR_TYPES = {name.replace("Storage", "Tensor") for name in _STORAGE_DTYPES}
# torch dtype names (torch.float32 pickles as the global `torch float32`).
_TORCH_DTYPES = {
    "float64": "f8", "double": "f8", "float32": "f4", "float": "f4",
    "float16": "f2", "half": "f2", "bfloat16": "bfloat16",
    "int64": "i8", "long": "i8", "int32": "i4", "int": "i4", "int16": "i2",
    "short": "i2", "int8": "i1", "uint8": "u1", "bool": "b1",
}
_NUMERIC_KINDS = "biuf"
_TEXT_ENCODINGS = ("latin1", "latin-1", "iso-8859-1", "utf-8", "utf8", "ascii")


class PthFormatError(ValueError):
    """The file is not a readable PyTorch checkpoint (corrupt, truncated, or a kind of
    content this reader does not handle)."""


class UnsafePickleError(PthFormatError):
    """The pickle asks for a global outside the allow-list; nothing was executed."""


# --------------------------------------------------------------------------- objects
@dataclass(frozen=True)
class _StorageType:
    name: str
    dtype: str


@dataclass(frozen=True)
class _Marker:  # tensor classes and torch dtypes: names only, never called
    name: str
    dtype: str | None = None


class _Storage:
    """A storage seen in the pickle; its bytes arrive later (legacy) or on demand."""

    __slots__ = ("key", "dtype", "numel", "data")

    def __init__(self, key: str, dtype: str, numel: int):
        self.key, self.dtype, self.numel = key, dtype, numel
        self.data: bytes | memoryview | None = None


@dataclass(frozen=True)
class _StorageView:
    storage: _Storage
    offset: int  # in elements of storage.dtype
    numel: int


@dataclass(frozen=True)
class _Tensor:
    view: _StorageView
    offset: int
    size: tuple
    stride: tuple
    dtype: str


def _itemsize(dtype: str) -> int:
    return 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize


def _check_int(value, what, source) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PthFormatError(f"{source}: expected an integer {what}, found {value!r}.")
    return value


def _check_ints(values, what, source) -> tuple:
    if not isinstance(values, (tuple, list)):
        raise PthFormatError(f"{source}: expected a tuple of {what}, found {values!r}.")
    return tuple(_check_int(v, what, source) for v in values)


# --------------------------------------------------------------------------- unpickler
class _Loader:
    """Per-file state: storages by key and the functions the allow-list hands out."""

    def __init__(self, source: str, byteorder: str = "little"):
        self.source = source
        self.byteorder = byteorder
        self.storages: dict[str, _Storage] = {}

    # The rebuild functions torch's pickles call (torch/_utils.py); they return lazy
    # tensors, materialised once the storages' bytes are known.
    def rebuild_tensor(self, storage, offset, size, stride, *unused):
        if isinstance(storage, _Storage):
            storage = _StorageView(storage, 0, storage.numel)
        if not isinstance(storage, _StorageView):
            raise PthFormatError(
                f"{self.source}: a tensor refers to {type(storage).__name__}, not a "
                f"storage."
            )
        return self._tensor(storage, offset, size, stride, storage.storage.dtype)

    def rebuild_tensor_v3(self, storage, offset, size, stride, requires_grad, hooks,
                          dtype, *unused):
        if not isinstance(dtype, _Marker) or dtype.dtype is None:
            raise PthFormatError(f"{self.source}: invalid tensor dtype {dtype!r}.")
        if isinstance(storage, _Storage):
            storage = _StorageView(storage, 0, storage.numel)
        return self._tensor(storage, offset, size, stride, dtype.dtype)

    def _tensor(self, view, offset, size, stride, dtype):
        size = _check_ints(size, "tensor size", self.source)
        stride = _check_ints(stride, "tensor stride", self.source)
        offset = _check_int(offset, "storage offset", self.source)
        if len(size) != len(stride):
            raise PthFormatError(f"{self.source}: tensor size {size} and stride {stride} "
                                 f"differ in length.")
        return _Tensor(view, offset, size, stride, dtype)

    def rebuild_parameter(self, data, requires_grad, hooks, *state):
        return data

    def rebuild_from_type(self, func, new_type, args, state):
        if func not in (self.rebuild_tensor, self.rebuild_tensor_v3) or not isinstance(
            new_type, _Marker
        ):
            raise PthFormatError(f"{self.source}: unexpected tensor subclass rebuild.")
        return func(*args)

    # numpy scalars (numbers such as best_prec1 that training scripts keep beside the
    # weights); numpy arrays are not needed and stay refused.
    def numpy_dtype(self, spec, *unused):
        dtype = np.dtype(spec)
        if dtype.kind not in _NUMERIC_KINDS:
            raise UnsafePickleError(
                f"{self.source}: numpy dtype {spec!r} is not numeric; refusing it."
            )
        return dtype

    def numpy_scalar(self, dtype, data=None):
        if not isinstance(dtype, np.dtype) or dtype.kind not in _NUMERIC_KINDS:
            raise UnsafePickleError(f"{self.source}: numpy scalar of {dtype!r} refused.")
        if isinstance(data, str):  # a Python 2 str read with encoding="latin1"
            data = data.encode("latin1")
        if not isinstance(data, bytes) or len(data) != dtype.itemsize:
            raise PthFormatError(f"{self.source}: malformed numpy scalar.")
        return np.frombuffer(data, dtype=dtype, count=1)[0]

    def codecs_encode(self, text, encoding="utf-8", *unused):
        # Python 3 pickles `bytes` with protocol 2 as _codecs.encode(str, "latin1")
        # (numpy scalars do); only plain text encodings are honoured.
        if not isinstance(text, str) or encoding not in _TEXT_ENCODINGS:
            raise UnsafePickleError(
                f"{self.source}: _codecs.encode with {encoding!r} refused."
            )
        return text.encode(encoding)

    def persistent_storage(self, storage_type, key, numel) -> _Storage:
        if not isinstance(storage_type, _StorageType):
            raise PthFormatError(
                f"{self.source}: a storage of type {storage_type!r}; expected a torch "
                f"storage class."
            )
        key = str(key)
        numel = _check_int(numel, "storage size", self.source)
        existing = self.storages.get(key)
        if existing is not None:
            if _itemsize(existing.dtype) * existing.numel != _itemsize(
                storage_type.dtype
            ) * numel:
                raise PthFormatError(f"{self.source}: storage {key} declared twice with "
                                     f"different sizes.")
            return existing
        storage = _Storage(key, storage_type.dtype, numel)
        self.storages[key] = storage
        return storage

    def find(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils":
            functions = {
                "_rebuild_tensor": self.rebuild_tensor,
                "_rebuild_tensor_v2": self.rebuild_tensor,
                "_rebuild_tensor_v3": self.rebuild_tensor_v3,
                "_rebuild_parameter": self.rebuild_parameter,
                "_rebuild_parameter_with_state": self.rebuild_parameter,
            }
            if name in functions:
                return functions[name]
        if (module, name) == ("torch._tensor", "_rebuild_from_type_v2"):
            return self.rebuild_from_type
        if module in ("torch", "torch.cuda") and name in _STORAGE_DTYPES:
            return _StorageType(name, _STORAGE_DTYPES[name])
        if module in ("torch", "torch.cuda") and name in _TENSOR_TYPES:
            return _Marker(name)
        if (module, name) in (("torch", "Tensor"), ("torch.nn.parameter", "Parameter")):
            return _Marker(name)
        if module == "torch" and name in _TORCH_DTYPES:
            return _Marker(name, _TORCH_DTYPES[name])
        if (module, name) == ("torch", "Size"):
            return tuple
        if (module, name) == ("_codecs", "encode"):
            return self.codecs_encode
        if module in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray"):
            if name == "dtype":
                return self.numpy_dtype
            if name == "scalar":
                return self.numpy_scalar
        raise UnsafePickleError(
            f"Refusing to load {self.source}: its pickle asks for the Python global "
            f"'{module}.{name}', which a PyTorch state dict never needs (it could run "
            f"code). Nothing from the file was executed. If the file holds a whole "
            f"pickled model or other objects and you trust it, re-save only the "
            f"weights in PyTorch: torch.save(model.state_dict(), 'weights.pth')."
        )


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, loader: _Loader, persistent=None):
        super().__init__(file, encoding="latin1")
        self._loader = loader
        self._persistent = persistent

    def find_class(self, module, name):
        return self._loader.find(module, name)

    def persistent_load(self, pid):
        if self._persistent is None:
            raise PthFormatError(
                f"{self._loader.source}: unexpected persistent id in a header pickle."
            )
        return self._persistent(pid)


def _unpickle(file, loader: _Loader, persistent=None):
    try:
        return _RestrictedUnpickler(file, loader, persistent).load()
    except PthFormatError:
        raise
    except Exception as error:  # noqa: BLE001  (any unpickling failure means corrupt)
        raise PthFormatError(
            f"{loader.source} is corrupt or truncated: its pickle could not be read "
            f"({type(error).__name__}: {error})."
        ) from None


# --------------------------------------------------------------------------- formats
def sniff_format(path: str) -> str | None:
    """"zip", "tar", "legacy" (a pickle stream) or None, from the first bytes."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "legacy"
    return None


def _read_exact(f, n: int, what: str, source: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise PthFormatError(
            f"{source} is truncated: {what} needs {n} bytes, only {len(data)} remain."
        )
    return data


def _read_storage_bytes(f, key: str, dtype: str, source: str, remaining: int) -> _Storage:
    """An int64 element count, then that many elements (torch's `_write_file`)."""
    (numel,) = struct.unpack("<q", _read_exact(f, 8, "a storage size", source))
    nbytes = numel * _itemsize(dtype)
    if numel < 0 or nbytes > remaining - 8:
        raise PthFormatError(
            f"{source} is truncated or corrupt: storage {key} claims {numel} elements."
        )
    storage = _Storage(key, dtype, numel)
    storage.data = _read_exact(f, nbytes, f"storage {key}", source)
    return storage


def _check_sys_info(sys_info, source: str) -> None:
    if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
        raise PthFormatError(
            f"{source} was written on a big-endian machine; re-save it with a current "
            f"PyTorch (which writes little-endian zip files)."
        )


def _read_legacy(path: str, loader: _Loader):
    source = loader.source

    def persistent(pid):
        if not isinstance(pid, tuple) or not pid:
            raise PthFormatError(f"{source}: malformed persistent id {pid!r}.")
        if pid[0] == "module":
            raise UnsafePickleError(
                f"Refusing to load {source}: it holds a pickled nn.Module (torch.save of "
                f"a whole model). Save `model.state_dict()` in PyTorch instead. Nothing "
                f"was executed."
            )
        if pid[0] != "storage" or len(pid) != 6:
            raise PthFormatError(f"{source}: unknown persistent id {pid[:1]!r}.")
        _, storage_type, root_key, _location, numel, view = pid
        storage = loader.persistent_storage(storage_type, root_key, numel)
        if view is None:
            return _StorageView(storage, 0, storage.numel)
        _view_key, offset, view_numel = view
        offset = _check_int(offset, "view offset", source)
        view_numel = _check_int(view_numel, "view size", source)
        if offset < 0 or view_numel < 0 or offset + view_numel > storage.numel:
            raise PthFormatError(f"{source}: a storage view lies outside its storage.")
        return _StorageView(storage, offset, view_numel)

    size = os.path.getsize(path)
    with open(path, "rb") as f:
        magic = _unpickle(f, loader)
        if magic != LEGACY_MAGIC:
            raise PthFormatError(
                f"{source} is not a PyTorch checkpoint: it is a pickle without torch's "
                f"magic number."
            )
        protocol = _unpickle(f, loader)
        if protocol != LEGACY_PROTOCOL:
            raise PthFormatError(f"{source}: unsupported PyTorch protocol {protocol!r}.")
        _check_sys_info(_unpickle(f, loader), source)
        obj = _unpickle(f, loader, persistent)
        keys = _unpickle(f, loader)
        if not isinstance(keys, list):
            raise PthFormatError(f"{source}: malformed storage key list.")
        for key in keys:
            storage = loader.storages.get(str(key))
            if storage is None:
                raise PthFormatError(f"{source}: storage {key} is not used by the pickle.")
            raw = _read_storage_bytes(f, storage.key, storage.dtype, source,
                                      size - f.tell())
            if raw.numel != storage.numel:
                raise PthFormatError(
                    f"{source}: storage {key} holds {raw.numel} elements, the pickle "
                    f"declares {storage.numel}."
                )
            storage.data = raw.data
    return obj


def _read_zip(path: str, loader: _Loader):
    source = loader.source
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise PthFormatError(f"{source} is a corrupt or truncated zip file ({error}).") \
            from None
    with archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            what = ("a TorchScript archive (torch.jit.save); save `model.state_dict()` "
                    "with torch.save instead" if any(n.endswith("/constants.pkl")
                                                     for n in names)
                    else "a zip file without a data.pkl record")
            raise PthFormatError(f"{source} is not a PyTorch checkpoint: it is {what}.")
        prefix = pickles[0][: -len("data.pkl")]
        try:
            if prefix + "byteorder" in names:
                loader.byteorder = archive.read(prefix + "byteorder").decode().strip()
            if loader.byteorder not in ("little", "big"):
                raise PthFormatError(f"{source}: unknown byte order {loader.byteorder!r}.")

            def persistent(pid):
                if not isinstance(pid, tuple) or len(pid) != 5 or pid[0] != "storage":
                    raise PthFormatError(f"{source}: malformed persistent id {pid!r}.")
                _, storage_type, key, _location, numel = pid
                storage = loader.persistent_storage(storage_type, key, numel)
                return _StorageView(storage, 0, storage.numel)

            obj = _unpickle(io.BytesIO(archive.read(pickles[0])), loader, persistent)
            for key, storage in loader.storages.items():
                name = f"{prefix}data/{key}"
                try:
                    info = archive.getinfo(name)
                except KeyError:
                    raise PthFormatError(f"{source}: the record {name} is missing.") \
                        from None
                nbytes = storage.numel * _itemsize(storage.dtype)
                if info.file_size != nbytes:
                    raise PthFormatError(
                        f"{source}: record {name} holds {info.file_size} bytes, the "
                        f"pickle declares {nbytes}."
                    )
                storage.data = archive.read(name)
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise PthFormatError(f"{source} is corrupt or truncated ({error}).") from None
    return obj


def _read_tar(path: str, loader: _Loader):
    source = loader.source
    objects: dict[int, Any] = {}
    try:
        archive = tarfile.open(path, mode="r:")
    except tarfile.TarError as error:
        raise PthFormatError(f"{source} is a corrupt tar file ({error}).") from None
    try:
        with archive:
            def member(name):
                try:
                    info = archive.getmember(name)
                except KeyError:
                    raise PthFormatError(
                        f"{source} is a tar file without the member {name!r}: not a "
                        f"PyTorch checkpoint."
                    ) from None
                return archive.extractfile(info), info.size

            f, _ = member("sys_info")
            _check_sys_info(_unpickle(f, loader), source)

            f, size = member("storages")
            count = _check_int(_unpickle(f, loader), "storage count", source)
            for _ in range(count):
                entry = _unpickle(f, loader)
                if not isinstance(entry, tuple) or len(entry) != 3:
                    raise PthFormatError(f"{source}: malformed storage entry.")
                key, _location, storage_type = entry
                key = _check_int(key, "storage key", source)
                if not isinstance(storage_type, _StorageType):
                    raise PthFormatError(f"{source}: storage {key} has no storage type.")
                storage = _read_storage_bytes(f, str(key), storage_type.dtype, source,
                                              size - f.tell())
                objects[key] = _StorageView(storage, 0, storage.numel)
            for target, root, offset, numel in _unpickle(f, loader):
                base = objects.get(root)
                if not isinstance(base, _StorageView) or offset < 0 or numel < 0 or (
                    offset + numel > base.numel
                ):
                    raise PthFormatError(f"{source}: invalid storage view {target}.")
                objects[target] = _StorageView(base.storage, base.offset + offset, numel)

            f, _ = member("tensors")
            count = _check_int(_unpickle(f, loader), "tensor count", source)
            for _ in range(count):
                entry = _unpickle(f, loader)
                if not isinstance(entry, tuple) or len(entry) != 3:
                    raise PthFormatError(f"{source}: malformed tensor entry.")
                key, storage_id, _tensor_type = entry
                view = objects.get(storage_id)
                if not isinstance(view, _StorageView):
                    raise PthFormatError(f"{source}: tensor {key} has no storage.")
                (ndim,) = struct.unpack("<i", _read_exact(f, 4, "a tensor header", source))
                _read_exact(f, 4, "a tensor header", source)  # ndim was an 8-byte field
                if not 0 <= ndim <= 64:
                    raise PthFormatError(f"{source}: tensor {key} has {ndim} dimensions.")
                fmt = f"<{ndim}q"
                sizes = struct.unpack(fmt, _read_exact(f, 8 * ndim, "sizes", source))
                strides = struct.unpack(fmt, _read_exact(f, 8 * ndim, "strides", source))
                (offset,) = struct.unpack("<q", _read_exact(f, 8, "an offset", source))
                objects[key] = _Tensor(view, offset, sizes, strides, view.storage.dtype)

            def persistent(pid):
                if isinstance(pid, tuple):
                    raise UnsafePickleError(
                        f"Refusing to load {source}: it holds a pickled nn.Module. Save "
                        f"`model.state_dict()` in PyTorch instead. Nothing was executed."
                    )
                try:
                    return objects[int(pid)]
                except (KeyError, ValueError):
                    raise PthFormatError(f"{source}: unknown object {pid!r}.") from None

            f, _ = member("pickle")
            return _unpickle(f, loader, persistent)
    except (tarfile.TarError, OSError, EOFError, struct.error) as error:
        raise PthFormatError(f"{source} is corrupt or truncated ({error}).") from None


# --------------------------------------------------------------------------- arrays
def _storage_array(storage: _Storage, byteorder: str, source: str) -> np.ndarray:
    if storage.data is None:
        raise PthFormatError(f"{source}: the bytes of storage {storage.key} are missing.")
    order = "<" if byteorder == "little" else ">"
    if storage.dtype == "bfloat16":
        raw = np.frombuffer(storage.data, dtype=order + "u2").astype(np.uint32)
        return (raw << 16).view(np.float32)
    dtype = np.dtype(storage.dtype).newbyteorder(order)
    array = np.frombuffer(storage.data, dtype=dtype)
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))


def _tensor_array(tensor: _Tensor, cache: dict, byteorder: str, source: str) -> np.ndarray:
    view = tensor.view
    storage = view.storage
    if tensor.dtype != storage.dtype:
        # _rebuild_tensor_v3 on an untyped (byte) storage: reinterpret the view's bytes.
        scale = _itemsize(storage.dtype)
        raw = bytes(storage.data or b"")[view.offset * scale:
                                        (view.offset + view.numel) * scale]
        item = _itemsize(tensor.dtype)
        retyped = _Storage(storage.key, tensor.dtype, len(raw) // item)
        retyped.data = raw[: retyped.numel * item]
        base, numel = _storage_array(retyped, byteorder, source), retyped.numel
    else:
        if storage.key not in cache:
            cache[storage.key] = _storage_array(storage, byteorder, source)
        base = cache[storage.key][view.offset: view.offset + view.numel]
        numel = view.numel
    size, stride, offset = tensor.size, tensor.stride, tensor.offset
    if any(s < 0 for s in size) or any(s < 0 for s in stride) or offset < 0:
        raise PthFormatError(f"{source}: a tensor has a negative size, stride or offset.")
    if 0 in size:
        return np.zeros(size, dtype=base.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= numel:
        raise PthFormatError(
            f"{source}: a tensor of size {size} (stride {stride}, offset {offset}) "
            f"reaches past its storage of {numel} elements."
        )
    item = base.dtype.itemsize
    view_array = np.lib.stride_tricks.as_strided(
        base[offset:], shape=size, strides=[s * item for s in stride], writeable=False
    )
    return np.array(view_array, copy=True, order="C")


def _materialize(obj, cache, byteorder, source, depth=0):
    if depth > 100:
        raise PthFormatError(f"{source}: the object nests too deeply.")
    if isinstance(obj, _Tensor):
        return _tensor_array(obj, cache, byteorder, source)
    if isinstance(obj, _StorageView):
        whole = _Tensor(obj, 0, (obj.numel,), (1,), obj.storage.dtype)
        return _tensor_array(whole, cache, byteorder, source)
    if isinstance(obj, dict):
        items = [(k, _materialize(v, cache, byteorder, source, depth + 1))
                 for k, v in obj.items()]
        return type(obj)(items) if isinstance(obj, collections.OrderedDict) else dict(items)
    if isinstance(obj, list):
        return [_materialize(v, cache, byteorder, source, depth + 1) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_materialize(v, cache, byteorder, source, depth + 1) for v in obj)
    if isinstance(obj, (_Marker, _StorageType)) or callable(obj):
        raise PthFormatError(f"{source}: the object contains {obj!r}, not data.")
    return obj


def read_pth(path: str | os.PathLike) -> Any:
    """Reads a PyTorch checkpoint without PyTorch.

    Args:
        path: a file written by `torch.save` (any PyTorch version since 2017: tar,
            legacy or zip container).

    Returns:
        The saved object with every tensor replaced by a C-contiguous numpy array of
        the same dtype (bfloat16 becomes float32): usually a dict of name -> array, or
        a dict that wraps one (`{"state_dict": ..., "epoch": ...}`).

    Raises:
        UnsafePickleError: the pickle names a global outside the allow-list (nothing
            was executed).
        PthFormatError: the file is corrupt, truncated or not a PyTorch checkpoint.
    """
    path = os.fspath(path)
    source = repr(path)
    if not os.path.isfile(path):
        raise PthFormatError(f"{source} is not a file.")
    kind = sniff_format(path)
    loader = _Loader(source)
    if kind == "zip":
        obj = _read_zip(path, loader)
    elif kind == "tar":
        obj = _read_tar(path, loader)
    elif kind == "legacy":
        obj = _read_legacy(path, loader)
    else:
        raise PthFormatError(
            f"{source} is not a PyTorch checkpoint: it is neither a zip, a tar nor a "
            f"pickle stream (torch.save's three formats)."
        )
    return _materialize(obj, {}, loader.byteorder, source)
