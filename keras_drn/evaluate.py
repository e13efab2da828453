"""Scores a folder of prediction PNGs against ground truth (console script
`keras-drn-evaluate`).

    python -m keras_drn.evaluate PRED_DIR GT_DIR --dataset cityscapes [--ids label|train]
        [--json] [--subset] [--table PREFIX --name NAME] [--plots DIR]

Cityscapes: the ground truth is found recursively (`*_labelIds.png`, or
`*_trainIds.png`), predictions are paired by their `city_sequence_frame` prefix, and
the scores equal the official `cityscapesscripts` evaluation (class IoU, category IoU,
and iIoU when `*_instanceIds.png` sit next to the ground truth). `--ids` says what the
predictions hold: train ids (0..18, the default) or label ids (the benchmark format).
"""

from __future__ import annotations

from keras_drn.cli.quiet import import_tensorflow

# This command imports TensorFlow (through keras_drn.inference and friends);
# import it first with its start-up lines kept off the terminal.
import_tensorflow()

import argparse
import json
import sys
from pathlib import Path

from keras_drn.evaluation.folders import EvaluationError
from keras_drn.evaluation.folders import evaluate_folder
from keras_drn.evaluation.report import format_iou_table
from keras_drn.evaluation.report import format_scores
from keras_drn.evaluation.report import write_iou_table
from keras_drn.evaluation.report import write_text_atomic


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m keras_drn.evaluate",
        description="Score prediction PNGs against ground truth (mean IoU, per-class "
                    "IoU; Cityscapes category IoU and iIoU as the official script).",
    )
    parser.add_argument("pred_dir", help="folder of prediction PNGs (searched "
                                         "recursively)")
    parser.add_argument("gt_dir", help="ground-truth folder (searched recursively), "
                                       "e.g. cityscapes/gtFine/val")
    parser.add_argument("--dataset", default="cityscapes",
                        help="cityscapes (default), camvid, kitti, pascal_voc or "
                             "synthetic")
    parser.add_argument("--ids", default="train", choices=("train", "label"),
                        help="what the predictions hold: train ids (0..18) or "
                             "Cityscapes label ids (default: train)")
    parser.add_argument("--json", action="store_true",
                        help="print the scores as JSON instead of tables")
    parser.add_argument("--output", metavar="FILE",
                        help="also write the JSON scores (with the confusion matrix) "
                             "to FILE")
    parser.add_argument("--subset", action="store_true",
                        help="score only the ground truth that has a prediction")
    parser.add_argument("--no-iiou", action="store_true",
                        help="skip the instance-level iIoU even where "
                             "*_instanceIds.png exist")
    parser.add_argument("--table", metavar="PREFIX",
                        help="write the per-class table (paper layout) to "
                             "PREFIX.csv and PREFIX.md")
    parser.add_argument("--name", help="the row name in the table (default: the "
                                       "prediction folder's name)")
    parser.add_argument("--plots", metavar="DIR",
                        help="write confusion_matrix.png and class_iou.png to DIR")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rscored {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        scores = evaluate_folder(
            args.pred_dir, args.gt_dir, dataset=args.dataset, ids=args.ids,
            subset=args.subset, instances=False if args.no_iiou else None,
            progress=None if args.quiet else _progress,
        )
    except (EvaluationError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    name = args.name or Path(args.pred_dir).resolve().name
    if args.json:
        print(json.dumps(scores.to_dict(include_matrix=False), indent=2))
    else:
        print(format_scores(scores))
        print()
        print(format_iou_table({name: scores.per_class_iou}, scores.class_names))
    if args.output:
        write_text_atomic(args.output, json.dumps(scores.to_dict(), indent=2) + "\n")
    if args.table:
        paths = write_iou_table({name: scores.per_class_iou}, scores.class_names,
                                args.table)
        if not args.json:
            print("wrote " + ", ".join(map(str, paths)))
    if args.plots:
        from keras_drn.meta.palettes import PALETTES
        from keras_drn.visualize.plots import plot_confusion_matrix
        from keras_drn.visualize.plots import plot_iou_bars

        out = Path(args.plots)
        plot_confusion_matrix(scores.matrix, scores.class_names,
                              out / "confusion_matrix.png")
        plot_iou_bars(scores.per_class_iou, scores.class_names, out / "class_iou.png",
                      title=f"{name}: mean IoU {100 * scores.mean_iou:.1f}",
                      colors=PALETTES.get(args.dataset))
        if not args.json:
            print(f"wrote {out / 'confusion_matrix.png'}, {out / 'class_iou.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
