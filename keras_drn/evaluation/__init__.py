"""Metrics and reports for segmentation."""

from keras_drn.evaluation.confusion import ConfusionMatrix
from keras_drn.evaluation.confusion import confusion_matrix
from keras_drn.evaluation.confusion import iou_per_class
from keras_drn.evaluation.confusion import mean_iou
from keras_drn.evaluation.confusion import pixel_accuracy

__all__ = [
    "ConfusionMatrix",
    "confusion_matrix",
    "iou_per_class",
    "mean_iou",
    "pixel_accuracy",
]
