"""Weights: the registry of released files, readers for the authors' formats (PyTorch
`.pth` without PyTorch, Caffe `.caffemodel` without Caffe), name maps onto keras_drn
layers, downloads into the Keras cache, and all-or-nothing loading."""

from keras_drn.weights.caffe_reader import CaffeModelFormatError
from keras_drn.weights.caffe_reader import read_caffemodel
from keras_drn.weights.checkpoints import WeightsFileError
from keras_drn.weights.checkpoints import convert_checkpoint
from keras_drn.weights.checkpoints import load_checkpoint
from keras_drn.weights.convert import CheckpointMismatchError
from keras_drn.weights.convert import assign_arrays
from keras_drn.weights.convert import assign_caffe_blobs
from keras_drn.weights.convert import assign_state_dict
from keras_drn.weights.convert import convert_caffe_blobs
from keras_drn.weights.convert import convert_state_dict
from keras_drn.weights.convert import strip_wrappers
from keras_drn.weights.convert import torch_key_map
from keras_drn.weights.download import WeightsDownloadError
from keras_drn.weights.download import WeightsHashError
from keras_drn.weights.load import load_weights
from keras_drn.weights.load import transfer_weights
from keras_drn.weights.pth_reader import PthFormatError
from keras_drn.weights.pth_reader import UnsafePickleError
from keras_drn.weights.pth_reader import read_pth

__all__ = [
    "CaffeModelFormatError",
    "CheckpointMismatchError",
    "PthFormatError",
    "UnsafePickleError",
    "WeightsDownloadError",
    "WeightsFileError",
    "WeightsHashError",
    "assign_arrays",
    "assign_caffe_blobs",
    "assign_state_dict",
    "convert_caffe_blobs",
    "convert_checkpoint",
    "convert_state_dict",
    "load_checkpoint",
    "load_weights",
    "read_caffemodel",
    "read_pth",
    "strip_wrappers",
    "torch_key_map",
    "transfer_weights",
]
