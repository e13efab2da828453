"""Lazy package attributes (PEP 562), so that light entry points stay light: the fact
tables, the weights registry and LiteRT inference import neither Keras nor TensorFlow.
"""

from __future__ import annotations

import importlib


def lazy_exports(package: str, exports: dict[str, str]):
    """Returns `(__getattr__, __dir__, __all__)` for `package`, importing
    `exports[name]` (a module path) on first access of `name`."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str):  # noqa: N807
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later lookups skip __getattr__
        return value

    def __dir__():  # noqa: N807
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__, sorted(exports)
