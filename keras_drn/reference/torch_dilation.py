"""fyu/dilation's deploy networks in PyTorch, as Caffe runs them.

An independent port of the front end and context module of Yu & Koltun (ICLR 2016),
written from fyu/dilation's network.py and deploy prototxts: BGR input with the mean
removed, VGG-16 convolutions without padding, ceil-mode 2x2 max pooling after blocks 1-3
(pool4 and pool5 removed), conv5 dilated by 2, fc6 a 7x7 convolution dilated by 4, the
context module, and for Dilation10 the grouped x8 bilinear deconvolution. Parameters
are addressed by Caffe layer names (`blobs`, `load_blobs`).

Example:

```python
import torch
from keras_drn import reference

net = reference.TorchDilation(11, 7).eval()            # KITTI's Dilation7
logits = net(torch.zeros(1, 3, 452, 452))              # BGR, mean removed
```
"""

from __future__ import annotations

from keras_drn.reference._torch import require_torch
from keras_drn.reference.torch_segment import bilinear_filter

torch = require_torch()
nn = torch.nn

# The large context module's channel multipliers (dilation8_pascal_voc_deploy).
LARGE_MULTIPLIERS = (2, 2, 4, 8, 16, 32, 32, 1)


class TorchDilation(nn.Module):
    """A Dilation network: the front end, the context module and, optionally, the x8
    upsampling.

    Args:
        classes: output classes.
        ctx_layers: the context module's `layers` (network.py build_context): 7, 8
            or 10, giving dilations 1, 1, 2, ..., 2**(layers - 4), 1 and a 1x1 layer.
        large: the PASCAL VOC context (`ct_*` layers with channel multipliers, one
            33-pixel zero pad on the first layer and valid convolutions after it, and
            the front end's classifier named `fc-final`); otherwise the basic one
            (`ctx_*`, C -> C, padding equal to the dilation).
        upsample: Dilation10's in-network deconvolution `ctx_upsample` (kernel 16,
            stride 8, padding 4, one bilinear kernel per class).

    Call: `net(x_bgr)` with x_bgr [N, 3, H, W] returns the logits (before Caffe's
    softmax), at stride 8 without `upsample`, of size (H - 372) / 8 for the basic
    context.
    """

    def __init__(self, classes, ctx_layers, large=False, upsample=False):
        super().__init__()
        self.specs = []  # (name, cin, cout, kernel, dilation, pad); kernel 0: a pool
        cin = 3
        for b, (c, n) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), 1):
            for i in range(1, n + 1):
                self.specs.append((f"conv{b}_{i}", cin, c, 3, 2 if b == 5 else 1, 0))
                cin = c
            if b <= 3:
                self.specs.append((f"pool{b}", 0, 0, 0, 0, 0))
        self.specs += [("fc6", 512, 4096, 7, 4, 0), ("fc7", 4096, 4096, 1, 1, 0),
                       ("fc-final" if large else "final", 4096, classes, 1, 1, 0)]
        dilations = [1, 1] + [2 ** (i - 1) for i in range(2, ctx_layers - 2)] + [1]
        names = ["conv1_1", "conv1_2"] + [f"conv{i}_1" for i in range(2, ctx_layers - 2)]
        names += ["fc1"]
        prefix = "ct_" if large else "ctx_"
        cin = classes
        for i, (name, d) in enumerate(zip(names, dilations)):
            cout = classes * (LARGE_MULTIPLIERS[i] if large else 1)
            pad = (33 if i == 0 else 0) if large else d
            self.specs.append((prefix + name, cin, cout, 3, d, pad))
            cin = cout
        self.specs.append((prefix + "final", cin, classes, 1, 1, 0))
        self.upsample = upsample
        self.classes = classes
        self.convs = nn.ModuleDict()
        for name, ci, co, k, d, p in self.specs:
            if k:
                self.convs[_key(name)] = nn.Conv2d(ci, co, k, padding=p, dilation=d)
        if upsample:
            self.up = nn.ConvTranspose2d(classes, classes, 16, 8, 4, groups=classes,
                                         bias=False)
            with torch.no_grad():
                self.up.weight.copy_(bilinear_filter(16).expand(classes, 1, 16, 16))

    def blobs(self):
        """The parameters as a caffemodel holds them.

        Returns:
            {Caffe layer name: [weight, bias]} as numpy arrays ([weight] for
            `ctx_upsample`).
        """
        out = {}
        for name, _, _, k, _, _ in self.specs:
            if k:
                m = self.convs[_key(name)]
                out[name] = [m.weight.detach().numpy(), m.bias.detach().numpy()]
        if self.upsample:
            out["ctx_upsample"] = [self.up.weight.detach().numpy()]
        return out

    def load_blobs(self, blobs):
        """Copies Caffe blobs into the network.

        Args:
            blobs: {Caffe layer name: [weight, (bias)]} numpy arrays, e.g. from
                `keras_drn.weights.read_caffemodel`.

        Returns:
            This network.

        Raises:
            KeyError: a blob names a layer this network does not have.
        """
        with torch.no_grad():
            for name, arrays in blobs.items():
                module = self.up if name == "ctx_upsample" else self.convs[_key(name)]
                module.weight.copy_(torch.from_numpy(arrays[0]).reshape(
                    module.weight.shape))
                if len(arrays) > 1:
                    module.bias.copy_(torch.from_numpy(arrays[1]).reshape(-1))
        return self

    def forward(self, x_bgr):
        x = x_bgr
        last = self.specs[-1][0]
        for name, _, _, k, _, _ in self.specs:
            if not k:
                x = nn.functional.max_pool2d(x, 2, 2, ceil_mode=True)
                continue
            x = self.convs[_key(name)](x)
            if name not in ("final", "fc-final", last):
                x = torch.relu(x)
        if self.upsample:
            x = self.up(x)
        return x


def _key(name):
    """A Caffe layer name as a ModuleDict key ("fc-final" -> "fc_final")."""
    return name.replace("-", "_")
