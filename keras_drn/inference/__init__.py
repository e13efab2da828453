"""Inference: multi-scale and flipped testing, sliding windows, Dilation tiling, and
segmenting image files.

- `predict_logits(model, image, scales=..., flip=..., window=...)`: log-probabilities.
- `predict_labels(...)`: their argmax.
- `Predictor`, `predict_images`: files in, label PNGs / colour pictures / overlays out.
- `score_model(model, samples, ...)`: predict (image, label) samples and score them.
- `sliding_window`, `dilation_tiles`, `interp_map`: the building blocks.

A keras_drn segmenter says how to run it (family, dataset and normalisation, output
activation, zoom; `keras_drn.inference.model_info`): every `dataset=` here defaults to
None, the model's own, and an explicit name overrides it.
"""

from keras_drn.inference.multiscale import MS_SCALES
from keras_drn.inference.multiscale import predict_labels
from keras_drn.inference.multiscale import predict_logits
from keras_drn.inference.outputs import overlay
from keras_drn.inference.predictor import Predictor
from keras_drn.inference.predictor import list_images
from keras_drn.inference.predictor import predict_images
from keras_drn.inference.resize import interp_map
from keras_drn.inference.resize import resize_image
from keras_drn.inference.resize import resize_scores
from keras_drn.inference.scoring import score_model
from keras_drn.inference.tiling import dilation_tiles
from keras_drn.inference.tiling import sliding_window
from keras_drn.inference.tiling import window_starts
from keras_drn.meta.palettes import colorize

__all__ = [
    "MS_SCALES",
    "Predictor",
    "colorize",
    "dilation_tiles",
    "interp_map",
    "list_images",
    "overlay",
    "predict_images",
    "predict_labels",
    "predict_logits",
    "resize_image",
    "resize_scores",
    "score_model",
    "sliding_window",
    "window_starts",
]
