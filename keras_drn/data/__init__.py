"""Data: the synthetic street scenes, dataset layouts and `tf.data` pipelines.

`render_scene` needs only numpy and Pillow. The pipelines (`keras_drn.data.pipeline`)
and the dataset finders (`cityscapes`, `camvid`, `pascal_voc`, `imagenet`) import
TensorFlow, so they are imported from their modules, not here.
"""

from keras_drn.data.sources import DataError
from keras_drn.data.sources import SegmentationSource
from keras_drn.data.synthetic import render_scene

__all__ = ["DataError", "SegmentationSource", "render_scene"]
