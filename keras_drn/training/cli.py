"""The segmentation command line shared by train/cityscapes.py, camvid.py and
pascal_voc.py: fyu/drn segment.py's flags with their meanings, plus ours.

    python train/cityscapes.py train                       # synthetic, a few minutes
    python train/cityscapes.py train -d <cityscapes> -c 19 -s 896 --arch drn_d_22 \
        --batch-size 32 --epochs 250 --lr 0.01 --momentum 0.9 --step 100
    python train/cityscapes.py test -d <cityscapes> -c 19 --arch drn_d_22 \
        --resume runs/drn --phase val [--ms]
"""

from __future__ import annotations

import argparse
import os
import sys

from keras_drn.training.config import RECIPES
from keras_drn.training.config import TrainConfig
from keras_drn.training.preemption import EXIT_DATA_ERROR
from keras_drn.training.preemption import EXIT_DIVERGED
from keras_drn.training.preemption import EXIT_LOST_WORKER
from keras_drn.training.preemption import EXIT_PREEMPTED
from keras_drn.training.preemption import exit_status_help


def _size(text: str) -> tuple[int, int]:
    """"896" -> (896, 896); "512,1024" or "512x1024" -> (512, 1024) (height, width)."""
    parts = text.replace("x", ",").split(",")
    try:
        values = [int(p) for p in parts if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid size {text!r}: expected N or H,W (pixels)") from None
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"invalid size {text!r}: expected N or H,W (pixels)")
    return values[0], values[1]


