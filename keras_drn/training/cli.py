"""The flags of the training command lines, and the TrainConfig they give.

One parser builder serves every training command (`keras_drn.cli.train`): the
segmentation commands take fyu/drn segment.py's flags with their meanings, ImageNet
takes classify.py's aliases (-a, -b, -p, --learning-rate), and both share the system,
output and schedule flags. Nothing here imports TensorFlow, so `--help` is immediate.

    keras-drn-cityscapes train                       # synthetic, a few minutes
    keras-drn-cityscapes train -d <cityscapes> -c 19 -s 896 --arch drn_d_22 \
        --batch-size 32 --epochs 250 --lr 0.01 --momentum 0.9 --step 100
    keras-drn-imagenet train -d <imagenet> --arch drn_d_22 --epochs 120

Library errors name parameters (`ParameterError`: `batch_size=6`); `with_flags`
rewrites such a message with this parser's flags (`--batch-size 6`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from dataclasses import dataclass

from keras_drn.training.config import RECIPES
from keras_drn.training.config import TrainConfig
from keras_drn.training.config import dilation_recipe
from keras_drn.training.preemption import EXIT_STATUSES

STRATEGIES = ("auto", "default", "one_device", "mirrored", "multi_worker", "tpu")
RECIPE = "(default: the dataset's recipe)"
# TrainConfig fields (and other parameter names of library errors) whose flag is not
# `--` + the field with hyphens.
FLAG_OF = {"family": "--model", "dilation_stage": "--stage", "flip": "--no-flip",
           "global_batch": "--batch-size"}


@dataclass(frozen=True)
class Command:
    """What one training command is.

    Attributes:
        prog: the program name in messages (None: argparse's, from sys.argv[0]).
        description: the first line of --help.
        datasets: the --dataset choices.
        default_dataset: the data set without --dataset and --data-dir.
        real_dataset: the data set with --data-dir and without --dataset.
        dilation: whether --model dilation (the ICLR 2016 networks) is offered.
        task: "segmentation" or "classification" (ImageNet).
    """

    prog: str | None
    description: str
    datasets: tuple[str, ...]
    default_dataset: str
    real_dataset: str
    dilation: bool = False
    task: str = "segmentation"

    def replace(self, **changes) -> Command:
        """A copy with `changes` (field=value) applied."""
        return dataclasses.replace(self, **changes)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """--help with each default shown once: "(default: X)" is added to an option's
    help unless the help already says its default, or the default is None or off."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if "default" in text.lower() or not action.option_strings or default is None \
                or default is False or default == "" or default == argparse.SUPPRESS:
            return text
        return text + " (default: %(default)s)"


def size(text: str) -> tuple[int, int]:
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


def build_parser(command: Command) -> argparse.ArgumentParser:
    """The parser of `command`: the shared flags plus its task's."""
    segmentation = command.task == "segmentation"
    p = argparse.ArgumentParser(
        prog=command.prog, description=command.description,
        epilog="exit status:\n" + "\n".join(
            f"  {code:3d}  {text}" for code, text in EXIT_STATUSES.items())
        + "\nSee docs/training.md.",
        formatter_class=HelpFormatter)
    p.add_argument("cmd", choices=["train", "test"],
                   help="train, or test a model: " + (
                       "predict --phase, and score it where labels exist"
                       if segmentation else "validate it"))
    ref = p.add_argument_group(
        f"fyu/drn {'segment' if segmentation else 'classify'}.py flags (same meanings)")
    ours = p.add_argument_group("keras-drn flags")
    data = ("-d", "--data-dir") if segmentation else ("-d", "--data-dir", "--data")
    ref.add_argument(*data, dest="data_dir", default=None,
                     help="the data directory: list files or the dataset's own layout"
                     if segmentation else "the data directory: train/<class>/ and "
                                          "val/<class>/ image folders")
    ref.add_argument("-c", "--classes", type=int, default=None,
                     help="number of classes (default: the dataset's)" if segmentation
                     else "number of classes (default: the number of class folders)")
    ref.add_argument("-s", "--crop-size", type=size, default=None,
                     help=f"training crop, N or H,W {RECIPE}")
    ref.add_argument("--step", type=int, default=None,
                     help=f"epochs between x0.1 learning-rate decays (--lr-mode step) "
                          f"{RECIPE}")
    ref.add_argument(*(("--arch",) if segmentation else ("-a", "--arch")), default=None,
                     help=f"drn_d_22, drn_c_26, drn_d_105, ... {RECIPE}")
    ref.add_argument(*(("--batch-size",) if segmentation else ("-b", "--batch-size")),
                     type=int, default=None,
                     help=f"global batch size, split across replicas {RECIPE}")
    ref.add_argument("--epochs", type=int, default=None, help=f"epochs {RECIPE}")
    ref.add_argument(*(("--lr",) if segmentation else ("--lr", "--learning-rate")),
                     dest="lr", type=float, default=None,
                     help=f"the initial learning rate {RECIPE}")
    ref.add_argument("--lr-mode", choices=["step", "poly"], default=None,
                     help=f"the learning-rate schedule {RECIPE}")
    ref.add_argument("--momentum", type=float, default=None,
                     help=f"SGD momentum {RECIPE}")
    ref.add_argument("--weight-decay", "--wd", type=float, default=None,
                     help=f"L2 weight decay {RECIPE}")
    ref.add_argument("-e", "--evaluate", action="store_true",
                     help="only validate the (resumed or pretrained) model")
    ref.add_argument("--resume", default=None, metavar="PATH",
                     help="continue training from a run directory or checkpoint; in "
                          "test mode, the checkpoint to evaluate")
    ref.add_argument("--pretrained", default=None, metavar="PATH|NAME",
                     help="full-model weights: a released name ('cityscapes', "
                          "'imagenet', ...), a keras-hub preset (a run's "
                          "<output-dir>/preset) or a .pth/.pth.tar/.weights.h5/.keras/"
                          ".caffemodel file")
    ref.add_argument("--save_iter", "--save-iter", dest="save_iter", type=int,
                     default=0,
                     help="epochs between kept history checkpoints (default: 0, none)")
    ref.add_argument("-j", "--workers", type=int, default=0,
                     help="parallel decode calls (default: 0, tf.data autotune)")
    ref.add_argument(*(("--print-freq",) if segmentation else ("-p", "--print-freq")),
                     type=int, default=10,
                     help="steps between progress lines when not on a terminal")
    ref.add_argument("--bn-sync", action="store_true",
                     help="synchronise BatchNorm statistics across replicas")
    if segmentation:
        _segmentation_flags(ref, ours, command)
    ours.add_argument("--dataset", choices=command.datasets, default=None,
                      help=f"the data set (default: {command.default_dataset})"
                      if command.default_dataset == command.real_dataset else
                      f"the data set (default: {command.default_dataset}, or "
                      f"{command.real_dataset} when --data-dir is given)")
    _shared_flags(ours)
    return p


def _segmentation_flags(ref, ours, command: Command) -> None:
    ref.add_argument("-l", "--list-dir", default=None,
                     help="where {phase}_images.txt etc. are (default: --data-dir)")
    ref.add_argument("--save_path", "--save-path", dest="save_path", default=None,
                     help="alias of --output-dir")
    ref.add_argument("--load-release", dest="load_rel", default=None,
                     help="alias of --pretrained")
    ref.add_argument("--phase", default="val", choices=["train", "val", "test"],
                     help="test mode: the split to predict")
    ref.add_argument("--random-scale", type=float, default=None,
                     help=f"random rescaling range of training images {RECIPE}")
    ref.add_argument("--random-rotate", type=float, default=None,
                     help=f"random rotation range in degrees {RECIPE}")
    ref.add_argument("--ms", action="store_true", help="multi-scale testing")
    ref.add_argument("--with-gt", action="store_true",
                     help="score --phase test too (labels available)")
    ref.add_argument("--test-suffix", default="",
                     help="appended to the test mode's output folder")
    ours.add_argument("--head", choices=["reference", "bilinear"], default="reference",
                      help="DRNSeg's upsampling head")
    ours.add_argument("--backbone-weights", default=None,
                      help="'imagenet', a classifier checkpoint or a DRNBackbone "
                           "preset for the backbone")
    ours.add_argument("--eval-size", type=size, default=None,
                      help="pad validation images to H,W (needed on TPU)")
    ours.add_argument("--sbd-dir", default=None, help="pascal_voc: SBD's dataset/ folder")
    ours.add_argument("--synthetic-size", type=size, default=(128, 256),
                      help="synthetic: scene size H,W (default: 128,256)")
    ours.add_argument("--val-count", type=int, default=100,
                      help="synthetic: validation scenes")
    if command.dilation:
        ours.add_argument("--model", choices=["drn", "dilation"], default="drn",
                          help="DRNSeg, or the ICLR 2016 front end + context module")
        ours.add_argument("--stage", choices=["frontend", "context", "joint"],
                          default="joint",
                          help="--model dilation: which part to train (fyu/dilation "
                               "docs/training.md); each has its recipe")


def _shared_flags(ours) -> None:
    ours.add_argument("--strategy", default="auto", choices=STRATEGIES,
                      help="the tf.distribute strategy (auto: TPU, multi-worker, "
                           "several GPUs or none, as available)")
    ours.add_argument("--tpu", default=None, help="TPU name or address ('local' on a VM)")
    ours.add_argument("--mixed-precision", choices=["float16", "bfloat16"], default=None,
                      help="mixed-precision compute (default: float32)")
    ours.add_argument("--jit-compile", action="store_true", help="compile with XLA")
    ours.add_argument("--steps-per-epoch", type=int, default=None,
                      help="steps per epoch (default: examples // batch, or the "
                           "dataset's recipe)")
    ours.add_argument("--output-dir", default=None,
                      help="checkpoints, weights, logs, tables (default: "
                           "runs/<arch>_<dataset>)")
    ours.add_argument("--logdir", default=None,
                      help="TensorBoard (default: <output-dir>/logs)")
    ours.add_argument("--seed", type=int, default=0, help="the random seed")
    ours.add_argument("--width", type=float, default=None,
                      help="channel multiplier of the DRN, 1 for the papers' models "
                           f"{RECIPE}")
    ours.add_argument("--checkpoint-steps", type=int, default=0,
                      help="also checkpoint every N steps (default: 0, at epoch ends only)")
    ours.add_argument("--checkpoint-minutes", type=float, default=10.0,
                      help="also checkpoint every N minutes of training, so that a "
                           "kill without warning loses at most that (0: off)")
    ours.add_argument("--collective-timeout", type=float, default=300.0,
                      help="multi-worker: seconds an all-reduce waits for a worker "
                           "before the run stops as 'worker lost' (0: no limit)")
    ours.add_argument("--keep-checkpoints", type=int, default=3,
                      help="recent checkpoints kept")
    ours.add_argument("--eval-every", type=int, default=None,
                      help="epochs between validations, 0 for the end only (default: "
                           "1; 2 for synthetic)")
    ours.add_argument("--eval-batch-size", type=int, default=None,
                      help="validation batch (default: --batch-size)")
    ours.add_argument("--lr-per-iteration", action="store_true", default=None,
                      help="decay the learning rate every step, not every epoch")
    ours.add_argument("--warmup-epochs", type=float, default=None,
                      help=f"epochs of linear learning-rate warm-up {RECIPE}")
    ours.add_argument("--no-flip", action="store_true", help="no horizontal flips")
    ours.add_argument("--deterministic", action="store_true",
                      help="deterministic ops (bit-exact resumes; slower)")
    ours.add_argument("--steps-per-execution", type=int, default=1,
                      help="steps per compiled call (larger on TPU)")
    ours.add_argument("--manual-dir", default=None,
                      help="cityscapes_tfds, imagenet_tfds: where the downloaded "
                           "archives are")
    ours.add_argument("--tfds-data-dir", default=None,
                      help="tensorflow-datasets' data directory")


def resolve_dataset(args, command: Command) -> str:
    """--dataset, else the real data set with --data-dir, else the default one."""
    if args.dataset:
        return args.dataset
    return command.real_dataset if args.data_dir else command.default_dataset


def _given(args) -> dict:
    """The recipe fields set on the command line (None: not given)."""
    names = ("arch", "width", "classes", "crop_size", "batch_size", "epochs", "lr",
             "momentum", "weight_decay", "lr_mode", "step", "random_scale",
             "random_rotate", "steps_per_epoch", "warmup_epochs", "lr_per_iteration",
             "eval_size", "eval_every")
    return {name: getattr(args, name) for name in names
            if getattr(args, name, None) is not None}


def make_config(args, dataset: str, recipe: dict | None = None) -> TrainConfig:
    """The run's TrainConfig: the flags over the dataset's recipe over TrainConfig's
    defaults.

    Args:
        args: the parsed flags.
        dataset: the resolved data set.
        recipe: the defaults to start from (default: `config.RECIPES[dataset]`, with
            a Dilation stage's recipe over it under --model dilation).
    """
    family = getattr(args, "model", "drn")
    stage = getattr(args, "stage", "joint")
    if recipe is None:
        recipe = dict(RECIPES.get(dataset, {}))
        if family == "dilation":
            recipe.update(dilation_recipe(stage))
    recipe = {**recipe, **_given(args)}
    arch = recipe.get("arch", "drn_d_22")
    output_dir = args.output_dir or getattr(args, "save_path", None) or os.path.join(
        "runs", f"{arch}_{dataset}")
    return TrainConfig(
        family=family, dilation_stage=stage, dataset=dataset,
        head=getattr(args, "head", "reference"),
        pretrained=args.pretrained or getattr(args, "load_rel", None),
        backbone_weights=getattr(args, "backbone_weights", None), flip=not args.no_flip,
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


def flag_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Parameter name -> the parser's flag for it ("batch_size" -> "--batch-size")."""
    flags = {}
    for action in parser._actions:
        longs = [o for o in action.option_strings if o.startswith("--")]
        if longs and action.dest not in flags:
            flags[action.dest] = next((o for o in longs if "_" not in o), longs[0])
    flags.update({k: v for k, v in FLAG_OF.items()
                  if v in parser._option_string_actions})
    return flags


def with_flags(error, flags: dict[str, str]) -> str:
    """The message of `error` (a `ParameterError`) in terms of the command line:
    each `name=value` of its parameters becomes `--flag value`; flags of parameters
    the message names otherwise are added at the end."""
    text = str(error)
    unnamed = []
    for name in getattr(error, "parameters", ()):
        flag = flags.get(name)
        if flag is None:
            continue
        text, count = re.subn(rf"(?<![\w-]){re.escape(name)}=", flag + " ", text)
        if not count and flag not in unnamed:
            unnamed.append(flag)
    if unnamed:
        text += f" (on the command line: {', '.join(unnamed)})"
    return text
