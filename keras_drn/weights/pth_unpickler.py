"""The safe unpickler behind `keras_drn.weights.pth_reader`: the objects a PyTorch state
dict's pickle may name, and nothing else.

Unpickling never imports anything: a pickle names the globals it needs, and only the few
a state dict uses (OrderedDict, the tensor rebuild functions, storage and dtype names,
numpy scalars, and `_codecs.encode` for the bytes of those) are answered, each with an
object of this module. Any other global (`os.system`, `builtins.eval`, a pickled
`nn.Module` class, ...) stops the load with `UnsafePickleError` before anything is
called. Tensors come out lazy (`Tensor`: a storage view, size, stride and offset); the
reader fills in the storages' bytes and makes the arrays.
"""

from __future__ import annotations

import collections
import pickle
from dataclasses import dataclass

import numpy as np

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
class StorageType:
    name: str
    dtype: str


@dataclass(frozen=True)
class Marker:  # tensor classes and torch dtypes: names only, never called
    name: str
    dtype: str | None = None


class Storage:
    """A storage seen in the pickle; its bytes arrive later (legacy) or on demand."""

    __slots__ = ("key", "dtype", "numel", "data")

    def __init__(self, key: str, dtype: str, numel: int):
        self.key, self.dtype, self.numel = key, dtype, numel
        self.data: bytes | memoryview | None = None


@dataclass(frozen=True)
class StorageView:
    storage: Storage
    offset: int  # in elements of storage.dtype
    numel: int


@dataclass(frozen=True)
class Tensor:
    view: StorageView
    offset: int
    size: tuple
    stride: tuple
    dtype: str


def itemsize(dtype: str) -> int:
    """Bytes per element of a storage dtype ("f4", "bfloat16", ...)."""
    return 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize


def check_int(value, what, source) -> int:
    """`value` if it is an int (not a bool); PthFormatError naming `what` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PthFormatError(f"{source}: expected an integer {what}, found {value!r}.")
    return value


def check_ints(values, what, source) -> tuple:
    """`values` as a tuple of ints (`check_int` each)."""
    if not isinstance(values, (tuple, list)):
        raise PthFormatError(f"{source}: expected a tuple of {what}, found {values!r}.")
    return tuple(check_int(v, what, source) for v in values)


# --------------------------------------------------------------------------- unpickler
class Loader:
    """Per-file state: storages by key and the functions the allow-list hands out.

    Args:
        source: the file's name in messages.
        byteorder: "little" or "big", of the storages' bytes.
    """

    def __init__(self, source: str, byteorder: str = "little"):
        self.source = source
        self.byteorder = byteorder
        self.storages: dict[str, Storage] = {}

    # The rebuild functions torch's pickles call (torch/_utils.py); they return lazy
    # tensors, materialised once the storages' bytes are known.
    def rebuild_tensor(self, storage, offset, size, stride, *unused):
        if isinstance(storage, Storage):
            storage = StorageView(storage, 0, storage.numel)
        if not isinstance(storage, StorageView):
            raise PthFormatError(
                f"{self.source}: a tensor refers to {type(storage).__name__}, not a "
                f"storage."
            )
        return self._tensor(storage, offset, size, stride, storage.storage.dtype)

    def rebuild_tensor_v3(self, storage, offset, size, stride, requires_grad, hooks,
                          dtype, *unused):
        if not isinstance(dtype, Marker) or dtype.dtype is None:
            raise PthFormatError(f"{self.source}: invalid tensor dtype {dtype!r}.")
        if isinstance(storage, Storage):
            storage = StorageView(storage, 0, storage.numel)
        return self._tensor(storage, offset, size, stride, dtype.dtype)

    def _tensor(self, view, offset, size, stride, dtype):
        size = check_ints(size, "tensor size", self.source)
        stride = check_ints(stride, "tensor stride", self.source)
        offset = check_int(offset, "storage offset", self.source)
        if len(size) != len(stride):
            raise PthFormatError(f"{self.source}: tensor size {size} and stride {stride} "
                                 f"differ in length.")
        return Tensor(view, offset, size, stride, dtype)

    def rebuild_parameter(self, data, requires_grad, hooks, *state):
        return data

    def rebuild_from_type(self, func, new_type, args, state):
        if func not in (self.rebuild_tensor, self.rebuild_tensor_v3) or not isinstance(
            new_type, Marker
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

    def persistent_storage(self, storage_type, key, numel) -> Storage:
        if not isinstance(storage_type, StorageType):
            raise PthFormatError(
                f"{self.source}: a storage of type {storage_type!r}; expected a torch "
                f"storage class."
            )
        key = str(key)
        numel = check_int(numel, "storage size", self.source)
        existing = self.storages.get(key)
        if existing is not None:
            if itemsize(existing.dtype) * existing.numel != itemsize(
                storage_type.dtype
            ) * numel:
                raise PthFormatError(f"{self.source}: storage {key} declared twice with "
                                     f"different sizes.")
            return existing
        storage = Storage(key, storage_type.dtype, numel)
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
            return StorageType(name, _STORAGE_DTYPES[name])
        if module in ("torch", "torch.cuda") and name in _TENSOR_TYPES:
            return Marker(name)
        if (module, name) in (("torch", "Tensor"), ("torch.nn.parameter", "Parameter")):
            return Marker(name)
        if module == "torch" and name in _TORCH_DTYPES:
            return Marker(name, _TORCH_DTYPES[name])
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
    def __init__(self, file, loader: Loader, persistent=None):
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


def unpickle(file, loader: Loader, persistent=None):
    """One pickle from `file`, answered by `loader`'s allow-list.

    Args:
        file: a binary file positioned at the pickle.
        loader: the file's `Loader`.
        persistent: the function that resolves persistent ids (storages), or None
            where the pickle may hold none.

    Raises:
        UnsafePickleError: a global outside the allow-list.
        PthFormatError: anything else that stops the pickle from loading.
    """
    try:
        return _RestrictedUnpickler(file, loader, persistent).load()
    except PthFormatError:
        raise
    except Exception as error:  # noqa: BLE001  (any unpickling failure means corrupt)
        raise PthFormatError(
            f"{loader.source} is corrupt or truncated: its pickle could not be read "
            f"({type(error).__name__}: {error})."
        ) from None
