"""Per-class IoU tables in the papers' layout."""

import csv

import numpy as np
import pytest

from keras_drn.evaluation import CityscapesScorer
from keras_drn.evaluation import format_iou_table
from keras_drn.evaluation import format_scores
from keras_drn.evaluation import markdown_iou_table
from keras_drn.evaluation import write_iou_table
from keras_drn.meta import CITYSCAPES_CLASSES

CLASSES = ("road", "traffic light", "sky")
ROWS = {"DRN-C-26": [0.9712, 0.5, float("nan")], "DRN-D-22": [0.5, 0.25, 1.0]}


def test_text_table_rows_columns_and_mean_last():
    lines = format_iou_table(ROWS, CLASSES).splitlines()
    assert lines[0].split() == ["model", "road", "light", "sky", "mean", "IoU"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split() == ["DRN-C-26", "97.1", "50.0", "-", "73.6"]  # nanmean
    assert lines[3].split() == ["DRN-D-22", "50.0", "25.0", "100.0", "58.3"]


def test_csv_and_markdown_files(tmp_path):
    csv_path, md_path = write_iou_table(ROWS, CLASSES, tmp_path / "sub" / "val", digits=2)
    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["model", "road", "traffic light", "sky", "mean_iou"]
    assert rows[1] == ["DRN-C-26", "97.12", "50.00", "", "73.56"]
    md = md_path.read_text().splitlines()
    assert md[0] == "| Model | road | traffic light | sky | mean IoU |"
    assert md[1].startswith("| --- |")
    assert md[3] == "| DRN-D-22 | 50.00 | 25.00 | 100.00 | 58.33 |"
    assert not list(tmp_path.glob("sub/.*"))  # no temporary files left


def test_rows_accept_scores_and_check_lengths():
    scorer = CityscapesScorer()
    labels = np.arange(19, dtype=np.uint8).repeat(4).reshape(4, 19)
    scorer.update(labels, labels)
    scores = scorer.result()
    table = markdown_iou_table({"perfect": scores}, CITYSCAPES_CLASSES)
    assert table.splitlines()[2].endswith("| 100.0 |")
    with pytest.raises(ValueError, match="has 2 IoUs; expected one per class \\(3\\)"):
        format_iou_table({"bad": [0.1, 0.2]}, CLASSES)
    text = format_scores(scores)
    assert "Score Average :" in text and "vehicle" in text
    assert "pixel accuracy: 1.000 (1 images)" in text
