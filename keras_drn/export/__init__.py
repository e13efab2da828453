"""Deployment: SavedModel and TFLite (LiteRT) exports of DRNSeg, with the input
normalisation inside, clean edge graphs, parity and latency reports (docs/export.md).

Needs the TensorFlow backend, and `ai-edge-litert` for everything TFLite.
"""

from keras_drn.export.calibration import representative_images
from keras_drn.export.graph import ExportGraphError
from keras_drn.export.graph import TFLiteGraph
from keras_drn.export.graph import check_graph
from keras_drn.export.graph import inspect_tflite
from keras_drn.export.metadata import read_metadata
from keras_drn.export.runtime import LiteRTSegmenter
from keras_drn.export.runtime import SavedModelSegmenter
from keras_drn.export.saved_model import export_saved_model
from keras_drn.export.saved_model import read_saved_model_metadata
from keras_drn.export.serving import SegmentationGraph
from keras_drn.export.serving import check_input_size
from keras_drn.export.tflite import OUTPUTS
from keras_drn.export.tflite import QUANTIZE_MODES
from keras_drn.export.tflite import convert_to_tflite
from keras_drn.export.tflite import write_tflite

__all__ = [
    "OUTPUTS",
    "QUANTIZE_MODES",
    "ExportGraphError",
    "LiteRTSegmenter",
    "SavedModelSegmenter",
    "SegmentationGraph",
    "TFLiteGraph",
    "check_graph",
    "check_input_size",
    "convert_to_tflite",
    "export_saved_model",
    "inspect_tflite",
    "read_metadata",
    "read_saved_model_metadata",
    "representative_images",
    "write_tflite",
]
