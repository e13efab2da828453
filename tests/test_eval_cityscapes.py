"""Cityscapes scores against the official cityscapesscripts evaluation, on fabricated
PNGs, and the evaluation command line."""

import importlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from keras_drn.evaluate import main as evaluate_main
from keras_drn.evaluation import EvaluationError
from keras_drn.evaluation import evaluate_folder

cs_labels = pytest.importorskip("cityscapesscripts.helpers.labels")

# cityscapesscripts' own tables, so the fabricated inputs do not depend on ours.
CS_TRAIN_OF_ID = np.array([cs_labels.id2label[i].trainId for i in range(34)], np.uint8)
CS_ID_OF_TRAIN = np.zeros(256, np.uint8)
for _train in range(19):
    CS_ID_OF_TRAIN[_train] = cs_labels.trainId2label[_train].id
CS_ID_OF_TRAIN[255] = cs_labels.trainId2label[255].id
KEYS = ["aachen_000000_000019", "aachen_000001_000019", "bonn_000010_000019",
        "bonn_000011_000019"]
SHAPE = (48, 64)


def _save(array, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """GT (label ids, train ids, instance ids) and predictions (label ids, train ids,
    and the train-id predictions converted to label ids for the official script)."""
    root = tmp_path_factory.mktemp("cityscapes")
    rng = np.random.default_rng(5)
    for key in KEYS:
        city = key.split("_")[0]
        # Blocks of one label with noise: every id 0..33 occurs somewhere.
        blocks = rng.integers(0, 34, size=(6, 8))
        gt = np.kron(blocks, np.ones((8, 8), int)).astype(np.uint8)
        noise = rng.random(SHAPE) < 0.15
        gt[noise] = rng.integers(0, 34, size=noise.sum())
        instances = gt.astype(np.int32)
        objects = gt >= 24
        block_id = np.kron(np.arange(48).reshape(6, 8), np.ones((8, 8), int))
        instances[objects] = gt[objects].astype(np.int32) * 1000 + block_id[objects] % 7
        _save(gt, root / "gt" / city / f"{key}_gtFine_labelIds.png")
        _save(instances.astype(np.uint16), root / "gt" / city /
              f"{key}_gtFine_instanceIds.png")
        _save(CS_TRAIN_OF_ID[gt], root / "gt_train" / city / f"{key}_gtFine_trainIds.png")
        # Label-id predictions: mostly right, the rest any id (ignored ids included).
        pred = gt.copy()
        wrong = rng.random(SHAPE) < 0.4
        pred[wrong] = rng.integers(0, 34, size=wrong.sum())
        _save(pred, root / "pred_label" / f"{key}_leftImg8bit.png")
        # Train-id predictions with some void (255).
        train = CS_TRAIN_OF_ID[gt].copy()
        wrong = rng.random(SHAPE) < 0.4
        train[wrong] = rng.integers(0, 19, size=wrong.sum())
        train[rng.random(SHAPE) < 0.05] = 255
        _save(train, root / "pred_train" / city / f"{key}_leftImg8bit.png")
        _save(CS_ID_OF_TRAIN[train], root / "pred_train_as_label" /
              f"{key}_leftImg8bit.png")
    return root


def official(root, pred_dir, monkeypatch, *, instances):
    """Runs cityscapesscripts' evaluation on pred_dir against root/gt."""
    # The official instance code calls np.in1d, removed in NumPy 2; np.isin is its
    # documented replacement.
    monkeypatch.setattr(np, "in1d", lambda a, b, invert=False:
                        np.isin(a, b, invert=invert).ravel(), raising=False)
    monkeypatch.setenv("CITYSCAPES_DATASET", str(root))
    module = importlib.import_module(
        "cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling")
    args = module.args
    for name, value in dict(predictionPath=str(pred_dir), predictionWalk=None,
                            quiet=True, JSONOutput=False, colorized=False,
                            evalInstLevelScore=instances,
                            evalPixelAccuracy=False).items():
        monkeypatch.setattr(args, name, value, raising=False)
    gt_files = sorted(str(p) for p in (root / "gt").rglob("*_gtFine_labelIds.png"))
    predictions = [module.getPrediction(args, gt) for gt in gt_files]
    return module.evaluateImgLists(predictions, gt_files, args)


def assert_matches(scores, result, *, instances):
    ours = scores.to_dict()
    for name, iou in ours["per_class_iou"].items():
        expected = result["classScores"][name]
        if np.isnan(expected):
            assert iou is None, name
        else:
            assert iou == pytest.approx(expected, abs=1e-6), name
    assert scores.mean_iou == pytest.approx(result["averageScoreClasses"], abs=1e-6)
    for name, iou in ours["per_category_iou"].items():
        assert iou == pytest.approx(result["categoryScores"][name], abs=1e-6), name
    assert scores.category_iou == pytest.approx(result["averageScoreCategories"],
                                                abs=1e-6)
    if instances:
        for name, iiou in ours["per_class_iiou"].items():
            expected = result["classInstScores"][name]
            assert (iiou is None) == bool(np.isnan(expected)), name
            if iiou is not None:
                assert iiou == pytest.approx(expected, abs=1e-6), name
        assert scores.mean_iiou == pytest.approx(result["averageScoreInstClasses"],
                                                 abs=1e-6)
        for name in ("human", "vehicle"):
            assert ours["per_category_iiou"][name] == pytest.approx(
                result["categoryInstScores"][name], abs=1e-6)
        assert scores.category_iiou == pytest.approx(
            result["averageScoreInstCategories"], abs=1e-6)


def test_label_id_predictions_match_official(dataset, monkeypatch):
    result = official(dataset, dataset / "pred_label", monkeypatch, instances=True)
    scores = evaluate_folder(dataset / "pred_label", dataset / "gt", ids="label")
    assert scores.num_images == len(KEYS)
    assert 0.2 < scores.mean_iou < 0.9  # the fabricated data is neither trivial nor void
    assert_matches(scores, result, instances=True)


def test_train_id_predictions_match_official(dataset, monkeypatch):
    result = official(dataset, dataset / "pred_train_as_label", monkeypatch,
                      instances=True)
    # The same scores whether the ground truth is read from label or train ids
    # (no instance maps next to the trainIds files: class and category IoU only).
    for gt in ("gt", "gt_train"):
        scores = evaluate_folder(dataset / "pred_train", dataset / gt, ids="train")
        assert_matches(scores, result, instances=gt == "gt")


def test_evaluate_cli_json_end_to_end(dataset, tmp_path, monkeypatch, capsys):
    result = official(dataset, dataset / "pred_label", monkeypatch, instances=False)
    code = evaluate_main([str(dataset / "pred_label"), str(dataset / "gt"),
                          "--dataset", "cityscapes", "--ids", "label", "--json",
                          "--quiet", "--table", str(tmp_path / "table"),
                          "--plots", str(tmp_path / "plots")])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"mean_iou", "category_iou", "pixel_accuracy", "per_class_iou"}
    assert len(out["per_class_iou"]) == 19
    assert out["mean_iou"] == pytest.approx(result["averageScoreClasses"], abs=1e-6)
    assert out["category_iou"] == pytest.approx(result["averageScoreCategories"],
                                                abs=1e-6)
    assert 0 <= out["pixel_accuracy"] <= 1
    csv = (tmp_path / "table.csv").read_text().splitlines()
    assert csv[0].startswith("model,road,sidewalk") and csv[0].endswith(",mean_iou")
    assert csv[1].split(",")[-1] == f"{100 * out['mean_iou']:.1f}"
    assert (tmp_path / "table.md").read_text().startswith("| Model | road |")
    for name in ("confusion_matrix.png", "class_iou.png"):
        with Image.open(tmp_path / "plots" / name) as image:
            assert image.size[0] > 300 and image.size[1] > 300


