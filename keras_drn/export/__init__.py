"""Deployment: SavedModel and TFLite (LiteRT) exports of DRNSeg segmenters
(`keras_drn.DRNImageSegmenter`), with the input normalisation inside, clean edge
graphs, parity and latency reports (docs/export.md). Head, classes, class names,
dataset and normalisation are read from the segmenter and recorded in the artifacts.

Needs the TensorFlow backend, and `ai-edge-litert` for everything TFLite.
"""

from keras_drn._lazy import lazy_exports

_EXPORTS = {
    "representative_images": "keras_drn.export.calibration",
    "read_labels": "keras_drn.export.edge_metadata",
    "read_standard_metadata": "keras_drn.export.edge_metadata",
    "gpu_compatibility": "keras_drn.export.gpu",
    "ExportGraphError": "keras_drn.export.graph",
    "TFLiteGraph": "keras_drn.export.graph",
    "check_graph": "keras_drn.export.graph",
    "inspect_tflite": "keras_drn.export.graph",
    "read_metadata": "keras_drn.export.metadata",
    "bfloat16_segmenter": "keras_drn.export.precision",
    "LiteRTSegmenter": "keras_drn.export.runtime",
    "SavedModelSegmenter": "keras_drn.export.runtime",
    "export_saved_model": "keras_drn.export.saved_model",
    "read_saved_model_metadata": "keras_drn.export.saved_model",
    "SegmentationGraph": "keras_drn.export.serving",
    "check_input_size": "keras_drn.export.serving",
    "check_segmenter": "keras_drn.export.serving",
    "OUTPUTS": "keras_drn.export.tflite",
    "QUANTIZE_MODES": "keras_drn.export.tflite",
    "convert_to_tflite": "keras_drn.export.tflite",
    "write_tflite": "keras_drn.export.tflite",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
