"""Registering keras_drn's Keras objects without making `import keras_drn` heavy.

`keras.models.load_model` and keras-hub's `from_preset` find a custom class only if its
module has run `register_keras_serializable` first. `import keras_drn` arranges that:
if Keras is already imported, the model modules are imported (and so registered) at
once; otherwise a one-shot import hook registers them right after Keras itself
finishes importing. So `import keras, keras_drn` and `import keras_drn, keras` both
reload every model the package saves, while LiteRT inference
(`keras_drn.export.runtime`) and the fact tables (`keras_drn.meta`) still import
neither Keras nor TensorFlow.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading

# Every module that defines a registered class (the layers, initialisers, backbones,
# preprocessors, segmenters and metrics).
MODULES = (
    "keras_drn.layers",
    "keras_drn.models",
    "keras_drn.training.optimizers",
    "keras_drn.training.schedules",
)
# Registration waits until none of these is half-way through its own import.
_TRIGGERS = ("keras", "keras_hub", "tensorflow")
_lock = threading.Lock()
_state = {"registered": False, "pending": False}


def _initialising(name: str) -> bool:
    module = sys.modules.get(name)
    if module is None:
        return False
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def register_all() -> None:
    """Imports every module of keras_drn that registers Keras objects (idempotent)."""
    with _lock:
        if _state["registered"] or _state["pending"]:
            return
        _state["pending"] = True
    try:
        for module in MODULES:
            importlib.import_module(module)
        _state["registered"] = True
    finally:
        _state["pending"] = False


def _ready() -> bool:
    """Keras is loaded, and neither a trigger package nor a keras_drn module is half-way
    through its import (registration imports both kinds)."""
    if "keras" not in sys.modules:
        return False
    busy = [n for n in list(sys.modules)
            if n in _TRIGGERS or n.startswith("keras_drn.")]
    return not any(_initialising(n) for n in busy)


def _watched(fullname: str) -> bool:
    return fullname in _TRIGGERS or (
        fullname.startswith("keras_drn.") and fullname != __name__)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Wraps the loaders of Keras, keras-hub, TensorFlow and keras_drn's own modules so
    that `register_all` runs when the outermost of those imports completes (Keras may
    first be imported from inside a keras_drn module)."""

    def find_spec(self, fullname, path=None, target=None):
        if _state["registered"] or not _watched(fullname):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            # Mark this module done before registering (the import system resets the
            # flag only after this returns).
            spec._initializing = False
            if not _state["registered"] and _ready():
                register_all()

        spec.loader = _Loader(loader, exec_then_register)
        return spec


class _Loader(importlib.abc.Loader):
    def __init__(self, loader, exec_module):
        self._loader = loader
        self._exec_module = exec_module

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._exec_module(module)

    def __getattr__(self, name):  # get_resource_reader, is_package, ...
        return getattr(self._loader, name)


def install() -> None:
    """Registers now if Keras is loaded, else once it is."""
    if _ready():
        register_all()
        return
    if not any(isinstance(f, _AfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport())
