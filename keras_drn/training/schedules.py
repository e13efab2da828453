"""Learning-rate schedules of fyu/drn (segment.py:436-449, classify.py:317-322).

    step: lr * 0.1 ** (epoch // step)
    poly: lr * (1 - epoch / epochs) ** 0.9

The reference sets the rate once per epoch (integer epochs); `per_iteration=True`
uses the fractional epoch instead, which suits runs of only a few epochs. An optional
linear warm-up ramps from `warmup_start * lr` to the schedule over `warmup_epochs`.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_drn.training.errors import ParameterError

MODES = ("step", "poly")
POLY_POWER = 0.9


@keras.saving.register_keras_serializable(package="keras_drn")
class DRNSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The learning rate at optimizer iteration `step`, as the reference computes it
    per epoch.

    Args:
        base_lr: the initial rate (TrainConfig.lr).
        mode: "step" or "poly" (TrainConfig.lr_mode).
        steps_per_epoch: optimizer steps per epoch.
        epochs: total epochs (poly's horizon).
        step: epochs between x0.1 decays ("step" mode).
        per_iteration: decay with the fractional epoch rather than the integer one.
        warmup_epochs: length of a linear warm-up (may be fractional); 0 for none.
        warmup_start: the warm-up's first rate, as a fraction of the schedule's.
    """

    def __init__(self, base_lr: float, mode: str = "step", *, steps_per_epoch: int,
                 epochs: int, step: int = 200, per_iteration: bool = False,
                 warmup_epochs: float = 0.0, warmup_start: float = 0.0):
        if mode not in MODES:
            raise ParameterError(f"Invalid lr_mode={mode!r}; expected one of {MODES}.",
                                 "lr_mode")
        if steps_per_epoch < 1 or epochs < 1 or step < 1:
            raise ParameterError(
                f"Invalid steps_per_epoch={steps_per_epoch}, epochs={epochs} or step="
                f"{step}: each must be positive.", "steps_per_epoch", "epochs", "step")
        self.base_lr = float(base_lr)
        self.mode = mode
        self.steps_per_epoch = int(steps_per_epoch)
        self.epochs = int(epochs)
        self.step = int(step)
        self.per_iteration = bool(per_iteration)
        self.warmup_epochs = float(warmup_epochs)
        self.warmup_start = float(warmup_start)

    def __call__(self, iteration):
        iteration = ops.cast(iteration, "float32")
        epoch = iteration / self.steps_per_epoch
        if not self.per_iteration:
            epoch = ops.floor(epoch)
        if self.mode == "step":
            lr = self.base_lr * ops.power(0.1, ops.floor(epoch / self.step))
        else:
            progress = ops.clip(epoch / self.epochs, 0.0, 1.0)
            lr = self.base_lr * ops.power(1.0 - progress, POLY_POWER)
        if self.warmup_epochs > 0:
            # (iteration + 1): the first step already moves the weights.
            exact = (iteration + 1.0) / self.steps_per_epoch
            ramp = ops.clip(exact / self.warmup_epochs, 0.0, 1.0)
            lr = lr * (self.warmup_start + (1.0 - self.warmup_start) * ramp)
        return lr

    def get_config(self):
        return {
            "base_lr": self.base_lr, "mode": self.mode,
            "steps_per_epoch": self.steps_per_epoch, "epochs": self.epochs,
            "step": self.step, "per_iteration": self.per_iteration,
            "warmup_epochs": self.warmup_epochs, "warmup_start": self.warmup_start,
        }
