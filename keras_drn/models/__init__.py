"""Architecture builders (random weights). Named and converted weights live in
`keras_drn.weights`; the keras.applications-style constructors in
`keras_drn.applications` combine the two."""

from keras_drn.models.backbone import DilationBackbone
from keras_drn.models.backbone import DRNBackbone
from keras_drn.models.configs import DILATION_CONFIGS
from keras_drn.models.configs import DRN_CONFIGS
from keras_drn.models.configs import PUBLISHED
from keras_drn.models.configs import DilationConfig
from keras_drn.models.configs import DRNConfig
from keras_drn.models.dilation import build_dilation
from keras_drn.models.drn import arch_config
from keras_drn.models.drn import build_drn
from keras_drn.models.drn import level_output_names
from keras_drn.models.preprocessor import DilationImageConverter
from keras_drn.models.preprocessor import DilationImageSegmenterPreprocessor
from keras_drn.models.preprocessor import DRNImageConverter
from keras_drn.models.preprocessor import DRNImageSegmenterPreprocessor
from keras_drn.models.segmentation import build_drnseg
from keras_drn.models.segmenter import DilationImageSegmenter
from keras_drn.models.segmenter import DRNImageSegmenter
from keras_drn.models.segmenter import is_segmenter

__all__ = [
    "DILATION_CONFIGS",
    "DRNBackbone",
    "DRNImageConverter",
    "DRNImageSegmenter",
    "DRNImageSegmenterPreprocessor",
    "DilationBackbone",
    "DilationImageConverter",
    "DilationImageSegmenter",
    "DilationImageSegmenterPreprocessor",
    "is_segmenter",
    "DRN_CONFIGS",
    "PUBLISHED",
    "DRNConfig",
    "DilationConfig",
    "arch_config",
    "build_dilation",
    "build_drn",
    "build_drnseg",
    "level_output_names",
]