def test_evaluate_module_runs_as_script(dataset):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
         os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run(
        [sys.executable, "-m", "keras_drn.evaluate", str(dataset / "pred_train"),
         str(dataset / "gt"), "--quiet"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "Score Average" in run.stdout and "mean IoU" in run.stdout


# Bad input: each error names the file.

def _copy_tree(src, dst):
    for path in src.rglob("*.png"):
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())


def test_size_mismatch_names_both_files(dataset, tmp_path):
    _copy_tree(dataset / "pred_label", tmp_path)
    bad = tmp_path / f"{KEYS[1]}_leftImg8bit.png"
    _save(np.zeros((SHAPE[0], SHAPE[1] - 2), np.uint8), bad)
    with pytest.raises(EvaluationError, match="62x48.*but its ground truth.*64x48") as e:
        evaluate_folder(tmp_path, dataset / "gt", ids="label")
    assert str(bad) in str(e.value) and f"{KEYS[1]}_gtFine_labelIds.png" in str(e.value)


def test_missing_prediction_names_the_ground_truth(dataset, tmp_path):
    _copy_tree(dataset / "pred_label", tmp_path)
    (tmp_path / f"{KEYS[2]}_leftImg8bit.png").unlink()
    with pytest.raises(EvaluationError, match=f"no prediction.*{KEYS[2]}_gtFine_labelIds"):
        evaluate_folder(tmp_path, dataset / "gt", ids="label")
    # --subset scores the rest.
    assert evaluate_folder(tmp_path, dataset / "gt", ids="label",
                           subset=True).num_images == len(KEYS) - 1


def test_prediction_without_ground_truth_is_named(dataset, tmp_path):
    _copy_tree(dataset / "pred_label", tmp_path)
    stray = tmp_path / "zurich_000000_000001_leftImg8bit.png"
    _save(np.zeros(SHAPE, np.uint8), stray)
    with pytest.raises(EvaluationError, match=f"{stray}.*has no ground truth"):
        evaluate_folder(tmp_path, dataset / "gt", ids="label")


@pytest.mark.parametrize("ids,value", [("train", 19), ("label", 34), ("train", 200)])
def test_class_id_out_of_range_names_the_file(dataset, tmp_path, ids, value):
    folder = "pred_train" if ids == "train" else "pred_label"
    _copy_tree(dataset / folder, tmp_path)
    bad = sorted(tmp_path.rglob("*.png"))[0]
    array = np.asarray(Image.open(bad)).copy()
    array[3, 5] = value
    _save(array, bad)
    with pytest.raises(EvaluationError, match=f"{bad}.*id {value} \\(1 pixels\\)"):
        evaluate_folder(tmp_path, dataset / "gt", ids=ids)


def test_cli_reports_errors_with_exit_code(dataset, tmp_path, capsys):
    _save(np.zeros((4, 4, 3), np.uint8), tmp_path / f"{KEYS[0]}_leftImg8bit.png")
    code = evaluate_main([str(tmp_path), str(dataset / "gt"), "--subset", "--quiet"])
    assert code == 2
    assert "RGB image; expected a single-channel PNG" in capsys.readouterr().err


def test_other_datasets_pair_by_name(tmp_path, rng):
    for name in ("a", "b"):
        gt = rng.integers(0, 11, size=(10, 12)).astype(np.uint8)
        gt[0] = 255
        _save(gt, tmp_path / "gt" / f"{name}.png")
        _save(gt if name == "a" else np.zeros_like(gt), tmp_path / "pred" / f"{name}.png")
    scores = evaluate_folder(tmp_path / "pred", tmp_path / "gt", dataset="camvid")
    assert scores.category_names is None and len(scores.class_names) == 11
    assert 0 < scores.mean_iou < 1
