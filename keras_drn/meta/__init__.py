"""Facts about datasets, in one place each: class names, label ids and the maps between
them, palettes (and `colorize`), statistics.

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
from keras_drn.meta.labels import train_id_to_label_id_table
from keras_drn.meta.labels import train_ids_to_label_ids
from keras_drn.meta.normalization import DILATION_MEAN_BGR
from keras_drn.meta.normalization import NORMALIZATION
from keras_drn.meta.normalization import dilation_normalization
from keras_drn.meta.palettes import PALETTES
from keras_drn.meta.palettes import colorize
from keras_drn.meta.palettes import generic_palette
from keras_drn.meta.palettes import label_palette
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
    "colorize",
    "dilation_normalization",
    "generic_palette",
    "label_id_to_train_id_table",
    "label_palette",
    "palette",
    "train_id_to_label_id_table",
    "train_ids_to_label_ids",
]
