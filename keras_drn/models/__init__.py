"""Architecture builders (random weights). Named and converted weights live in
`keras_drn.weights`; the keras.applications-style constructors in
`keras_drn.applications` combine the two."""

from keras_drn.models.configs import DILATION_CONFIGS
from keras_drn.models.configs import DRN_CONFIGS
from keras_drn.models.configs import PUBLISHED
from keras_drn.models.configs import DilationConfig
from keras_drn.models.configs import DRNConfig
from keras_drn.models.dilation import build_dilation
from keras_drn.models.drn import build_drn
from keras_drn.models.drn import get_config
from keras_drn.models.drn import level_output_names
from keras_drn.models.segmentation import build_drnseg

__all__ = [
    "DILATION_CONFIGS",
    "DRN_CONFIGS",
    "PUBLISHED",
    "DRNConfig",
    "DilationConfig",
    "build_dilation",
    "build_drn",
    "build_drnseg",
    "get_config",
    "level_output_names",
]
