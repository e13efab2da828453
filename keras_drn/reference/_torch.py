"""The one place keras_drn.reference imports PyTorch, which is optional.

PyTorch is not a dependency of keras_drn (it is in the `test` extra). The reference
modules get it from `require_torch`, so that a missing install gives one clear message.
"""

from __future__ import annotations

import importlib.util
import sys

INSTALL_HINT = (
    "keras_drn.reference is a PyTorch port of the reference networks and needs "
    "PyTorch, which is not installed: pip install torch (or pip install "
    "'keras-drn[test]')."
)


def torch_available() -> bool:
    """Whether PyTorch is installed, found without importing it.

    Returns:
        True when the `torch` package can be imported.
    """
    if "torch" in sys.modules:
        return sys.modules["torch"] is not None  # None: imports of torch are blocked
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def require_torch():
    """Imports PyTorch, or says how to install it.

    Returns:
        The `torch` module.

    Raises:
        ImportError: PyTorch is not installed; the message says `pip install torch`.
    """
    try:
        import torch
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return torch
