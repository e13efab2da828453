"""keras-drn-preset: a keras-hub preset directory from weights, with where they came
from and how faithful the conversion is.

    keras-drn-preset SRC --arch ARCH [--classes N] [--dataset D] [--head H] \
        [--width W] --output DIR [--no-parity]
    python export/make_preset.py SRC --arch drn_d_22 --output DIR

SRC: a .pth/.pth.tar (DRNSeg, or an ImageNet classifier: a DRNBackbone preset), a
.caffemodel (--arch dilation8_camvid, ...), a .weights.h5/.keras file, or a training run
directory (run.json + final.weights.h5). The preset records the source's SHA-256, the
parity with the PyTorch reference and a round-trip check in keras_drn.json, and the
command prints how to upload it (keras_hub.upload_preset). The library is
`keras_drn.presets_build`.

Exit status: 0 when written, 1 when the parity or the round trip fails (nothing is
kept), 2 for bad input (the message names the file or flag).
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from keras_drn.presets_build import DILATION_ARCHS
from keras_drn.presets_build import HEADS

DEFAULT_ATOL = 1e-4
# Parameters of keras_drn.presets_build -> this command's flags.
FLAGS = {"arch": "--arch", "classes": "--classes", "dataset": "--dataset",
         "head": "--head", "width": "--width", "atol": "--atol"}


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; each help text states its default once."""
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("src", help="a .pth/.pth.tar/.caffemodel checkpoint, a Keras "
                        ".weights.h5/.keras file, or a training run directory.")
    parser.add_argument("--arch", default=None,
                        help="drn_d_22, drn_c_26, ... or one of "
                        f"{', '.join(DILATION_ARCHS)} (default: a run's run.json).")
    parser.add_argument("--classes", type=int, default=None,
                        help="number of classes (default: read from the checkpoint or "
                        "run.json; the Dilation dataset's).")
    parser.add_argument("--dataset", default=None,
                        help="what the classes are (cityscapes, camvid, pascal_voc, "
                        "...): class names and input statistics.")
    parser.add_argument("--head", choices=HEADS, default=None,
                        help="DRNSeg's upsampling head (default: reference, or the "
                        "run's).")
    parser.add_argument("--width", type=float, default=None,
                        help="channel multiplier of a narrow DRN (Keras files; runs "
                        "record theirs).")
    parser.add_argument("--output", required=True, help="the preset directory to write.")
    parser.add_argument("--name", default=None,
                        help="the preset's name in the upload commands (default: the "
                        "output directory's name).")
    parser.add_argument("--no-parity", action="store_true",
                        help="skip the comparison with PyTorch.")
    parser.add_argument("--atol", type=float, default=DEFAULT_ATOL,
                        help="largest accepted |keras - torch| of the outputs "
                        f"(default: {DEFAULT_ATOL:g}).")
    return parser


def with_flags(error) -> str:
    """The message of a `keras_drn.presets_build` error with each `name=` of a
    parameter written as this command's flag (`arch='x'` -> `--arch='x'`)."""
    text = str(error)
    for name in getattr(error, "parameters", ()) or FLAGS:
        if name in FLAGS:
            text = re.sub(rf"(?<![\w-]){re.escape(name)}=", FLAGS[name] + "=", text)
    return text


def upload_commands(name: str, directory: str) -> list[str]:
    """The commands that re-host the preset on Kaggle Models and Hugging Face."""
    return [
        f'python -c "import keras_hub; keras_hub.upload_preset('
        f"'kaggle://<user>/drn/keras/{name}', '{directory}')\"",
        f'python -c "import keras_hub; keras_hub.upload_preset('
        f"'hf://<user>/{name}', '{directory}')\"",
    ]


def _fail(message: str, status: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def main(argv=None, *, prog: str | None = None) -> int:
    """Runs keras-drn-preset.

    Args:
        argv: the arguments (default: `sys.argv[1:]`).
        prog: the program name in the help (default: the script's).

    Returns:
        The exit status: 0 written, 1 a failed check, 2 bad input.
    """
    args = build_parser(prog).parse_args(argv)
    from keras_drn.cli.quiet import import_tensorflow

    import_tensorflow()
    from keras_drn import presets_build

    try:
        model, plan, info = presets_build.make_preset(
            args.src, args.output, arch=args.arch, classes=args.classes,
            dataset=args.dataset, head=args.head, width=args.width, name=args.name,
            parity=not args.no_parity, atol=args.atol, made_by="keras-drn-preset",
            arguments=sys.argv[1:] if argv is None else list(argv))
    except presets_build.CheckFailed as error:
        return _fail(with_flags(error), 1)
    except (ValueError, OSError) as error:
        return _fail(with_flags(error))
    _summary(model, plan, info, os.path.abspath(args.output))
    return 0


def _summary(model, plan, info, output):
    source, parity, check = info["source"], info["parity"], info["round_trip"]
    what = f"{info['class']} {plan.arch}"
    if plan.kind != "classifier":
        what += f", {info['classes']} classes"
    if info["head"] and plan.kind == "segmentation":
        what += f", head {info['head']}"
    print(f"wrote {output}: {what}, {model.count_params():,} parameters")
    print(f"source: {source['file_name']} ({source['size']:,} bytes, SHA-256 "
          f"{source['sha256']})")
    if "skipped" in parity:
        print(f"parity vs PyTorch: skipped ({parity['skipped']})")
    else:
        print(f"parity vs PyTorch ({parity['compared']}; checkpoint "
              f"{parity['checkpoint']}): max |keras - torch| = "
              f"{parity['max_abs_logit_diff']:.3g} over logits up to "
              f"{parity['max_abs_logit']:.3g} (atol {parity['atol']:g}): OK")
    print(f"round trip: max |reloaded - saved| = {check['max_abs_diff']:.3g}")
    loader = ("keras_drn.DRNBackbone" if plan.kind == "classifier"
              else f"keras_drn.{info['class']}")
    print(f"load it: {loader}.from_preset({output!r})")
    print("re-host it (Kaggle Models or Hugging Face):")
    for command in upload_commands(info["preset"], output):
        print(f"  {command}")


if __name__ == "__main__":
    sys.exit(main())
