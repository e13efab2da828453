"""The architecture table: one row per network of the two papers.

Adding a variant is one line here. The rows follow fyu/drn drn.py:333-414 (block type,
blocks per level) and, for what the code does not build, the DRN paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace

DRN_CHANNELS = (16, 32, 64, 128, 256, 512, 512, 512)  # drn.py:110

# A oneDNN kernel in TensorFlow 2.21 (Conv2DBackpropFilter of a 1x1 stride-2
# convolution with fewer than 16 input channels) corrupts the heap and kills the process;
# level 3's projection sees the level-2 width, so a scaled network keeps >= 16 there.
MIN_LEVEL2_CHANNELS = 16


@dataclass(frozen=True)
class DRNConfig:
    """One DRN variant.

    arch: "A" (ResNet with dilation, drn.py DRN_A), "B" (the paper's DRN-B: C's layout
      with the residual connections of levels 7-8 kept), "C" or "D" (drn.py DRN).
    block: "basic" (BasicBlock, expansion 1) or "bottleneck" (expansion 4).
    layers: blocks per level; 4 levels for A, 8 for B/C/D.
    """

    arch: str
    block: str
    layers: tuple[int, ...]
    channels: tuple[int, ...] = DRN_CHANNELS

    def scaled(self, width: float) -> DRNConfig:
        """This row with every level's channels multiplied by `width` (narrow or wide
        variants for experiments; only the table's own widths have released weights).
        DRN-A follows torchvision's ResNet widths and is not scaled."""
        if width == 1.0:
            return self
        if not 0 < width <= 4:
            raise ValueError(f"Invalid width={width!r}: expected a factor in (0, 4].")
        if self.arch == "A":
            raise ValueError(
                f"Invalid width={width!r} for a DRN-A network: its levels follow "
                f"torchvision's ResNet widths. Use a B, C or D network."
            )
        channels = tuple(max(1, int(round(c * width))) for c in self.channels)
        return replace(self, channels=channels)

    @property
    def expansion(self) -> int:
        """Output channels per planes of a block: 4 for bottlenecks, else 1."""
        return 4 if self.block == "bottleneck" else 1

    @property
    def out_channels(self) -> int:
        """Channels of the stride-8 feature map (the reference's `out_dim`)."""
        if self.arch == "A":
            return 512 * self.expansion
        return self.channels[-1]


_L26 = (1, 1, 2, 2, 2, 2, 1, 1)
_L42 = (1, 1, 3, 4, 6, 3, 1, 1)
_L42_2 = (1, 1, 3, 4, 6, 3, 2, 2)
_L105 = (1, 1, 3, 4, 23, 3, 1, 1)

DRN_CONFIGS: dict[str, DRNConfig] = {
    "drn_a_18": DRNConfig("A", "basic", (2, 2, 2, 2)),
    "drn_a_34": DRNConfig("A", "basic", (3, 4, 6, 3)),
    "drn_a_50": DRNConfig("A", "bottleneck", (3, 4, 6, 3)),
    "drn_b_26": DRNConfig("B", "basic", _L26),
    "drn_c_26": DRNConfig("C", "basic", _L26),
    "drn_c_42": DRNConfig("C", "basic", _L42),
    "drn_c_58": DRNConfig("C", "bottleneck", _L42),
    "drn_d_22": DRNConfig("D", "basic", _L26),
    "drn_d_24": DRNConfig("D", "basic", (1, 1, 2, 2, 2, 2, 2, 2)),
    "drn_d_38": DRNConfig("D", "basic", _L42),
    "drn_d_40": DRNConfig("D", "basic", _L42_2),
    "drn_d_54": DRNConfig("D", "bottleneck", _L42),
    "drn_d_56": DRNConfig("D", "bottleneck", _L42_2),
    "drn_d_105": DRNConfig("D", "bottleneck", _L105),
    "drn_d_107": DRNConfig("D", "bottleneck", (1, 1, 3, 4, 23, 3, 2, 2)),
}


@dataclass(frozen=True)
class Published:
    """Numbers reported by the authors (fyu/drn README:39-55 and 93-102; the paper)."""

    top1_error: float | None = None  # ImageNet val, 224 centre crop, percent
    top5_error: float | None = None
    cityscapes_miou: float | None = None  # Cityscapes val, percent


PUBLISHED: dict[str, Published] = {
    "drn_a_18": Published(28.0, 9.5),
    "drn_a_34": Published(24.8, 7.5),
    "drn_a_50": Published(22.9, 6.6, 67.3),
    "drn_c_26": Published(24.9, 7.6, 68.0),
    "drn_c_42": Published(22.9, 6.6, 70.9),
    "drn_c_58": Published(21.7, 6.0),
    "drn_d_22": Published(25.8, 8.2, 68.0),
    "drn_d_38": Published(23.8, 6.9, 71.4),
    "drn_d_54": Published(21.2, 5.9),
    "drn_d_105": Published(20.6, 5.5, 75.6),  # mIoU with poly lr, scale + rotation
}


@dataclass(frozen=True)
class DilationConfig:
    """One model of fyu/dilation (ICLR 2016), from its deploy prototxts.

    context_layers: the `layers` argument of network.py build_context (7, 8 or 10).
    context: "basic" (C -> C, per-layer padding) or "large" (channel multipliers
      2,2,4,8,16,32,32,1, one 33-pixel zero pad and valid convolutions; VOC only).
    upsample: Dilation10's in-network x8 bilinear deconvolution (`ctx_upsample`).
    zoom: the factor predict.py interpolates the output by afterwards.
    input_size: the deploy prototxt's tile (H, W).
    """

    name: str
    classes: int
    context_layers: int
    context: str
    upsample: bool
    zoom: int
    input_size: tuple[int, int]


DILATION_CONFIGS: dict[str, DilationConfig] = {
    "pascal_voc": DilationConfig("dilation8", 21, 8, "large", False, 8, (900, 900)),
    "camvid": DilationConfig("dilation8", 11, 8, "basic", False, 8, (900, 1100)),
    "kitti": DilationConfig("dilation7", 11, 7, "basic", False, 8, (852, 1640)),
    "cityscapes": DilationConfig("dilation10", 19, 10, "basic", True, 1, (1396, 1396)),
}