def build_parser(*, prog: str, datasets: tuple[str, ...], default_dataset: str,
                 description: str, dilation: bool = False) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=description,
                                epilog=exit_status_help() + ". See docs/training.md.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("cmd", choices=["train", "test"])
    ref = p.add_argument_group("fyu/drn segment.py flags (same meanings)")
    ref.add_argument("-d", "--data-dir", default=None,
                     help="the data directory (list files, or the dataset's own layout)")
    ref.add_argument("-l", "--list-dir", default=None,
                     help="where {phase}_images.txt etc. are (default: --data-dir)")
    ref.add_argument("-c", "--classes", type=int, default=None,
                     help="number of classes (default: the dataset's)")
    ref.add_argument("-s", "--crop-size", type=_size, default=None,
                     help="training crop, N or H,W")
    ref.add_argument("--step", type=int, default=None,
                     help="epochs between x0.1 learning-rate decays (--lr-mode step)")
    ref.add_argument("--arch", default=None, help="drn_d_22, drn_c_26, drn_d_105, ...")
    ref.add_argument("--batch-size", type=int, default=None,
                     help="global batch size (split across replicas)")
    ref.add_argument("--epochs", type=int, default=None)
    ref.add_argument("--lr", type=float, default=None)
    ref.add_argument("--lr-mode", choices=["step", "poly"], default=None)
    ref.add_argument("--momentum", type=float, default=None)
    ref.add_argument("--weight-decay", "--wd", type=float, default=None)
    ref.add_argument("-e", "--evaluate", action="store_true",
                     help="only validate the (resumed or pretrained) model")
    ref.add_argument("--resume", default=None, metavar="PATH",
                     help="continue training from a run directory or checkpoint; in "
                          "test mode, the checkpoint to evaluate")
    ref.add_argument("--pretrained", default=None, metavar="PATH|NAME",
                     help="full-model weights: a released name such as 'cityscapes', "
                          "a keras-hub preset (a run's <output-dir>/preset) or a "
                          ".pth/.pth.tar/.weights.h5/.keras/.caffemodel file")
    ref.add_argument("--save_path", "--save-path", dest="save_path", default=None,
                     help="alias of --output-dir")
    ref.add_argument("--save_iter", "--save-iter", dest="save_iter", type=int,
                     default=0, help="epochs between kept history checkpoints (0: none)")
    ref.add_argument("-j", "--workers", type=int, default=0,
                     help="parallel decode calls (0: tf.data autotune)")
    ref.add_argument("--load-release", dest="load_rel", default=None,
                     help="alias of --pretrained")
    ref.add_argument("--phase", default="val", choices=["train", "val", "test"])
    ref.add_argument("--random-scale", type=float, default=None)
    ref.add_argument("--random-rotate", type=float, default=None)
    ref.add_argument("--bn-sync", action="store_true",
                     help="synchronise BatchNorm statistics across replicas")
    ref.add_argument("--ms", action="store_true", help="multi-scale testing")
    ref.add_argument("--with-gt", action="store_true",
                     help="score --phase test too (labels available)")
    ref.add_argument("--test-suffix", default="")
    ours = p.add_argument_group("keras-drn flags")
    ours.add_argument("--dataset", choices=datasets, default=None,
                      help=f"default: {default_dataset}, or the real data set when "
                           f"--data-dir is given")
    ours.add_argument("--strategy", default="auto",
                      choices=["auto", "default", "one_device", "mirrored",
                               "multi_worker", "tpu"])
    ours.add_argument("--tpu", default=None, help="TPU name or address ('local' on a VM)")
    ours.add_argument("--mixed-precision", choices=["float16", "bfloat16"], default=None)
    ours.add_argument("--jit-compile", action="store_true", help="compile with XLA")
    ours.add_argument("--steps-per-epoch", type=int, default=None)
    ours.add_argument("--output-dir", default=None,
                      help="checkpoints, weights, logs, tables (default runs/<arch>)")
    ours.add_argument("--logdir", default=None, help="TensorBoard (default <output>/logs)")
    ours.add_argument("--seed", type=int, default=0)
    ours.add_argument("--width", type=float, default=None,
                      help="channel multiplier of the DRN (1: the papers' models)")
    ours.add_argument("--head", choices=["reference", "bilinear"], default="reference")
    ours.add_argument("--backbone-weights", default=None,
                      help="'imagenet', a classifier checkpoint or a DRNBackbone "
                           "preset for the backbone")
    ours.add_argument("--checkpoint-steps", type=int, default=0,
                      help="also checkpoint every N steps (0: at epoch ends only)")
    ours.add_argument("--checkpoint-minutes", type=float, default=10.0,
                      help="also checkpoint every N minutes of training, so that a "
                           "kill without warning loses at most that (0: off)")
    ours.add_argument("--collective-timeout", type=float, default=300.0,
                      help="multi-worker: seconds an all-reduce waits for a worker "
                           "before the run stops as 'worker lost' (0: no limit)")
    ours.add_argument("--keep-checkpoints", type=int, default=3)
    ours.add_argument("--eval-every", type=int, default=None,
                      help="epochs between validations (0: at the end only; default 1, "
                           "2 for synthetic)")
    ours.add_argument("--eval-batch-size", type=int, default=None)
    ours.add_argument("--eval-size", type=_size, default=None,
                      help="pad validation images to H,W (needed on TPU)")
    ours.add_argument("--lr-per-iteration", action="store_true", default=None,
                      help="decay the learning rate every step, not every epoch")
    ours.add_argument("--warmup-epochs", type=float, default=None)
    ours.add_argument("--no-flip", action="store_true", help="no horizontal flips")
    ours.add_argument("--deterministic", action="store_true",
                      help="deterministic ops (bit-exact resumes; slower)")
    ours.add_argument("--steps-per-execution", type=int, default=1,
                      help="steps per compiled call (larger on TPU)")
    ours.add_argument("--print-freq", type=int, default=10)
    ours.add_argument("--manual-dir", default=None,
                      help="cityscapes_tfds: where the Cityscapes zips are")
    ours.add_argument("--tfds-data-dir", default=None,
                      help="cityscapes_tfds: tensorflow-datasets' data directory")
    ours.add_argument("--sbd-dir", default=None, help="pascal_voc: SBD's dataset/ folder")
    if dilation:
        ours.add_argument("--model", choices=["drn", "dilation"], default="drn",
                          help="DRNSeg, or the ICLR 2016 front end + context module")
        ours.add_argument("--stage", choices=["frontend", "context", "joint"],
                          default="joint",
                          help="--model dilation: which part to train (fyu/dilation "
                               "docs/training.md); each has its recipe")
    ours.add_argument("--synthetic-size", type=_size, default=(128, 256),
                      help="synthetic: scene size H,W")
    ours.add_argument("--val-count", type=int, default=100,
                      help="synthetic: validation scenes")
    return p


def resolve_dataset(args, default_dataset: str, real_dataset: str) -> str:
    if args.dataset:
        return args.dataset
    return real_dataset if args.data_dir else default_dataset


