"""Keras layers and block builders of the dilated networks.

Convolutions are plain `keras.layers.Conv2D` with `dilation_rate`; the builders here
add the padding that reproduces PyTorch's and Caffe's geometry exactly.
"""

from keras_drn.layers.blocks import basic_block
from keras_drn.layers.blocks import bottleneck_block
from keras_drn.layers.blocks import conv_bn_relu
from keras_drn.layers.conv import batch_norm
from keras_drn.layers.conv import conv2d
from keras_drn.layers.conv import he_fan_out
from keras_drn.layers.unused import UnusedProjection
from keras_drn.layers.upsampling import BilinearUpsampling
from keras_drn.layers.upsampling import CropToReference
from keras_drn.layers.upsampling import ResizeToReference
from keras_drn.layers.upsampling import bilinear_kernel

__all__ = [
    "BilinearUpsampling",
    "CropToReference",
    "ResizeToReference",
    "UnusedProjection",
    "basic_block",
    "batch_norm",
    "bilinear_kernel",
    "bottleneck_block",
    "conv2d",
    "conv_bn_relu",
    "he_fan_out",
]
