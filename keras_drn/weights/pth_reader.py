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

Unpickling never imports anything (`keras_drn.weights.pth_unpickler`): only the few
globals a state dict uses are answered; any other global (`os.system`, `builtins.eval`,
a pickled `nn.Module` class, ...) stops the load with `UnsafePickleError` before
anything is called.
"""

from __future__ import annotations

import collections
import io
import os
import struct
import tarfile
import zipfile
from typing import Any

import numpy as np

from keras_drn.weights.pth_unpickler import Loader
from keras_drn.weights.pth_unpickler import Marker
from keras_drn.weights.pth_unpickler import PthFormatError
from keras_drn.weights.pth_unpickler import Storage
from keras_drn.weights.pth_unpickler import StorageType
from keras_drn.weights.pth_unpickler import StorageView
from keras_drn.weights.pth_unpickler import Tensor
from keras_drn.weights.pth_unpickler import UnsafePickleError
from keras_drn.weights.pth_unpickler import check_int
from keras_drn.weights.pth_unpickler import itemsize
from keras_drn.weights.pth_unpickler import unpickle

__all__ = ["LEGACY_MAGIC", "LEGACY_PROTOCOL", "PthFormatError", "UnsafePickleError",
           "read_pth", "sniff_format"]

# torch/serialization.py: MAGIC_NUMBER and PROTOCOL_VERSION of the legacy stream.
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


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


def _read_storage_bytes(f, key: str, dtype: str, source: str, remaining: int) -> Storage:
    """An int64 element count, then that many elements (torch's `_write_file`)."""
    (numel,) = struct.unpack("<q", _read_exact(f, 8, "a storage size", source))
    nbytes = numel * itemsize(dtype)
    if numel < 0 or nbytes > remaining - 8:
        raise PthFormatError(
            f"{source} is truncated or corrupt: storage {key} claims {numel} elements."
        )
    storage = Storage(key, dtype, numel)
    storage.data = _read_exact(f, nbytes, f"storage {key}", source)
    return storage


def _check_sys_info(sys_info, source: str) -> None:
    if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
        raise PthFormatError(
            f"{source} was written on a big-endian machine; re-save it with a current "
            f"PyTorch (which writes little-endian zip files)."
        )


def _read_legacy(path: str, loader: Loader):
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
            return StorageView(storage, 0, storage.numel)
        _view_key, offset, view_numel = view
        offset = check_int(offset, "view offset", source)
        view_numel = check_int(view_numel, "view size", source)
        if offset < 0 or view_numel < 0 or offset + view_numel > storage.numel:
            raise PthFormatError(f"{source}: a storage view lies outside its storage.")
        return StorageView(storage, offset, view_numel)

    size = os.path.getsize(path)
    with open(path, "rb") as f:
        magic = unpickle(f, loader)
        if magic != LEGACY_MAGIC:
            raise PthFormatError(
                f"{source} is not a PyTorch checkpoint: it is a pickle without torch's "
                f"magic number."
            )
        protocol = unpickle(f, loader)
        if protocol != LEGACY_PROTOCOL:
            raise PthFormatError(f"{source}: unsupported PyTorch protocol {protocol!r}.")
        _check_sys_info(unpickle(f, loader), source)
        obj = unpickle(f, loader, persistent)
        keys = unpickle(f, loader)
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


def _read_zip(path: str, loader: Loader):
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
                return StorageView(storage, 0, storage.numel)

            obj = unpickle(io.BytesIO(archive.read(pickles[0])), loader, persistent)
            for key, storage in loader.storages.items():
                name = f"{prefix}data/{key}"
                try:
                    info = archive.getinfo(name)
                except KeyError:
                    raise PthFormatError(f"{source}: the record {name} is missing.") \
                        from None
                nbytes = storage.numel * itemsize(storage.dtype)
                if info.file_size != nbytes:
                    raise PthFormatError(
                        f"{source}: record {name} holds {info.file_size} bytes, the "
                        f"pickle declares {nbytes}."
                    )
                storage.data = archive.read(name)
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise PthFormatError(f"{source} is corrupt or truncated ({error}).") from None
    return obj


def _entries(f, loader: Loader, what: str):
    """The entries of a tar member: a pickled count, then that many pickled 3-tuples
    (torch's legacy `_save` writes the storages and the tensors so)."""
    count = check_int(unpickle(f, loader), f"{what} count", loader.source)
    for _ in range(count):
        entry = unpickle(f, loader)
        if not isinstance(entry, tuple) or len(entry) != 3:
            raise PthFormatError(f"{loader.source}: malformed {what} entry.")
        yield entry


def _read_tar(path: str, loader: Loader):
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
            _check_sys_info(unpickle(f, loader), source)

            f, size = member("storages")
            for key, _location, storage_type in _entries(f, loader, "storage"):
                key = check_int(key, "storage key", source)
                if not isinstance(storage_type, StorageType):
                    raise PthFormatError(f"{source}: storage {key} has no storage type.")
                storage = _read_storage_bytes(f, str(key), storage_type.dtype, source,
                                              size - f.tell())
                objects[key] = StorageView(storage, 0, storage.numel)
            for target, root, offset, numel in unpickle(f, loader):
                base = objects.get(root)
                if not isinstance(base, StorageView) or offset < 0 or numel < 0 or (
                    offset + numel > base.numel
                ):
                    raise PthFormatError(f"{source}: invalid storage view {target}.")
                objects[target] = StorageView(base.storage, base.offset + offset, numel)

            f, _ = member("tensors")
            for key, storage_id, _tensor_type in _entries(f, loader, "tensor"):
                view = objects.get(storage_id)
                if not isinstance(view, StorageView):
                    raise PthFormatError(f"{source}: tensor {key} has no storage.")
                (ndim,) = struct.unpack("<i", _read_exact(f, 4, "a tensor header", source))
                _read_exact(f, 4, "a tensor header", source)  # ndim was an 8-byte field
                if not 0 <= ndim <= 64:
                    raise PthFormatError(f"{source}: tensor {key} has {ndim} dimensions.")
                fmt = f"<{ndim}q"
                sizes = struct.unpack(fmt, _read_exact(f, 8 * ndim, "sizes", source))
                strides = struct.unpack(fmt, _read_exact(f, 8 * ndim, "strides", source))
                (offset,) = struct.unpack("<q", _read_exact(f, 8, "an offset", source))
                objects[key] = Tensor(view, offset, sizes, strides, view.storage.dtype)

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
            return unpickle(f, loader, persistent)
    except (tarfile.TarError, OSError, EOFError, struct.error) as error:
        raise PthFormatError(f"{source} is corrupt or truncated ({error}).") from None


# --------------------------------------------------------------------------- arrays
def _storage_array(storage: Storage, byteorder: str, source: str) -> np.ndarray:
    if storage.data is None:
        raise PthFormatError(f"{source}: the bytes of storage {storage.key} are missing.")
    order = "<" if byteorder == "little" else ">"
    if storage.dtype == "bfloat16":
        raw = np.frombuffer(storage.data, dtype=order + "u2").astype(np.uint32)
        return (raw << 16).view(np.float32)
    dtype = np.dtype(storage.dtype).newbyteorder(order)
    array = np.frombuffer(storage.data, dtype=dtype)
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))


