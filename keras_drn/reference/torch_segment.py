"""segment.py's DRNSeg in PyTorch, around a backbone of `torch_drn`.

Part of the independent port of fyu/drn (see `keras_drn.reference.torch_drn`):
`base` is the classifier's children without `avgpool` and `fc` (so a state dict has
the Cityscapes checkpoints' `base.*` keys), `seg` is initialised as segment.py:92-98
does, `up` is the frozen bilinear x8 transposed convolution of `fill_up_weights`, and
`forward` returns segment.py's pair (log-softmax of the upsampled logits, stride-8
logits).

Example:

```python
import torch
from keras_drn import reference

seg = reference.TorchDRNSeg(reference.build("drn_d_22"), 19).eval()
log_probabilities, stride8_logits = seg(torch.zeros(1, 3, 64, 96))
```
"""

from __future__ import annotations

import math

from keras_drn.reference._torch import require_torch
from keras_drn.reference.torch_drn import he_fan_out

torch = require_torch()
nn = torch.nn


def bilinear_filter(size):
    """segment.py's `fill_up_weights` kernel (Caffe's bilinear filler), size x size.

    Args:
        size: the kernel size (16 for the x8 upsampling).

    Returns:
        A float32 tensor [size, size].
    """
    f = math.ceil(size / 2)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    ramp = torch.tensor([1 - abs(i / f - c) for i in range(size)])
    return ramp[:, None] * ramp[None, :]


class TorchDRNSeg(nn.Module):
    """segment.py's `DRNSeg` (segment.py:81-119) around a backbone of `torch_drn`.

    Args:
        backbone: a `TorchDRN` or `TorchDRNA` with its classifier (segment.py builds
            it with 1000 classes; `base` keeps its children but `avgpool` and `fc`).
        classes: output classes.

    Call: `net(x)` with x [N, 3, H, W] returns segment.py's pair
    `(log_probabilities, logits)`: the log-softmax over classes of the x8 upsampled
    logits [N, classes, 8*ceil(H/8), 8*ceil(W/8)], and the stride-8 logits of `seg`
    [N, classes, ceil(H/8), ceil(W/8)].
    """

    def __init__(self, backbone, classes):
        super().__init__()
        self.base = nn.Sequential(*list(backbone.children())[:-2])
        self.seg = nn.Conv2d(backbone.out_dim, classes, 1, bias=True)
        self.softmax = nn.LogSoftmax(dim=1)  # segment.py's LogSoftmax() picks dim 1
        he_fan_out(self.seg)
        self.seg.bias.data.zero_()
        self.up = nn.ConvTranspose2d(classes, classes, 16, stride=8, padding=4,
                                     output_padding=0, groups=classes, bias=False)
        with torch.no_grad():
            self.up.weight.copy_(bilinear_filter(16).expand(classes, 1, 16, 16))
        self.up.weight.requires_grad = False

    def forward(self, x):
        x = self.seg(self.base(x))
        return self.softmax(self.up(x)), x
