"""Training: losses, schedules, the distributed trainers, checkpoints and logs.

    base.py            Trainer: set-up, validation and the end of a run
    trainer.py         SegmentationTrainer (DRNSeg)
    dilation.py        DilationTrainer (the ICLR 2016 networks, three stages)
    classification.py  ClassificationTrainer (ImageNet)
    loop.py            the compiled steps and the epoch loop
    run_state.py       step, best score, checkpoints, run.json, resume
    reporters.py       console, progress, TensorBoard, tables, pictures
    precision.py       the dtype policy as a context manager, loss scaling
    cli.py             the training command lines' flags (keras_drn.cli.train)

Attributes are imported on first use, so that the command lines parse their arguments
before TensorFlow is imported.
"""

from keras_drn._lazy import lazy_exports

_EXPORTS = {
    "RECIPES": "keras_drn.training.config",
    "TrainConfig": "keras_drn.training.config",
    "DRNSchedule": "keras_drn.training.schedules",
    "Trainer": "keras_drn.training.base",
    "SegmentationTrainer": "keras_drn.training.trainer",
    "DilationTrainer": "keras_drn.training.dilation",
    "ClassificationTrainer": "keras_drn.training.classification",
    "ParameterError": "keras_drn.training.errors",
    "TrainingDiverged": "keras_drn.training.errors",
    "mixed_precision_policy": "keras_drn.training.precision",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
