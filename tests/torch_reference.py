"""An independent PyTorch implementation of the reference networks, for parity tests.

Written for these tests from the architecture description (fyu/drn drn.py and
segment.py, fyu/dilation's prototxts), not from keras_drn. Module names reproduce the
reference's state-dict keys (`layer3.0.conv1.weight`, `base.0.0.weight`, ...), so a
state dict of these modules is laid out exactly as the authors' checkpoints.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _bn(c):
    return nn.BatchNorm2d(c)  # eps 1e-5, momentum 0.1


class Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1, dil=(1, 1), residual=True, project=False):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, padding=dil[0], dilation=dil[0],
                               bias=False)
        self.bn1 = _bn(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, padding=dil[1], dilation=dil[1],
                               bias=False)
        self.bn2 = _bn(planes)
        self.downsample = (
            nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), _bn(planes))
            if project else None
        )
        self.residual = residual

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        if self.residual:
            out = out + (self.downsample(x) if self.downsample is not None else x)
        return torch.relu(out)


class Bottle(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1, dil=(1, 1), residual=True, project=False):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = _bn(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, padding=dil[1],
                               dilation=dil[1], bias=False)
        self.bn2 = _bn(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = _bn(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = (
            nn.Sequential(nn.Conv2d(cin, planes * 4, 1, stride, bias=False),
                          _bn(planes * 4))
            if project else None
        )

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        short = self.downsample(x) if self.downsample is not None else x
        return torch.relu(out + short)


class TorchDRN(nn.Module):
    """arch "B", "C" or "D"; block Basic or Bottle; 8 level sizes."""

    def __init__(self, arch, block, layers, classes=1000):
        super().__init__()
        ch = (16, 32, 64, 128, 256, 512, 512, 512)
        self.arch = arch
        self.cin = ch[0]
        if arch in "BC":
            self.conv1 = nn.Conv2d(3, ch[0], 7, 1, 3, bias=False)
            self.bn1 = _bn(ch[0])
            self.relu = nn.ReLU()
            self.layer1 = self._blocks(Basic, ch[0], layers[0])
            self.layer2 = self._blocks(Basic, ch[1], layers[1], stride=2)
        else:
            self.layer0 = nn.Sequential(nn.Conv2d(3, ch[0], 7, 1, 3, bias=False),
                                        _bn(ch[0]), nn.ReLU())
            self.layer1 = self._plain(ch[0], layers[0])
            self.layer2 = self._plain(ch[1], layers[1], stride=2)
        self.layer3 = self._blocks(block, ch[2], layers[2], stride=2)
        self.layer4 = self._blocks(block, ch[3], layers[3], stride=2)
        self.layer5 = self._blocks(block, ch[4], layers[4], dil=2)
        self.layer6 = self._blocks(block, ch[5], layers[5], dil=4)
        if arch in "BC":
            res = arch == "B"
            self.layer7 = self._blocks(Basic, ch[6], layers[6], dil=2, residual=res)
            self.layer8 = self._blocks(Basic, ch[7], layers[7], dil=1, residual=res)
        else:
            self.layer7 = self._plain(ch[6], layers[6], dil=2)
            self.layer8 = self._plain(ch[7], layers[7], dil=1)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(ch[7], classes, 1, bias=True)

    def _blocks(self, block, planes, n, stride=1, dil=1, residual=True):
        project = stride != 1 or self.cin != planes * block.expansion
        mods = [block(self.cin, planes, stride, (dil, dil), residual, project)]
        self.cin = planes * block.expansion
        mods += [block(self.cin, planes, 1, (dil, dil), residual) for _ in range(n - 1)]
        return nn.Sequential(*mods)

    def _plain(self, c, n, stride=1, dil=1):
        mods = []
        for i in range(n):
            mods += [nn.Conv2d(self.cin, c, 3, stride if i == 0 else 1, padding=dil,
                               dilation=dil, bias=False), _bn(c), nn.ReLU()]
            self.cin = c
        return nn.Sequential(*mods)

    def features(self, x):
        if self.arch in "BC":
            x = self.relu(self.bn1(self.conv1(x)))
        else:
            x = self.layer0(x)
        for i in range(1, 9):
            x = getattr(self, f"layer{i}")(x)
        return x

    def forward(self, x):
        return self.fc(self.avgpool(self.features(x))).flatten(1)


class TorchDRNA(nn.Module):
    """ResNet with levels 3 and 4 at stride 1, dilated by 2 and 4 after their first
    block (drn.py DRN_A)."""

    def __init__(self, block, layers, classes=1000):
        super().__init__()
        self.cin = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = _bn(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._blocks(block, 64, layers[0])
        self.layer2 = self._blocks(block, 128, layers[1], stride=2)
        self.layer3 = self._blocks(block, 256, layers[2], dil=2)
        self.layer4 = self._blocks(block, 512, layers[3], dil=4)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512 * block.expansion, classes)

    def _blocks(self, block, planes, n, stride=1, dil=1):
        project = stride != 1 or self.cin != planes * block.expansion
        mods = [block(self.cin, planes, stride, (1, 1), True, project)]
        self.cin = planes * block.expansion
        mods += [block(self.cin, planes, 1, (dil, dil)) for _ in range(n - 1)]
        return nn.Sequential(*mods)

    def features(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x):
        return self.fc(self.avgpool(self.features(x)).flatten(1))


def bilinear_filter(k):
    f = math.ceil(k / 2)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    r = torch.tensor([1 - abs(i / f - c) for i in range(k)])
    return r[:, None] * r[None, :]


class TorchDRNSeg(nn.Module):
    def __init__(self, backbone, classes):
        super().__init__()
        self.base = nn.Sequential(*list(backbone.children())[:-2])
        out = 512 if not isinstance(backbone, TorchDRNA) else backbone.fc.in_features
        self.seg = nn.Conv2d(out, classes, 1, bias=True)
        self.up = nn.ConvTranspose2d(classes, classes, 16, stride=8, padding=4,
                                     groups=classes, bias=False)
        with torch.no_grad():
            self.up.weight.copy_(bilinear_filter(16).expand(classes, 1, 16, 16))
        self.up.weight.requires_grad_(False)

    def forward(self, x):
        return self.up(self.seg(self.base(x)))  # logits, before the log-softmax


BLOCKS = {"basic": Basic, "bottleneck": Bottle}
LAYERS = {
    "drn_a_18": ("A", "basic", (2, 2, 2, 2)),
    "drn_a_34": ("A", "basic", (3, 4, 6, 3)),
    "drn_a_50": ("A", "bottleneck", (3, 4, 6, 3)),
    "drn_b_26": ("B", "basic", (1, 1, 2, 2, 2, 2, 1, 1)),
    "drn_c_26": ("C", "basic", (1, 1, 2, 2, 2, 2, 1, 1)),
    "drn_c_42": ("C", "basic", (1, 1, 3, 4, 6, 3, 1, 1)),
    "drn_c_58": ("C", "bottleneck", (1, 1, 3, 4, 6, 3, 1, 1)),
    "drn_d_22": ("D", "basic", (1, 1, 2, 2, 2, 2, 1, 1)),
    "drn_d_24": ("D", "basic", (1, 1, 2, 2, 2, 2, 2, 2)),
    "drn_d_38": ("D", "basic", (1, 1, 3, 4, 6, 3, 1, 1)),
    "drn_d_54": ("D", "bottleneck", (1, 1, 3, 4, 6, 3, 1, 1)),
    "drn_d_105": ("D", "bottleneck", (1, 1, 3, 4, 23, 3, 1, 1)),
}


def build(arch, classes=1000):
    kind, block, layers = LAYERS[arch]
    if kind == "A":
        return TorchDRNA(BLOCKS[block], layers, classes)
    return TorchDRN(kind, BLOCKS[block], layers, classes)


def randomize_bn(model, seed=0):
    """Gives every BN layer non-trivial statistics and affine parameters, so parity
    tests exercise them (fresh BN layers are the identity)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=g))
                m.bias.copy_(0.2 * torch.randn(c, generator=g))
                m.running_mean.copy_(0.2 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
    return model


class TorchDilation(nn.Module):
    """fyu/dilation's deploy network as Caffe runs it: BGR input, VGG-16 convolutions
    without padding, ceil-mode 2x2 pooling after blocks 1-3, conv5 dilated by 2, fc6
    7x7 dilated by 4, the context module, and for Cityscapes the grouped x8 deconv.
    Parameters are kept in a dict keyed by Caffe layer names (`blobs`)."""

    def __init__(self, classes, ctx_layers, large=False, upsample=False):
        super().__init__()
        self.specs = []  # (name, cin, cout, k, dilation, pad)
        cin = 3
        for b, (c, n) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), 1):
            for i in range(1, n + 1):
                self.specs.append((f"conv{b}_{i}", cin, c, 3, 2 if b == 5 else 1, 0))
                cin = c
            if b <= 3:
                self.specs.append((f"pool{b}", 0, 0, 0, 0, 0))
        self.specs += [("fc6", 512, 4096, 7, 4, 0), ("fc7", 4096, 4096, 1, 1, 0),
                       ("fc-final" if large else "final", 4096, classes, 1, 1, 0)]
        dils = [1, 1] + [2 ** (i - 1) for i in range(2, ctx_layers - 2)] + [1]
        names = ["conv1_1", "conv1_2"] + [f"conv{i}_1" for i in range(2, ctx_layers - 2)]
        names += ["fc1"]
        mult = (2, 2, 4, 8, 16, 32, 32, 1)
        cin = classes
        for i, (n, d) in enumerate(zip(names, dils)):
            cout = classes * (mult[i] if large else 1)
            pad = (33 if i == 0 else 0) if large else d
            self.specs.append(((("ct_" if large else "ctx_") + n), cin, cout, 3, d, pad))
            cin = cout
        self.specs.append((("ct_" if large else "ctx_") + "final", cin, classes, 1, 1, 0))
        self.upsample = upsample
        self.classes = classes
        self.convs = nn.ModuleDict()
        for name, ci, co, k, d, p in self.specs:
            if k:
                self.convs[name.replace("-", "_")] = nn.Conv2d(ci, co, k, padding=p,
                                                               dilation=d)
        if upsample:
            self.up = nn.ConvTranspose2d(classes, classes, 16, 8, 4, groups=classes,
                                         bias=False)
            with torch.no_grad():
                self.up.weight.copy_(bilinear_filter(16).expand(classes, 1, 16, 16))

    def blobs(self):
        """{caffe layer name: [weight, bias]} as numpy arrays."""
        out = {}
        for name, _, _, k, _, _ in self.specs:
            if k:
                m = self.convs[name.replace("-", "_")]
                out[name] = [m.weight.detach().numpy(), m.bias.detach().numpy()]
        if self.upsample:
            out["ctx_upsample"] = [self.up.weight.detach().numpy()]
        return out

    def forward(self, x_bgr):
        x = x_bgr
        last = self.specs[-1][0]
        for name, _, _, k, _, _ in self.specs:
            if not k:
                x = nn.functional.max_pool2d(x, 2, 2, ceil_mode=True)
                continue
            x = self.convs[name.replace("-", "_")](x)
            if name not in ("final", "fc-final", last):
                x = torch.relu(x)
        if self.upsample:
            x = self.up(x)
        return x
