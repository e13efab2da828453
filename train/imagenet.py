"""Train or evaluate a DRN classifier on ImageNet, with fyu/drn classify.py's recipe
(SGD 0.1, momentum 0.9, weight decay 1e-4, batch 256, x0.1 every 30 epochs,
RandomSizedCrop 224 + flip; validation: resize 256, centre crop 224).

    python train/imagenet.py train -d <imagenet> --arch drn_d_22 --epochs 120
    python train/imagenet.py train --dataset imagenet_tfds --manual-dir <tars> ...
    python train/imagenet.py test -d <imagenet> --arch drn_d_22 --pretrained imagenet

<imagenet> holds train/<class>/*.JPEG and val/<class>/*.JPEG (ImageFolder).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build_parser():
    from keras_drn.training.preemption import exit_status_help

    p = argparse.ArgumentParser(prog="train/imagenet.py", description=__doc__,
                                epilog=exit_status_help() + ".",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cmd", choices=["train", "test"])
    p.add_argument("-d", "--data-dir", "--data", dest="data_dir", default=None)
    p.add_argument("--dataset", choices=["imagenet", "imagenet_tfds"], default="imagenet")
    p.add_argument("--manual-dir", default=None)
    p.add_argument("--tfds-data-dir", default=None)
    p.add_argument("-a", "--arch", default=None)
    p.add_argument("--width", type=float, default=None)
    p.add_argument("-c", "--classes", type=int, default=None,
                   help="default: 1000, or the number of class folders")
    p.add_argument("--crop-size", type=int, default=None)
    p.add_argument("-b", "--batch-size", type=int, default=None)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--lr", "--learning-rate", dest="lr", type=float, default=None)
    p.add_argument("--momentum", type=float, default=None)
    p.add_argument("--weight-decay", "--wd", type=float, default=None)
    p.add_argument("--step", type=int, default=None, help="epochs between x0.1 decays")
    p.add_argument("--lr-mode", choices=["step", "poly"], default=None)
    p.add_argument("--warmup-epochs", type=float, default=None)
    p.add_argument("--steps-per-epoch", type=int, default=None)
    p.add_argument("--resume", default=None)
    p.add_argument("--pretrained", default=None, help="weights file or 'imagenet'")
    p.add_argument("-e", "--evaluate", action="store_true")
    p.add_argument("-j", "--workers", type=int, default=0)
    p.add_argument("-p", "--print-freq", type=int, default=10)
    p.add_argument("--strategy", default="auto",
                   choices=["auto", "default", "one_device", "mirrored", "multi_worker",
                            "tpu"])
    p.add_argument("--tpu", default=None)
    p.add_argument("--mixed-precision", choices=["float16", "bfloat16"], default=None)
    p.add_argument("--jit-compile", action="store_true")
    p.add_argument("--bn-sync", action="store_true")
    p.add_argument("--output-dir", default=None)
    p.add_argument("--logdir", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-steps", type=int, default=0)
    p.add_argument("--checkpoint-minutes", type=float, default=10.0,
                   help="also checkpoint every N minutes of training (0: off)")
    p.add_argument("--collective-timeout", type=float, default=300.0,
                   help="multi-worker: seconds an all-reduce waits for a worker")
    p.add_argument("--keep-checkpoints", type=int, default=3)
    p.add_argument("--eval-batch-size", type=int, default=None)
    p.add_argument("--deterministic", action="store_true")
    p.add_argument("--steps-per-execution", type=int, default=1)
    return p


def main(argv=None) -> int:
    from keras_drn.data import imagenet
    from keras_drn.data.sources import DataError
    from keras_drn.training.classification import RECIPE
    from keras_drn.training.classification import ClassificationTrainer
    from keras_drn.training.cli import run_trainer
    from keras_drn.training.config import TrainConfig
    from keras_drn.training.preemption import EXIT_DATA_ERROR

    args = build_parser().parse_args(argv)
    try:
        if args.dataset == "imagenet_tfds":
            train = imagenet.tfds_source("train", manual_dir=args.manual_dir,
                                         data_dir=args.tfds_data_dir)
            val = imagenet.tfds_source("val", manual_dir=args.manual_dir,
                                       data_dir=args.tfds_data_dir)
        else:
            train = imagenet.folder_source(args.data_dir, "train")
            val = imagenet.folder_source(args.data_dir, "val")
            train.check_files_exist()
    except DataError as error:
        print(f"train/imagenet.py: data error: {error}", file=sys.stderr)
        return EXIT_DATA_ERROR
    recipe = dict(RECIPE, classes=train.classes)
    given = {"arch": args.arch, "width": args.width, "classes": args.classes,
             "batch_size": args.batch_size, "epochs": args.epochs, "lr": args.lr,
             "momentum": args.momentum, "weight_decay": args.weight_decay,
             "step": args.step, "lr_mode": args.lr_mode,
             "warmup_epochs": args.warmup_epochs,
             "steps_per_epoch": args.steps_per_epoch,
             "crop_size": (args.crop_size,) * 2 if args.crop_size else None}
    recipe.update({k: v for k, v in given.items() if v is not None})
    output_dir = args.output_dir or os.path.join("runs", f"{recipe['arch']}_imagenet")
    config = TrainConfig(
        dataset="imagenet", strategy=args.strategy, tpu=args.tpu,
        mixed_precision=args.mixed_precision, jit_compile=args.jit_compile,
        bn_sync=args.bn_sync, seed=args.seed, deterministic=args.deterministic,
        steps_per_execution=args.steps_per_execution, output_dir=output_dir,
        logdir=args.logdir, checkpoint_steps=args.checkpoint_steps,
        checkpoint_minutes=args.checkpoint_minutes,
        collective_timeout=args.collective_timeout,
        keep_checkpoints=args.keep_checkpoints, eval_batch_size=args.eval_batch_size,
        resume=args.resume, pretrained=args.pretrained, print_freq=args.print_freq,
        **recipe)
    trainer = ClassificationTrainer(config, train, val, dataset_name="imagenet",
                                    workers=args.workers)
    return run_trainer(trainer, evaluate=args.cmd == "test" or args.evaluate)


if __name__ == "__main__":
    sys.exit(main())
