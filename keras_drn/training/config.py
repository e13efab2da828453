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
    """The settings of a training run; every field has a default.

    The command lines fill it from their flags over the dataset's recipe (`RECIPES`);
    from Python, pass the fields you change.

    Example:
    ```python
    config = TrainConfig(arch="drn_d_22", width=0.5, crop_size=(64, 64), batch_size=4,
                         epochs=1, steps_per_epoch=10, output_dir="runs/tiny")
    config.replace(lr=0.05)   # a copy with another learning rate
    ```
    """

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
        """A copy with `changes` (field=value) applied."""
        return dataclasses.replace(self, **changes)

    def resume_settings(self) -> dict:
        """The settings a resumed run must share with the run it continues."""
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
# fyu/drn classify.py: SGD lr 0.1, momentum 0.9, weight decay 1e-4, batch 256, x0.1
# every 30 epochs (90 epochs by default; the README trains 120), crop 224.
RECIPES["imagenet"] = dict(arch="drn_d_22", classes=1000, crop_size=(224, 224),
                           batch_size=256, epochs=90, lr=0.1, momentum=0.9,
                           weight_decay=1e-4, lr_mode="step", step=30)

# The ICLR 2016 networks (fyu/dilation docs/training.md and train.py), per stage, over
# the dataset's recipe; `keras_drn.training.dilation` trains them.
DILATION_STAGES = ("frontend", "context", "joint")
DILATION_RECIPES = {
    "frontend": dict(batch_size=14, crop_size=(500, 500), lr=1e-4),
    "context": dict(batch_size=60, crop_size=(900, 900), lr=1e-3),
    "joint": dict(batch_size=14, crop_size=(500, 500), lr=1e-5),
}
# All stages: 400k iterations as 40 epochs of 10,000 steps, x0.1 every 10 epochs.
DILATION_COMMON = dict(momentum=0.9, weight_decay=5e-4, lr_mode="step", epochs=40,
                       steps_per_epoch=10_000, step=10)


def dilation_recipe(stage: str) -> dict:
    """The TrainConfig fields of a Dilation stage ("frontend", "context", "joint").

    Raises:
        ParameterError: an unknown stage.
    """
    if stage not in DILATION_STAGES:
        from keras_drn.training.errors import ParameterError

        raise ParameterError(f"Invalid dilation_stage={stage!r}; expected one of "
                             f"{DILATION_STAGES}.", "dilation_stage")
    return dict(DILATION_COMMON, **DILATION_RECIPES[stage], arch=f"dilation_{stage}",
                eval_every=1)
