"""Metrics and reports for segmentation.

- `confusion`: the streaming confusion matrix, IoU, mean IoU, pixel accuracy.
- `scores`: `Scorer` (accumulate image by image) and `SegmentationScores` (results).
- `cityscapes`: the official benchmark's class IoU, category IoU and iIoU.
- `folders`: pairing and scoring folders of PNGs (`evaluate_folder`).
- `report`: tables in the papers' layout (text, CSV, Markdown).
"""

from keras_drn.evaluation.cityscapes import CityscapesScorer
from keras_drn.evaluation.confusion import ConfusionMatrix
from keras_drn.evaluation.confusion import confusion_matrix
from keras_drn.evaluation.confusion import group_classes
from keras_drn.evaluation.confusion import iou_per_class
from keras_drn.evaluation.confusion import mean_iou
from keras_drn.evaluation.confusion import pixel_accuracy
from keras_drn.evaluation.folders import EvaluationError
from keras_drn.evaluation.folders import evaluate_folder
from keras_drn.evaluation.folders import pair_files
from keras_drn.evaluation.report import format_iou_table
from keras_drn.evaluation.report import format_scores
from keras_drn.evaluation.report import markdown_iou_table
from keras_drn.evaluation.report import write_iou_table
from keras_drn.evaluation.scores import Scorer
from keras_drn.evaluation.scores import SegmentationScores
from keras_drn.meta.labels import train_ids_to_label_ids  # the map lives in meta/

__all__ = [
    "CityscapesScorer",
    "ConfusionMatrix",
    "EvaluationError",
    "Scorer",
    "SegmentationScores",
    "confusion_matrix",
    "evaluate_folder",
    "format_iou_table",
    "format_scores",
    "group_classes",
    "iou_per_class",
    "markdown_iou_table",
    "mean_iou",
    "pair_files",
    "pixel_accuracy",
    "train_ids_to_label_ids",
    "write_iou_table",
]
