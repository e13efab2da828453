"""keras-drn: dilated convolutional networks for semantic segmentation, in Keras 3.

Every network of *Multi-Scale Context Aggregation by Dilated Convolutions* (Yu & Koltun,
ICLR 2016) and *Dilated Residual Networks* (Yu, Koltun & Funkhouser, CVPR 2017) behind
the keras.applications API, with the authors' weights, training, evaluation and export.

Attributes are imported on first use, so `import keras_drn.meta` or running a TFLite
model (`keras_drn.export.runtime`) does not load Keras or TensorFlow. Every Keras object
of the package is registered as soon as Keras is imported (before or after keras_drn),
so `keras.models.load_model` and keras-hub's `from_preset` reload keras_drn's models.
"""

from keras_drn import _registration
from keras_drn._lazy import lazy_exports
from keras_drn.version import __version__  # noqa: F401  (re-exported)

_EXPORTS = {
    "DRN": "keras_drn.applications",
    "DRN_A_18": "keras_drn.applications",
    "DRN_A_34": "keras_drn.applications",
    "DRN_A_50": "keras_drn.applications",
    "DRN_B_26": "keras_drn.applications",
    "DRN_C_26": "keras_drn.applications",
    "DRN_C_42": "keras_drn.applications",
    "DRN_C_58": "keras_drn.applications",
    "DRN_D_22": "keras_drn.applications",
    "DRN_D_24": "keras_drn.applications",
    "DRN_D_38": "keras_drn.applications",
    "DRN_D_40": "keras_drn.applications",
    "DRN_D_54": "keras_drn.applications",
    "DRN_D_56": "keras_drn.applications",
    "DRN_D_105": "keras_drn.applications",
    "DRN_D_107": "keras_drn.applications",
    "DRNSeg": "keras_drn.applications",
    "DRNBackbone": "keras_drn.models",
    "DRNImageSegmenter": "keras_drn.models",
    "DRNImageConverter": "keras_drn.models",
    "DRNImageSegmenterPreprocessor": "keras_drn.models",
    "DilationBackbone": "keras_drn.models",
    "DilationImageSegmenter": "keras_drn.models",
    "DilationImageConverter": "keras_drn.models",
    "DilationImageSegmenterPreprocessor": "keras_drn.models",
    "Dilation7": "keras_drn.applications",
    "Dilation8": "keras_drn.applications",
    "Dilation10": "keras_drn.applications",
    "preprocess_input": "keras_drn.preprocessing",
    "MS_SCALES": "keras_drn.inference",
    "Predictor": "keras_drn.inference",
    "predict_images": "keras_drn.inference",
    "predict_labels": "keras_drn.inference",
    "predict_logits": "keras_drn.inference",
    "score_model": "keras_drn.inference",
    "evaluate_folder": "keras_drn.evaluation",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
_registration.install()
__all__ = sorted([*__all__, '__version__'])
