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

from keras_drn.export.metadata import read_entry
from keras_drn.export.metadata import write_entry

METADATA_NAME = "TFLITE_METADATA"
LABEL_FILE = "labels.txt"
SEGMENTER_OPTIONS_NAME = "SEGMENTER_METADATA"
# The schema version whose features this metadata uses (custom metadata in a
# subgraph needs parser 1.5.0); MediaPipe's parsers are newer.
MIN_PARSER_VERSION = "1.5.0"
_METADATA_IDENTIFIER = b"M001"
_SEGMENTER_IDENTIFIER = b"V001"
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


def _image_tensor(md, name, description, colour_space):
    """A tensor's metadata with image content of `colour_space`."""
    tensor = md.TensorMetadataT()
    tensor.name = name
    tensor.description = description
    tensor.content = md.ContentT()
    tensor.content.contentPropertiesType = md.ContentProperties.ImageProperties
    tensor.content.contentProperties = md.ImagePropertiesT()
    tensor.content.contentProperties.colorSpace = colour_space
    return tensor


def _image_input(md, *, name, dtype, mean=None, std=None):
    tensor = _image_tensor(
        md, name, "RGB image, NHWC, pixel values 0-255"
        + (", normalised inside the model" if dtype == "uint8" else ""),
        md.ColorSpaceType.RGB)
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
    tensor = _image_tensor(
        md, name,
        "per-pixel class logits (category mask = argmax over the last axis)"
        if outputs == "logits" else "per-pixel class ids (a category mask)",
        md.ColorSpaceType.GRAYSCALE)
    tensor.content.range = md.ValueRangeT()
    # The mask's height and width axes.
    tensor.content.range.min, tensor.content.range.max = 1, 2
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
    """Builds the "TFLITE_METADATA" flatbuffer (identifier M001) of a segmenter export.

    Args:
        class_names: the class names (the output's label file).
        outputs: "logits" (scores `[1, H, W, C]`) or "labels" (category ids).
        input_dtype: "uint8" (pixels, normalised inside the model) or a float type
            (then `mean` and `std` give the normalisation unit).
        mean: per-channel means of a float input.
        std: per-channel standard deviations of a float input.
        name: the model's name in the metadata.
        description: its description (default: a generic sentence).
        version: the model's version string.
        input_name: the input tensor's name.
        output_name: the output tensor's name (default: `outputs`).

    Returns:
        The metadata flatbuffer's bytes.

    Raises:
        ImportError: mediapipe (the metadata schema) is not installed.
        ValueError: a float input without `mean` and `std`.
    """
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
    """The label file's bytes: one class name a line, UTF-8.

    Raises:
        ValueError: a class name holds a line break.
    """
    names = [str(n) for n in class_names]
    for n in names:
        if "\n" in n or "\r" in n:
            raise ValueError(f"A class name cannot hold a line break: {n!r}.")
    return ("\n".join(names) + "\n").encode("utf-8")


def add_standard_metadata(content: bytes, *, class_names, **kwargs) -> bytes:
    """Adds the standard metadata and the label file to a `.tflite` model.

    Args:
        content: the flatbuffer, without associated files yet.
        class_names: the class names, in class-id order (the label file).
        **kwargs: as `build_metadata` (outputs, input dtype, name, description...).

    Returns:
        `content` with the "TFLITE_METADATA" entry (`build_metadata(**kwargs)`) and
        the label file appended as a zip archive.
    """
    buffer = build_metadata(class_names=class_names, **kwargs)
    stream = io.BytesIO(write_entry(content, METADATA_NAME, buffer))
    stream.seek(0, io.SEEK_END)
    with zipfile.ZipFile(stream, "a", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(LABEL_FILE, label_file(class_names))
    return stream.getvalue()


def associated_files(content: bytes) -> dict[str, bytes]:
    """The files appended to a `.tflite` model.

    Args:
        content: the model's bytes.

    Returns:
        `{name: bytes}`; empty when nothing is appended.
    """
    stream = io.BytesIO(content)
    if not zipfile.is_zipfile(stream):
        return {}
    with zipfile.ZipFile(stream) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def read_standard_metadata(content: bytes):
    """The "TFLITE_METADATA" table as MediaPipe's `ModelMetadataT`, or None.

    Raises:
        ImportError: mediapipe (the metadata schema) is not installed.
    """
    md, _ = _modules()
    raw = read_entry(content, METADATA_NAME)
    return None if raw is None else md.ModelMetadataT.InitFromPackedBuf(bytearray(raw), 0)


def read_labels(content: bytes) -> list[str] | None:
    """The class names of the output's label file, or None."""
    data = associated_files(content).get(LABEL_FILE)
    return None if data is None else data.decode("utf-8").splitlines()
