"""Pictures from the papers and from evaluations.

- `localization`: class activation maps of DRN classifiers (weakly-supervised
  localisation);
  `python -m keras_drn.visualize.cam IMAGE`.
- `features`: level activations and gridding energy of DRN-A vs DRN-C;
  `python -m keras_drn.visualize.gridding --output DIR`.
- `plots`: a confusion-matrix picture and a per-class IoU bar chart.

matplotlib is needed for colour maps and figures (keras-drn[plots]).
"""

import importlib

# Imported on first use, so that `python -m keras_drn.visualize.cam` can parse its
# arguments and import TensorFlow quietly before anything here loads it.
_HOMES = {
    "cam_bounding_box": "localization",
    "cam_pictures": "localization",
    "class_activation_map": "localization",
    "gridding_energy": "features",
    "plot_confusion_matrix": "plots",
    "plot_iou_bars": "plots",
}


def __getattr__(name):
    if name in _HOMES:
        module = importlib.import_module(f"keras_drn.visualize.{_HOMES[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'keras_drn.visualize' has no attribute {name!r}")


__all__ = [
    "cam_bounding_box",
    "cam_pictures",
    "class_activation_map",
    "gridding_energy",
    "plot_confusion_matrix",
    "plot_iou_bars",
]
