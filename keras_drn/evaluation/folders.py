"""Scoring a folder of prediction PNGs against a ground-truth folder.

    scores = evaluate_folder("pred/", "gtFine/val/", dataset="cityscapes", ids="train")

Cityscapes pairs files as the official script does (`getPrediction`): the ground
truth is searched recursively for `*_labelIds.png` (or `*_trainIds.png`, the ids being
read from the name), and each is matched with the prediction whose name starts with
the same `city_sequence_frame` prefix, searched recursively in the prediction folder.
Other datasets pair files by their name without extension (the ground truth holds
class ids with 255 ignored).

Every problem is an `EvaluationError` that names the file: a missing counterpart, two
predictions for one frame, sizes that differ, a multi-channel PNG, an id out of range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from keras_drn.evaluation import cityscapes
from keras_drn.evaluation.scores import Scorer
from keras_drn.evaluation.scores import SegmentationScores
from keras_drn.files import list_image_files
from keras_drn.meta.labels import class_names as dataset_class_names

GT_SUFFIXES = {"_labelIds.png": "label", "_trainIds.png": "train"}


class EvaluationError(ValueError):
    """Bad evaluation input; the message names the file and what to do."""


@dataclass(frozen=True)
class Pair:
    """One prediction and its ground truth."""

    key: str
    prediction: Path
    ground_truth: Path
    gt_ids: str = "train"  # "label" or "train"
    instances: Path | None = None


def _pngs(folder: Path) -> list[Path]:
    return sorted(Path(p) for p in list_image_files(folder)
                  if p.lower().endswith(".png"))


def cityscapes_key(path: Path) -> str | None:
    """`city_sequence_frame` of a Cityscapes file name, or None if it has no such
    prefix (cityscapesscripts csHelpers.getCsFileInfo splits the name at "_")."""
    parts = Path(path).name.split("_")
    if len(parts) < 4 or not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    return "_".join(parts[:3])


def _check_folder(folder, what: str) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise EvaluationError(f"The {what} folder {folder} does not exist or is not a "
                              f"folder.")
    return folder


def _index(files, key_fn, what: str) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for path in files:
        key = key_fn(path)
        if key is None:
            continue
        if key in index:
            raise EvaluationError(
                f"Two {what} files for {key}: {index[key]} and {path}. Keep one (point "
                f"the {what} folder at the label PNGs only, not colour or overlay "
                f"folders)."
            )
        index[key] = path
    return index


def find_cityscapes_ground_truth(gt_dir) -> dict[str, tuple[Path, str]]:
    """Maps `city_seq_frame` to (ground-truth path, "label" | "train").

    A frame with both a labelIds and a trainIds file uses the labelIds file, as the
    official script."""
    gt_dir = _check_folder(gt_dir, "ground-truth")
    found: dict[str, tuple[Path, str]] = {}
    for path in _pngs(gt_dir):
        kind = next((k for s, k in GT_SUFFIXES.items() if path.name.endswith(s)), None)
        key = cityscapes_key(path)
        if kind is None or key is None:
            continue
        if key in found:
            other, other_kind = found[key]
            if other_kind == kind:
                raise EvaluationError(
                    f"Two ground-truth files for {key}: {other} and {path}."
                )
            if kind == "train":
                continue
        found[key] = (path, kind)
    if not found:
        raise EvaluationError(
            f"No Cityscapes ground truth under {gt_dir}: expected files named "
            f"<city>_<seq>_<frame>_gtFine_labelIds.png or ..._trainIds.png (searched "
            f"recursively)."
        )
    return found


def pair_files(pred_dir, gt_dir, *, dataset: str = "cityscapes",
               subset: bool = False) -> list[Pair]:
    """Pairs predictions with ground truth.

    Args:
        subset: score only the ground truth that has a prediction. By default every
            ground-truth file needs one, as in the official script.

    Raises:
        EvaluationError: a prediction without ground truth, ground truth without a
            prediction (unless `subset`), two files for one frame, empty folders.
    """
    pred_dir = _check_folder(pred_dir, "prediction")
    predictions = _pngs(pred_dir)
    if not predictions:
        raise EvaluationError(f"No prediction PNGs under {pred_dir}.")
    if dataset == "cityscapes":
        truth = find_cityscapes_ground_truth(gt_dir)
        unnamed = [p for p in predictions if cityscapes_key(p) is None]
        if unnamed:
            raise EvaluationError(
                f"The prediction {unnamed[0]} is not named <city>_<seq>_<frame>*.png; "
                f"the official pairing needs that prefix."
            )
        preds = _index(predictions, cityscapes_key, "prediction")
    else:
        gt_dir = _check_folder(gt_dir, "ground-truth")
        gt_index = _index(_pngs(gt_dir), lambda p: p.stem, "ground-truth")
        if not gt_index:
            raise EvaluationError(f"No ground-truth PNGs under {gt_dir}.")
        truth = {k: (v, "train") for k, v in gt_index.items()}
        preds = _index(predictions, lambda p: p.stem, "prediction")
    orphans = sorted(set(preds) - set(truth))
    if orphans:
        raise EvaluationError(
            f"The prediction {preds[orphans[0]]} has no ground truth under {gt_dir} "
            f"({len(orphans)} predictions without ground truth). Check the folders, or "
            f"remove predictions of other splits."
        )
    missing = sorted(set(truth) - set(preds))
    if missing and not subset:
        raise EvaluationError(
            f"Found no prediction for the ground truth {truth[missing[0]][0]} "
            f"({len(missing)} of {len(truth)} ground-truth files have none). Point "
            f"the ground-truth folder at one split (e.g. gtFine/val), predict every "
            f"image, or pass subset=True (--subset) to score only those predicted."
        )
    pairs = []
    for key in sorted(preds):
        gt, kind = truth[key]
        instances = None
        if dataset == "cityscapes":
            candidate = gt.with_name(gt.name.replace(f"{kind}Ids", "instanceIds"))
            instances = candidate if candidate.is_file() else None
        pairs.append(Pair(key, preds[key], gt, kind, instances))
    return pairs


def read_id_png(path, what: str) -> np.ndarray:
    """Reads a single-channel PNG of ids exactly as stored.

    Palette images give their indices; 16-bit and 32-bit integer images (I;16, I, as
    instance maps are) keep their values, which `keras_drn.files.read_image`'s 8-bit
    "L" mode would clip.

    Args:
        path: the PNG.
        what: what the file is ("prediction", "ground truth", ...), for messages.

    Returns:
        The (H, W) array of ids.

    Raises:
        EvaluationError: the file is unreadable or not single-channel; the message
            names it.
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            if image.mode not in ("L", "P", "I", "I;16", "1"):
                raise EvaluationError(
                    f"The {what} {path} is a {image.mode} image; expected a "
                    f"single-channel PNG of ids (not a colourised picture)."
                )
            return np.asarray(image)
    except EvaluationError:
        raise
    except (OSError, ValueError) as error:
        raise EvaluationError(f"Cannot read the {what} {path}: {error}") from None


