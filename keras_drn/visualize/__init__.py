"""Pictures from the papers and from evaluations.

- `localization`: class activation maps of DRN classifiers (weakly-supervised
  localisation);
  `python -m keras_drn.visualize.cam IMAGE`.
- `features`: level activations and gridding energy of DRN-A vs DRN-C;
  `python -m keras_drn.visualize.gridding --output DIR`.
- `plots`: a confusion-matrix picture and a per-class IoU bar chart.

matplotlib is needed for colour maps and figures (keras-drn[plots]).
"""

from keras_drn.visualize.features import gridding_energy
from keras_drn.visualize.localization import cam_bounding_box
from keras_drn.visualize.localization import cam_pictures
from keras_drn.visualize.localization import class_activation_map
from keras_drn.visualize.plots import plot_confusion_matrix
from keras_drn.visualize.plots import plot_iou_bars

__all__ = [
    "cam_bounding_box",
    "cam_pictures",
    "class_activation_map",
    "gridding_energy",
    "plot_confusion_matrix",
    "plot_iou_bars",
]
