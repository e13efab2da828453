"""Training: losses, schedules, the distributed trainer, checkpoints and logs.

`SegmentationTrainer` (trainer.py) runs one custom step through `strategy.run` for
every `tf.distribute` strategy; `train/*.py` are thin command lines over it.
"""

from keras_drn.training.config import RECIPES
from keras_drn.training.config import TrainConfig
from keras_drn.training.schedules import DRNSchedule
from keras_drn.training.trainer import SegmentationTrainer
from keras_drn.training.trainer import TrainingDiverged

__all__ = [
    "RECIPES",
    "DRNSchedule",
    "SegmentationTrainer",
    "TrainConfig",
    "TrainingDiverged",
]
