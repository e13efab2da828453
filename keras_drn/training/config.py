"""The settings of a training run, and each dataset's defaults (its recipe).

Flags the user leaves unset take the dataset's recipe. The real data sets follow
fyu/drn's defaults and README recipes (segment.py:680-726: batch 64, 10 epochs, lr
0.01, momentum 0.9, weight decay 1e-4, step 200, lr mode step); the synthetic street
scenes default to a run that takes a few minutes on two CPU cores.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass
class TrainConfig:
    # Model
    family: str = "drn"  # "drn" (DRNSeg) or "dilation" (front end + context module)
    dilation_stage: str = "joint"  # "frontend", "context" or "joint" (ICLR recipe)
    arch: str = "drn_d_22"
    width: float = 1.0
    classes: int = 19
    head: str = "reference"
    pretrained: str | None = None  # full-model weights (--pretrained)
    backbone_weights: str | None = None  # None, "imagenet" or a classifier checkpoint
    # Data
    dataset: str = "synthetic"
    crop_size: tuple[int, int] = (128, 128)
    batch_size: int = 8  # global, over all replicas
    random_scale: float = 0.0
    random_rotate: float = 0.0
    flip: bool = True
    eval_batch_size: int | None = None
    eval_size: tuple[int, int] | None = None
    # Optimisation
    epochs: int = 10
    steps_per_epoch: int | None = None  # None: examples // batch
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    lr_mode: str = "step"
    step: int = 200
    lr_per_iteration: bool = False
    warmup_epochs: float = 0.0
    # System
    strategy: str = "auto"
    tpu: str | None = None
    mixed_precision: str | None = None  # None, "float16", "bfloat16"
    jit_compile: bool = False
    bn_sync: bool = False
    seed: int = 0
    deterministic: bool = False
    steps_per_execution: int = 1
    # Output
    output_dir: str = "runs/drn"
    logdir: str | None = None  # default <output_dir>/logs
    checkpoint_steps: int = 0  # 0: only at epoch ends
    checkpoint_minutes: float = 10.0  # also every N minutes of training (0: off)
    collective_timeout: float = 300.0  # seconds a multi-worker collective may wait
    keep_checkpoints: int = 3
    resume: str | None = None
    eval_every: int = 1  # epochs between validations (0: only at the end)
    print_freq: int = 10
    log_images: int = 3

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def resume_settings(self) -> dict:
        return {
            "arch": self.arch, "width": self.width, "classes": self.classes,
            "global_batch": self.batch_size, "seed": self.seed,
            "crop_size": list(self.crop_size), "steps_per_epoch": self.steps_per_epoch,
            "dataset": self.dataset, "head": self.head, "family": self.family,
            "dilation_stage": self.dilation_stage,
        }


# Per-dataset defaults for flags left unset. Keys are TrainConfig fields.
RECIPES: dict[str, dict] = {
    # A few minutes on 2 CPU cores (docs/training.md has the measured result).
    "synthetic": dict(
        arch="drn_d_22", width=0.5, classes=19, crop_size=(128, 128), batch_size=8,
        epochs=8, steps_per_epoch=100, lr=0.05, momentum=0.9, weight_decay=1e-4,
        lr_mode="poly", lr_per_iteration=True, random_scale=0.0, random_rotate=0,
        warmup_epochs=0.1, eval_every=2,
    ),
    # segment.py defaults; README:166-168 trains drn_d_22 with -s 896 --batch-size 32
    # --epochs 250 --step 100.
    "cityscapes": dict(classes=19, crop_size=(896, 896), batch_size=64, epochs=10,
                       lr=0.01, momentum=0.9, weight_decay=1e-4, lr_mode="step",
                       step=200),
    "camvid": dict(classes=11, crop_size=(384, 384), batch_size=16, epochs=10,
                   lr=0.01, momentum=0.9, weight_decay=1e-4, lr_mode="step", step=200),
    "pascal_voc": dict(classes=21, crop_size=(512, 512), batch_size=16, epochs=10,
                       lr=0.01, momentum=0.9, weight_decay=1e-4, lr_mode="step",
                       step=200, eval_size=(512, 512)),
}
RECIPES["cityscapes_tfds"] = RECIPES["cityscapes"]