def make_config(args, dataset: str) -> TrainConfig:
    """Flags over the dataset's recipe over TrainConfig's defaults."""
    recipe = dict(RECIPES.get(dataset, {}))
    family = getattr(args, "model", "drn")
    stage = getattr(args, "stage", "joint")
    if family == "dilation":
        from keras_drn.training import dilation

        recipe.update(dilation.COMMON, **dilation.RECIPES[stage],
                      arch=f"dilation_{stage}", eval_every=1)
    given = {
        "arch": args.arch, "width": args.width, "classes": args.classes,
        "crop_size": args.crop_size, "batch_size": args.batch_size,
        "epochs": args.epochs, "lr": args.lr, "momentum": args.momentum,
        "weight_decay": args.weight_decay, "lr_mode": args.lr_mode, "step": args.step,
        "random_scale": args.random_scale, "random_rotate": args.random_rotate,
        "steps_per_epoch": args.steps_per_epoch, "warmup_epochs": args.warmup_epochs,
        "lr_per_iteration": args.lr_per_iteration, "eval_size": args.eval_size,
        "eval_every": args.eval_every,
    }
    recipe.update({k: v for k, v in given.items() if v is not None})
    arch = recipe.get("arch", "drn_d_22")
    output_dir = args.output_dir or args.save_path or os.path.join(
        "runs", f"{arch}_{dataset}")
    return TrainConfig(
        family=family, dilation_stage=stage, dataset=dataset, head=args.head,
        pretrained=args.pretrained or args.load_rel,
        backbone_weights=args.backbone_weights, flip=not args.no_flip,
        eval_batch_size=args.eval_batch_size, strategy=args.strategy, tpu=args.tpu,
        mixed_precision=args.mixed_precision, jit_compile=args.jit_compile,
        bn_sync=args.bn_sync, seed=args.seed, deterministic=args.deterministic,
        steps_per_execution=args.steps_per_execution, output_dir=output_dir,
        logdir=args.logdir, checkpoint_steps=args.checkpoint_steps,
        checkpoint_minutes=args.checkpoint_minutes,
        collective_timeout=args.collective_timeout,
        keep_checkpoints=args.keep_checkpoints,
        resume=args.resume if args.cmd == "train" else None,
        print_freq=args.print_freq, **recipe,
    )


def sources(args, dataset: str, config: TrainConfig, splits=("train", "val")):
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


def main(argv=None, *, prog: str, datasets: tuple[str, ...], default_dataset: str,
         real_dataset: str, description: str, dilation: bool = False) -> int:
    from keras_drn.data.sources import DataError

    parser = build_parser(prog=prog, datasets=datasets, default_dataset=default_dataset,
                          description=description, dilation=dilation)
    args = parser.parse_args(argv)
    dataset = resolve_dataset(args, default_dataset, real_dataset)
    config = make_config(args, dataset)
    try:
        if args.cmd == "test":
            from keras_drn.training.testing import run_test

            return run_test(args, dataset, config)
        return run_train(args, dataset, config)
    except DataError as error:
        print(f"{prog}: data error: {error}", file=sys.stderr)
        return EXIT_DATA_ERROR


def run_train(args, dataset: str, config: TrainConfig) -> int:
    from keras_drn.training.trainer import SegmentationTrainer

    print(" ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]), flush=True)
    train_source, val_source = sources(args, dataset, config)
    trainer = SegmentationTrainer(config, train_source, val_source,
                                  dataset_name=dataset.replace("_tfds", ""),
                                  save_iter=args.save_iter, workers=args.workers)
    return run_trainer(trainer, evaluate=args.evaluate)


def run_trainer(trainer, evaluate: bool = False) -> int:
    """Trains (or, with `evaluate`, only validates the loaded checkpoint) and returns the
    command's exit status (keras_drn.training.preemption): 0; EXIT_DIVERGED (3) when
    training diverged; EXIT_PREEMPTED (143) after a checkpointed stop on SIGTERM or
    Ctrl-C; EXIT_LOST_WORKER (4) when a multi-worker peer was lost (the process then
    ends at once: TensorFlow's collectives cannot be shut down cleanly after that)."""
    from keras_drn.training.preemption import Preempted
    from keras_drn.training.preemption import WorkerLost
    from keras_drn.training.trainer import TrainingDiverged

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
