"""DRN and DRN-A in PyTorch, as fyu/drn builds and runs them.

An independent port of fyu/drn `drn.py` (the classifiers; `torch_segment` has
segment.py's DRNSeg), written from that file's behaviour and not from keras_drn, so
that comparing keras_drn with it compares two implementations. Where the two disagree,
this port follows the reference:

- module names, registration and construction order are drn.py's, so a state dict of
  these modules has the authors' keys in the authors' order, and with the same
  `torch.manual_seed` the initial weights equal those of drn.py's own constructors;
- initialisation as drn.py:169-175 (every convolution N(0, sqrt(2 / (k*k*out))), BN
  weight 1 and bias 0; the classifier bias and DRN-A's `nn.Linear` keep PyTorch's
  defaults) and segment.py:92-98 (`seg` N(0, sqrt(2 / classes)), bias 0);
- the classifier head is `AvgPool2d(pool_size)` (28, i.e. a 224x224 input; DRN-A's
  with stride 1) followed by the 1x1 convolution `fc` (DRN-A: `nn.Linear`);
- a BasicBlock with `residual=False` still runs its projection and drops the result
  (DRN-C-58's `layer7.0.downsample`, drn.py:58-61).

Every row of drn.py's table (drn.py:333-414) is in `LAYERS`, and three networks of the
DRN paper that drn.py has no constructor for (`PAPER_ONLY`): DRN-A-18 and DRN-A-34
(drn.py's `DRN_A` class with `BasicBlock`) and DRN-B-26 (C-26 with the residual
connections of levels 7 and 8 kept, `arch="B"`).

Example:

```python
import torch
from keras_drn import reference

net = reference.build("drn_d_22").eval()           # the ImageNet classifier
logits = net(torch.zeros(1, 3, 224, 224))          # [1, 1000]
levels = net.levels(torch.zeros(1, 3, 64, 96))     # the 8 level outputs
```
"""

from __future__ import annotations

import math

from keras_drn.reference._torch import require_torch

torch = require_torch()
nn = torch.nn

CHANNELS = (16, 32, 64, 128, 256, 512, 512, 512)  # drn.py:112


def he_fan_out(module):
    """drn.py's initialisation of a convolution's weight, in place:
    N(0, sqrt(2 / (kernel_h * kernel_w * out_channels)))."""
    n = module.kernel_size[0] * module.kernel_size[1] * module.out_channels
    module.weight.data.normal_(0, math.sqrt(2.0 / n))


def _initialize(model):
    """drn.py:169-175 over every submodule of `model`."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            he_fan_out(module)
        elif isinstance(module, nn.BatchNorm2d):
            module.weight.data.fill_(1)
            module.bias.data.zero_()


def _run_levels(model, x, count):
    """x through `model.layer1` ... `layer<count>`; every level's output."""
    outputs = []
    for i in range(1, count + 1):
        x = getattr(model, f"layer{i}")(x)
        outputs.append(x)
    return outputs


