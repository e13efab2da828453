"""Weights: checkpoint name maps and loading into keras_drn models."""

from keras_drn.weights.convert import CheckpointMismatchError
from keras_drn.weights.convert import assign_caffe_blobs
from keras_drn.weights.convert import assign_state_dict
from keras_drn.weights.convert import strip_wrappers
from keras_drn.weights.convert import torch_key_map
from keras_drn.weights.load import load_weights
from keras_drn.weights.load import transfer_weights

__all__ = [
    "CheckpointMismatchError",
    "assign_caffe_blobs",
    "assign_state_dict",
    "load_weights",
    "strip_wrappers",
    "torch_key_map",
    "transfer_weights",
]