def _load_pair(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    pred = read_id_png(pair.prediction, "prediction")
    gt = read_id_png(pair.ground_truth, "ground truth")
    if pred.shape != gt.shape:
        raise EvaluationError(
            f"The prediction {pair.prediction} is {pred.shape[1]}x{pred.shape[0]} "
            f"(WxH) but its ground truth {pair.ground_truth} is "
            f"{gt.shape[1]}x{gt.shape[0]}. Predict at the ground truth's resolution."
        )
    return pred, gt


def evaluate_pairs(pairs, *, dataset: str = "cityscapes", ids: str = "train",
                   instances: bool | None = None,
                   progress: Callable[[int, int], None] | None = None
                   ) -> SegmentationScores:
    """Scores `pairs` (from `pair_files`).

    Args:
        ids: what the predictions hold, "train" ids or Cityscapes "label" ids.
        instances: compute Cityscapes' iIoU from the *_instanceIds.png next to the
            ground truth; None: when every pair has one.
        progress: called with (done, total) after each image.
    """
    pairs = list(pairs)
    if dataset == "cityscapes":
        if ids not in cityscapes.ID_KINDS:
            raise EvaluationError(f"Invalid ids={ids!r}. Expected 'train' or 'label'.")
        if instances is None:
            instances = bool(pairs) and all(p.instances is not None for p in pairs)
        elif instances:
            lacking = [p for p in pairs if p.instances is None]
            if lacking:
                gt = lacking[0].ground_truth
                expected = gt.name.replace(f"_{lacking[0].gt_ids}Ids", "_instanceIds")
                raise EvaluationError(
                    f"No instance map {expected} next to {gt}; the iIoU needs one per "
                    f"ground-truth file (or compute without it: instances=False)."
                )
        scorer = cityscapes.CityscapesScorer(instances=instances)
    else:
        if ids != "train":
            raise EvaluationError(
                f"ids={ids!r} applies to Cityscapes only; {dataset} predictions hold "
                f"class ids."
            )
        scorer = Scorer(dataset_class_names(dataset), dataset=dataset)
    for i, pair in enumerate(pairs):
        pred, gt = _load_pair(pair)
        try:
            if dataset == "cityscapes":
                instance_map = None
                if scorer.instances:
                    instance_map = read_id_png(pair.instances, "instance map")
                scorer.update(gt, pred, label_ids=pair.gt_ids, prediction_ids=ids,
                              instance_ids=instance_map)
            else:
                scorer.update(gt, pred)
        except ValueError as error:
            raise EvaluationError(
                f"{pair.prediction} (ground truth {pair.ground_truth}): {error}"
            ) from None
        if progress is not None:
            progress(i + 1, len(pairs))
    return scorer.result()


def evaluate_folder(pred_dir, gt_dir, *, dataset: str = "cityscapes", ids: str = "train",
                    subset: bool = False, instances: bool | None = None,
                    progress: Callable[[int, int], None] | None = None
                    ) -> SegmentationScores:
    """Pairs and scores a prediction folder against a ground-truth folder.

    Args:
        pred_dir: folder of prediction PNGs (searched recursively).
        gt_dir: folder of ground truth (searched recursively).
        dataset: "cityscapes", or another dataset of `keras_drn.meta.class_names`.
        ids: "train" (0..18, 255 void) or "label" (Cityscapes label ids, as for the
            benchmark server) for the predictions; ground-truth ids come from the
            file names.
        subset: score only the ground truth that has a prediction.
        instances: iIoU from *_instanceIds.png (None: when all are present).
        progress: callback (done, total).

    Returns:
        SegmentationScores.
    """
    dataset_class_names(dataset)  # validates the name
    pairs = pair_files(pred_dir, gt_dir, dataset=dataset, subset=subset)
    return evaluate_pairs(pairs, dataset=dataset, ids=ids, instances=instances,
                          progress=progress)
