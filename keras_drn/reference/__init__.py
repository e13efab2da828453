"""The reference networks in PyTorch, to measure keras_drn against.

An independent PyTorch port of fyu/drn's DRN and DRN-A (`torch_drn`), DRNSeg
(`torch_segment`) and of fyu/dilation's front end and context module
(`torch_dilation`), faithful to the authors' code: their module names (so state dicts
have the checkpoints' keys), their initialisation, their heads and outputs. `parity`
loads a checkpoint into it and into a keras_drn model and measures the difference, for
`keras-drn-convert`, `keras-drn-preset`, the tests and the benchmarks.

PyTorch is optional: `import keras_drn.reference` works without it, and the first use of
a network raises an ImportError that says `pip install torch`.

Example:

```python
from keras_drn import reference

if reference.torch_available():
    net = reference.build("drn_d_22", classes=19).eval()
    seg = reference.TorchDRNSeg(reference.build("drn_d_22"), 19)
```
"""

from keras_drn._lazy import lazy_exports
from keras_drn.reference._torch import INSTALL_HINT  # noqa: F401  (re-exported)
from keras_drn.reference._torch import require_torch  # noqa: F401  (re-exported)
from keras_drn.reference._torch import torch_available  # noqa: F401  (re-exported)

_DRN = "keras_drn.reference.torch_drn"
_EXPORTS = {
    "BLOCKS": _DRN,
    "BasicBlock": _DRN,
    "Bottleneck": _DRN,
    "CHANNELS": _DRN,
    "LAYERS": _DRN,
    "PAPER_ONLY": _DRN,
    "TorchDRN": _DRN,
    "TorchDRNA": _DRN,
    "TorchDRNSeg": "keras_drn.reference.torch_segment",
    "bilinear_filter": "keras_drn.reference.torch_segment",
    "build": _DRN,
    "randomize_bn": _DRN,
    "TorchDilation": "keras_drn.reference.torch_dilation",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted([*__all__, "INSTALL_HINT", "require_torch", "torch_available"])