def _tensor_array(tensor: Tensor, cache: dict, byteorder: str, source: str) -> np.ndarray:
    view = tensor.view
    storage = view.storage
    if tensor.dtype != storage.dtype:
        # _rebuild_tensor_v3 on an untyped (byte) storage: reinterpret the view's bytes.
        scale = itemsize(storage.dtype)
        raw = bytes(storage.data or b"")[view.offset * scale:
                                        (view.offset + view.numel) * scale]
        item = itemsize(tensor.dtype)
        retyped = Storage(storage.key, tensor.dtype, len(raw) // item)
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
    if isinstance(obj, Tensor):
        return _tensor_array(obj, cache, byteorder, source)
    if isinstance(obj, StorageView):
        whole = Tensor(obj, 0, (obj.numel,), (1,), obj.storage.dtype)
        return _tensor_array(whole, cache, byteorder, source)
    if isinstance(obj, dict):
        items = [(k, _materialize(v, cache, byteorder, source, depth + 1))
                 for k, v in obj.items()]
        return type(obj)(items) if isinstance(obj, collections.OrderedDict) else dict(items)
    if isinstance(obj, list):
        return [_materialize(v, cache, byteorder, source, depth + 1) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_materialize(v, cache, byteorder, source, depth + 1) for v in obj)
    if isinstance(obj, (Marker, StorageType)) or callable(obj):
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
    loader = Loader(source)
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
