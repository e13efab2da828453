"""The standard TFLite metadata ("TFLITE_METADATA", the TFLite Support / MediaPipe
schema) for an exported segmenter, so that MediaPipe's `ImageSegmenter` and other
metadata-aware runtimes take the model as it is:

- input: an RGB image (uint8 pixels, normalised inside the graph: no normalisation
  unit; a float input gets a NormalizationOptions unit with its mean and std);
- output: a segmentation mask tensor ([1, H, W, C] scores, or the labels output's
  [1, H, W] category ids), with the class names as an associated TENSOR_AXIS_LABELS
  file ("labels.txt", one name a line);
- MediaPipe's segmenter options ("SEGMENTER_METADATA" custom metadata): activation
  NONE, since the scores are logits (the category mask is their argmax).

The tables are built with the schema module that MediaPipe ships
(`mediapipe.tasks.metadata.metadata_schema_py_generated`, pure Python over
flatbuffers). MediaPipe's own `metadata_writers.image_segmenter` writes the same tables,
but its populator imports a compiled module that some mediapipe wheels lack
(`mediapipe.tasks.cc.metadata.python._pywrap_metadata_version`), so this module packs
them itself, as that populator does: the metadata flatbuffer (identifier "M001") goes in
the model's `metadata` list under "TFLITE_METADATA", and the associated files are
appended to the flatbuffer as a zip archive (flatbuffers are read from the front, so
the model stays valid for every TFLite runtime).

Without mediapipe installed `available()` is False and the export keeps only the
keras_drn JSON entry (`keras_drn.export.metadata`).
"""

from __future__ import annotations

import importlib
import io
import zipfile

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

METADATA_NAME = "TFLITE_METADATA"
LABEL_FILE = "labels.txt"
SEGMENTER_OPTIONS_NAME = "SEGMENTER_METADATA"
# The schema version whose features this metadata uses (custom metadata in a
# subgraph needs parser 1.5.0); MediaPipe's parsers are newer.
MIN_PARSER_VERSION = "1.5.0"
_METADATA_IDENTIFIER = b"M001"
_SEGMENTER_IDENTIFIER = b"V001"
_MODEL_IDENTIFIER = b"TFL3"
_SCHEMA_MODULE = "mediapipe.tasks.metadata.metadata_schema_py_generated"
_SEGMENTER_MODULE = "mediapipe.tasks.metadata.image_segmenter_metadata_schema_py_generated"


def _modules():
    return importlib.import_module(_SCHEMA_MODULE), importlib.import_module(
        _SEGMENTER_MODULE)


def available() -> bool:
    """Whether the metadata schema (the `mediapipe` package) can be imported."""
    try:
        _modules()
    except ImportError:
        return False
    return True


def _image_input(md, *, name, dtype, mean=None, std=None):
    tensor = md.TensorMetadataT()
    tensor.name = name
    tensor.description = (
        "RGB image, NHWC, pixel values 0-255"
        + (", normalised inside the model" if dtype == "uint8" else "")
    )
    content = md.ContentT()
    content.contentPropertiesType = md.ContentProperties.ImageProperties
    content.contentProperties = md.ImagePropertiesT()
    content.contentProperties.colorSpace = md.ColorSpaceType.RGB
    tensor.content = content
    stats = md.StatsT()
    if dtype == "uint8":
        stats.min, stats.max = [0.0], [255.0]
    else:
        unit = md.ProcessUnitT()
        unit.optionsType = md.ProcessUnitOptions.NormalizationOptions
        unit.options = md.NormalizationOptionsT()
        unit.options.mean = [float(m) for m in mean]
        unit.options.std = [float(s) for s in std]
        tensor.processUnits = [unit]
        stats.min = [(0.0 - m) / s for m, s in zip(mean, std)]
        stats.max = [(255.0 - m) / s for m, s in zip(mean, std)]
    tensor.stats = stats
    return tensor


def _segmentation_output(md, *, name, outputs):
    tensor = md.TensorMetadataT()
    tensor.name = name
    tensor.description = (
        "per-pixel class logits (category mask = argmax over the last axis)"
        if outputs == "logits" else "per-pixel class ids (a category mask)"
    )
    content = md.ContentT()
    content.contentPropertiesType = md.ContentProperties.ImageProperties
    content.contentProperties = md.ImagePropertiesT()
    content.contentProperties.colorSpace = md.ColorSpaceType.GRAYSCALE
    content.range = md.ValueRangeT()
    content.range.min, content.range.max = 1, 2  # the mask's height and width axes
    tensor.content = content
    tensor.stats = md.StatsT()
    labels = md.AssociatedFileT()
    labels.name = LABEL_FILE
    labels.description = "Class names, one a line, in class-id order."
    labels.type = md.AssociatedFileType.TENSOR_AXIS_LABELS
    tensor.associatedFiles = [labels]
    return tensor


