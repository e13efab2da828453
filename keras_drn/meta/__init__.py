"""Facts about datasets, in one place each: class names, label ids, palettes, statistics.

Nothing here imports Keras or TensorFlow; every other part of the library reads these
tables instead of repeating them.
"""

from keras_drn.meta.labels import CAMVID_CLASSES
from keras_drn.meta.labels import CITYSCAPES_CATEGORIES
from keras_drn.meta.labels import CITYSCAPES_CLASSES
from keras_drn.meta.labels import CITYSCAPES_LABELS
from keras_drn.meta.labels import PASCAL_VOC_CLASSES
from keras_drn.meta.labels import class_names
from keras_drn.meta.labels import label_id_to_train_id_table
from keras_drn.meta.normalization import DILATION_MEAN_BGR
from keras_drn.meta.normalization import NORMALIZATION
from keras_drn.meta.normalization import dilation_normalization
from keras_drn.meta.palettes import PALETTES
from keras_drn.meta.palettes import palette

__all__ = [
    "CAMVID_CLASSES",
    "CITYSCAPES_CATEGORIES",
    "CITYSCAPES_CLASSES",
    "CITYSCAPES_LABELS",
    "DILATION_MEAN_BGR",
    "NORMALIZATION",
    "PALETTES",
    "PASCAL_VOC_CLASSES",
    "class_names",
    "dilation_normalization",
    "label_id_to_train_id_table",
    "palette",
]
