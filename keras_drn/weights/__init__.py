"""Weights: the registry of released files, readers for the authors' formats (PyTorch
`.pth` without PyTorch, Caffe `.caffemodel` without Caffe), name maps onto keras_drn
layers, downloads into the Keras cache, and all-or-nothing loading."""

from keras_drn._lazy import lazy_exports

_EXPORTS = {
    "CaffeModelFormatError": "keras_drn.weights.caffe_reader",
    "read_caffemodel": "keras_drn.weights.caffe_reader",
    "WeightsFileError": "keras_drn.weights.checkpoints",
    "convert_checkpoint": "keras_drn.weights.checkpoints",
    "load_checkpoint": "keras_drn.weights.checkpoints",
    "CheckpointMismatchError": "keras_drn.weights.convert",
    "assign_arrays": "keras_drn.weights.convert",
    "assign_caffe_blobs": "keras_drn.weights.convert",
    "assign_state_dict": "keras_drn.weights.convert",
    "convert_caffe_blobs": "keras_drn.weights.convert",
    "convert_state_dict": "keras_drn.weights.convert",
    "export_state_dict": "keras_drn.weights.convert",
    "strip_wrappers": "keras_drn.weights.convert",
    "torch_key_map": "keras_drn.weights.convert",
    "WeightsDownloadError": "keras_drn.weights.download",
    "WeightsHashError": "keras_drn.weights.download",
    "load_weights": "keras_drn.weights.load",
    "load_preset_weights": "keras_drn.weights.load",
    "WeightsMismatchError": "keras_drn.weights.strict",
    "ResolvedWeights": "keras_drn.weights.resolve",
    "load_resolved": "keras_drn.weights.resolve",
    "resolve_weights": "keras_drn.weights.resolve",
    "save_atomic": "keras_drn.weights.load",
    "transfer_weights": "keras_drn.weights.load",
    "PthFormatError": "keras_drn.weights.pth_reader",
    "UnsafePickleError": "keras_drn.weights.pth_reader",
    "read_pth": "keras_drn.weights.pth_reader",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