def _segmenter_options(md, seg_md):
    options = seg_md.ImageSegmenterOptionsT()
    options.activation = seg_md.Activation.NONE
    builder = flatbuffers.Builder(0)
    builder.Finish(options.Pack(builder), _SEGMENTER_IDENTIFIER)
    custom = md.CustomMetadataT()
    custom.name = SEGMENTER_OPTIONS_NAME
    custom.data = bytes(builder.Output())
    return custom


def build_metadata(*, class_names, outputs="logits", input_dtype="uint8", mean=None,
                   std=None, name="DRNSeg", description=None, version=None,
                   input_name="image", output_name=None) -> bytes:
    """The "TFLITE_METADATA" flatbuffer (identifier M001) for a segmenter export."""
    md, seg_md = _modules()
    if input_dtype != "uint8" and (mean is None or std is None):
        raise ValueError("A float input needs the normalisation's mean and std.")
    model = md.ModelMetadataT()
    model.name = name
    model.description = description or (
        "Semantic segmentation: a class for every pixel of an RGB image.")
    model.version = version
    model.minParserVersion = MIN_PARSER_VERSION
    subgraph = md.SubGraphMetadataT()
    subgraph.name = "image_segmenter"
    subgraph.inputTensorMetadata = [
        _image_input(md, name=input_name, dtype=input_dtype, mean=mean, std=std)]
    subgraph.outputTensorMetadata = [
        _segmentation_output(md, name=output_name or outputs, outputs=outputs)]
    subgraph.customMetadata = [_segmenter_options(md, seg_md)]
    model.subgraphMetadata = [subgraph]
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), _METADATA_IDENTIFIER)
    return bytes(builder.Output())


def label_file(class_names) -> bytes:
    names = [str(n) for n in class_names]
    for n in names:
        if "\n" in n or "\r" in n:
            raise ValueError(f"A class name cannot hold a line break: {n!r}.")
    return ("\n".join(names) + "\n").encode("utf-8")


def add_standard_metadata(content: bytes, *, class_names, **kwargs) -> bytes:
    """`content` (a `.tflite` flatbuffer, without associated files) with the
    "TFLITE_METADATA" entry (`build_metadata(**kwargs)`) and the label file appended
    as a zip archive. Keyword arguments as `build_metadata`."""
    buffer = build_metadata(class_names=class_names, **kwargs)
    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    entry_buffer = schema.BufferT()
    entry_buffer.data = np.frombuffer(buffer, np.uint8)
    model.buffers.append(entry_buffer)
    entries = [m for m in (model.metadata or []) if _name(m.name) != METADATA_NAME]
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata = [*entries, entry]
    builder = flatbuffers.Builder(len(content) + len(buffer) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=_MODEL_IDENTIFIER)
    stream = io.BytesIO(bytes(builder.Output()))
    stream.seek(0, io.SEEK_END)
    with zipfile.ZipFile(stream, "a", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(LABEL_FILE, label_file(class_names))
    return stream.getvalue()


def associated_files(content: bytes) -> dict[str, bytes]:
    """The files appended to a `.tflite` (name -> bytes); {} if none."""
    stream = io.BytesIO(content)
    if not zipfile.is_zipfile(stream):
        return {}
    with zipfile.ZipFile(stream) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def read_standard_metadata(content: bytes):
    """The "TFLITE_METADATA" table as MediaPipe's `ModelMetadataT`, or None."""
    md, _ = _modules()
    model = schema.Model.GetRootAs(bytearray(content), 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if _name(entry.Name()) == METADATA_NAME:
            raw = bytes(model.Buffers(entry.Buffer()).DataAsNumpy())
            return md.ModelMetadataT.InitFromPackedBuf(bytearray(raw), 0)
    return None


def read_labels(content: bytes) -> list[str] | None:
    """The class names of the output's label file, or None."""
    data = associated_files(content).get(LABEL_FILE)
    return None if data is None else data.decode("utf-8").splitlines()


def _name(name) -> str:
    return name.decode("utf-8") if isinstance(name, bytes) else str(name)