def _projection(cin, cout, stride):
    """The 1x1 convolution + BN shortcut (`downsample`) of drn.py:182-186."""
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                         nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a shortcut (drn.py:32-65).

    Args:
        cin: input channels.
        planes: output channels of both convolutions.
        stride: stride of the first convolution.
        downsample: the shortcut's projection module, or None for the identity.
        dilation: (first, second) convolution dilation; padding equals dilation.
        residual: whether the shortcut is added. A projection runs either way.
    """

    expansion = 1

    def __init__(self, cin, planes, stride=1, downsample=None, dilation=(1, 1),
                 residual=True):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, padding=dilation[0],
                               dilation=dilation[0], bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, padding=dilation[1],
                               dilation=dilation[1], bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride
        self.residual = residual

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        shortcut = x if self.downsample is None else self.downsample(x)
        if self.residual:
            out = out + shortcut
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1, 3x3 (strided, dilated by `dilation[1]`), 1x1 to 4x `planes`, and a shortcut
    that is always added (drn.py:68-106; `residual` is accepted and ignored, as there).

    Args:
        cin: input channels.
        planes: channels of the inner convolutions; the block outputs 4x as many.
        stride: stride of the 3x3 convolution.
        downsample: the shortcut's projection module, or None for the identity.
        dilation: (unused, 3x3 dilation); padding equals the dilation.
        residual: ignored (the reference's Bottleneck always adds its shortcut).
    """

    expansion = 4

    def __init__(self, cin, planes, stride=1, downsample=None, dilation=(1, 1),
                 residual=True):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, padding=dilation[1],
                               dilation=dilation[1], bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class TorchDRN(nn.Module):
    """drn.py's `DRN` (arch "C" or "D", drn.py:109-259), and the paper's DRN-B.

    Args:
        arch: "C" (a 7x7 conv stem, BasicBlocks in levels 1-2 and 7-8, levels 7-8
            without residual connections), "D" (plain conv-BN-ReLU layers in levels
            1-2 and 7-8), or "B" (C with the residual connections of levels 7-8 kept:
            the DRN paper's DRN-B, which drn.py does not build).
        block: `BasicBlock` or `Bottleneck`, for levels 3-6.
        layers: blocks (C) or convolutions (D, levels 1-2 and 7-8) per level, 8 values.
        classes: outputs of the 1x1 classifier `fc`; 0 builds no head (drn.py:165).
        channels: channels of the 8 levels.
        out_map: return `fc` applied to every stride-8 pixel, without pooling.
        out_middle: also return the list of the 8 level outputs.
        pool_size: the head's `AvgPool2d` kernel (and stride); 28 suits 224x224 input.

    Call: `net(x)` with x of shape [N, 3, H, W] returns [N, classes] logits (with the
    default head; the pooled map must be 1x1, so H and W are 217-224), [N, classes,
    ceil(H/8), ceil(W/8)] with `out_map`, and `(logits, levels)` with `out_middle`.
    """

    def __init__(self, arch, block, layers, classes=1000, channels=CHANNELS,
                 out_map=False, out_middle=False, pool_size=28):
        super().__init__()
        if arch not in ("B", "C", "D"):
            raise ValueError(f"Invalid arch={arch!r}: expected 'B', 'C' or 'D'.")
        if len(layers) != 8 or len(channels) != 8:
            raise ValueError(f"Invalid layers={layers!r} or channels={channels!r}: "
                             f"expected 8 levels each.")
        self.inplanes = channels[0]
        self.out_map = out_map
        self.out_dim = channels[-1]
        self.out_middle = out_middle
        self.arch = arch
        if arch in ("B", "C"):
            self.conv1 = nn.Conv2d(3, channels[0], 7, 1, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(channels[0])
            self.relu = nn.ReLU(inplace=True)
            self.layer1 = self._make_layer(BasicBlock, channels[0], layers[0])
            self.layer2 = self._make_layer(BasicBlock, channels[1], layers[1], stride=2)
        else:
            self.layer0 = nn.Sequential(
                nn.Conv2d(3, channels[0], 7, 1, padding=3, bias=False),
                nn.BatchNorm2d(channels[0]), nn.ReLU(inplace=True))
            self.layer1 = self._make_conv_layers(channels[0], layers[0])
            self.layer2 = self._make_conv_layers(channels[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, channels[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, channels[3], layers[3], stride=2)
        self.layer5 = self._make_layer(block, channels[4], layers[4], dilation=2,
                                       new_level=False)
        self.layer6 = self._make_layer(block, channels[5], layers[5], dilation=4,
                                       new_level=False)
        if arch in ("B", "C"):
            residual = arch == "B"
            self.layer7 = self._make_layer(BasicBlock, channels[6], layers[6],
                                           dilation=2, new_level=False,
                                           residual=residual)
            self.layer8 = self._make_layer(BasicBlock, channels[7], layers[7],
                                           dilation=1, new_level=False,
                                           residual=residual)
        else:
            self.layer7 = self._make_conv_layers(channels[6], layers[6], dilation=2)
            self.layer8 = self._make_conv_layers(channels[7], layers[7], dilation=1)
        if classes > 0:
            self.avgpool = nn.AvgPool2d(pool_size)
            self.fc = nn.Conv2d(self.out_dim, classes, 1, bias=True)
        _initialize(self)

    def _make_layer(self, block, planes, blocks, stride=1, dilation=1, new_level=True,
                    residual=True):
        """A level of `blocks` blocks (drn.py:177-199): a projection on the first when
        the stride or the width changes; the first block's dilation is
        (dilation // 2 if new_level else dilation, dilation), the others' (d, d)."""
        if dilation != 1 and dilation % 2:
            raise ValueError(f"Invalid dilation={dilation}: expected 1 or even.")
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = _projection(self.inplanes, planes * block.expansion, stride)
        first = (1, 1) if dilation == 1 else (
            dilation // 2 if new_level else dilation, dilation)
        modules = [block(self.inplanes, planes, stride, downsample, dilation=first,
                         residual=residual)]
        self.inplanes = planes * block.expansion
        modules += [block(self.inplanes, planes, residual=residual,
                          dilation=(dilation, dilation)) for _ in range(1, blocks)]
        return nn.Sequential(*modules)

    def _make_conv_layers(self, channels, convs, stride=1, dilation=1):
        """`convs` x [3x3 conv, BN, ReLU] as one flat Sequential (drn.py:201-211)."""
        modules = []
        for i in range(convs):
            modules += [nn.Conv2d(self.inplanes, channels, 3,
                                  stride=stride if i == 0 else 1, padding=dilation,
                                  dilation=dilation, bias=False),
                        nn.BatchNorm2d(channels), nn.ReLU(inplace=True)]
            self.inplanes = channels
        return nn.Sequential(*modules)

    def levels(self, x):
        """The outputs of levels 1-8 for x [N, 3, H, W] (drn.py's `out_middle` list)."""
        if self.arch == "D":
            x = self.layer0(x)
        else:
            x = self.relu(self.bn1(self.conv1(x)))
        return _run_levels(self, x, 8)

    def features(self, x):
        """The stride-8 map the head reads (level 8's output)."""
        return self.levels(x)[-1]

    def forward(self, x):
        y = self.levels(x)
        x = y[-1]
        if self.out_map:
            x = self.fc(x)
        else:
            x = self.fc(self.avgpool(x))
            x = x.view(x.size(0), -1)
        return (x, y) if self.out_middle else x


class TorchDRNA(nn.Module):
    """drn.py's `DRN_A` (drn.py:262-330): a ResNet whose levels 3 and 4 keep stride 1
    and dilate every block but their first by 2 and 4.

    Args:
        block: `Bottleneck` (DRN-A-50, torchvision's ResNet-50 keys) or `BasicBlock`
            (DRN-A-18/34 of the paper).
        layers: blocks per level, 4 values.
        classes: outputs of the `nn.Linear` classifier `fc`.

    Call: `net(x)` with x [N, 3, 224, 224] returns [N, classes] logits: the head is
    `AvgPool2d(28, stride=1)`, so the stride-8 map must be 28x28.
    """

    def __init__(self, block, layers, classes=1000):
        super().__init__()
        self.inplanes = 64
        self.out_dim = 512 * block.expansion
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], dilation=2)
        self.layer4 = self._make_layer(block, 512, layers[3], dilation=4)
        self.avgpool = nn.AvgPool2d(28, stride=1)
        self.fc = nn.Linear(512 * block.expansion, classes)
        _initialize(self)

    def _make_layer(self, block, planes, blocks, stride=1, dilation=1):
        """drn.py:297-313: the first block undilated, the others dilated by
        `dilation`."""
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = _projection(self.inplanes, planes * block.expansion, stride)
        modules = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        modules += [block(self.inplanes, planes, dilation=(dilation, dilation))
                    for _ in range(1, blocks)]
        return nn.Sequential(*modules)

    def levels(self, x):
        """The outputs of levels 1-4 for x [N, 3, H, W]."""
        return _run_levels(self, self.maxpool(self.relu(self.bn1(self.conv1(x)))), 4)

    def features(self, x):
        """The stride-8 map the head reads (level 4's output)."""
        return self.levels(x)[-1]

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.fc(x.view(x.size(0), -1))


BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}

_L26 = (1, 1, 2, 2, 2, 2, 1, 1)
_L42 = (1, 1, 3, 4, 6, 3, 1, 1)
_L42_2 = (1, 1, 3, 4, 6, 3, 2, 2)
# name -> (arch, block, blocks per level): drn.py:333-414, then the paper's extras.
LAYERS = {
    "drn_a_50": ("A", "bottleneck", (3, 4, 6, 3)),
    "drn_c_26": ("C", "basic", _L26),
    "drn_c_42": ("C", "basic", _L42),
    "drn_c_58": ("C", "bottleneck", _L42),
    "drn_d_22": ("D", "basic", _L26),
    "drn_d_24": ("D", "basic", (1, 1, 2, 2, 2, 2, 2, 2)),
    "drn_d_38": ("D", "basic", _L42),
    "drn_d_40": ("D", "basic", _L42_2),
    "drn_d_54": ("D", "bottleneck", _L42),
    "drn_d_56": ("D", "bottleneck", _L42_2),
    "drn_d_105": ("D", "bottleneck", (1, 1, 3, 4, 23, 3, 1, 1)),
    "drn_d_107": ("D", "bottleneck", (1, 1, 3, 4, 23, 3, 2, 2)),
    "drn_a_18": ("A", "basic", (2, 2, 2, 2)),
    "drn_a_34": ("A", "basic", (3, 4, 6, 3)),
    "drn_b_26": ("B", "basic", _L26),
}
# In the DRN paper but without a constructor in drn.py.
PAPER_ONLY = ("drn_a_18", "drn_a_34", "drn_b_26")


def build(arch, classes=1000, **kwargs):
    """The classifier `arch` as drn.py's constructor builds it (random weights).

    Args:
        arch: a name of `LAYERS`, e.g. "drn_d_22" (also "DRN-D-22").
        classes: outputs of the classifier.
        **kwargs: for C/D/B networks, `TorchDRN`'s `channels`, `out_map`,
            `out_middle` and `pool_size`.

    Returns:
        A `TorchDRN` or `TorchDRNA` in training mode (call `.eval()` to run it).

    Raises:
        ValueError: `arch` is not in the table.
    """
    key = str(arch).strip().lower().replace("-", "_")
    if key not in LAYERS:
        raise ValueError(f"Unknown arch={arch!r}: expected one of {', '.join(LAYERS)}.")
    kind, block, layers = LAYERS[key]
    if kind == "A":
        if kwargs:
            raise ValueError(f"DRN-A takes no {', '.join(sorted(kwargs))}.")
        return TorchDRNA(BLOCKS[block], layers, classes)
    return TorchDRN(kind, BLOCKS[block], layers, classes, **kwargs)


def randomize_bn(model, seed=0):
    """Gives every BatchNorm of `model` non-trivial statistics and affine parameters,
    so that comparisons exercise them (a fresh BN is the identity in eval mode).

    Args:
        model: a torch module.
        seed: seed of the values.

    Returns:
        `model`, changed in place.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                c = module.num_features
                module.weight.copy_(0.5 + torch.rand(c, generator=generator))
                module.bias.copy_(0.2 * torch.randn(c, generator=generator))
                module.running_mean.copy_(0.2 * torch.randn(c, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(c, generator=generator))
    return model
