"""keras_drn's JSON description inside a `.tflite` flatbuffer (the schema's `metadata`
table, name "keras_drn"): class names, dataset, head, outputs, normalisation, so that
`run_tflite.py` and other consumers need nothing beside the model file.

The description is the segmenter's own (`SegmentationGraph.metadata`: its `arch`,
`num_classes`, `class_names`, `dataset`, `head`, `output_stride`, `normalization`),
plus what the conversion chose (input size, quantisation, outputs); this module only
stores and reads it.
"""

from __future__ import annotations

import json

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

METADATA_NAME = "keras_drn"
_FILE_IDENTIFIER = b"TFL3"


def write_entry(content: bytes, name: str, payload: bytes, *, input_names=None,
                output_names=None) -> bytes:
    """Stores `payload` as the flatbuffer's metadata entry `name`.

    The TFLite schema keeps a list of named metadata entries, each pointing at a
    buffer. An existing entry of that name is replaced; other entries, and anything
    appended after the flatbuffer (its associated files), are not kept, so add those
    last (`keras_drn.export.edge_metadata` does).

    Args:
        content: a `.tflite` flatbuffer.
        name: the entry's name ("keras_drn", "TFLITE_METADATA").
        payload: the entry's bytes.
        input_names: new names for the main graph's input tensors (the converter
            calls them "serving_default_image:0"); signatures refer to tensors by
            index, so they stay valid.
        output_names: new names for its output tensors.

    Returns:
        The new flatbuffer.
    """
    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    graph = model.subgraphs[0]
    for indices, names in ((graph.inputs, input_names), (graph.outputs, output_names)):
        for index, tensor_name in zip(indices, names or []):
            graph.tensors[index].name = tensor_name
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(payload, np.uint8)
    model.buffers.append(buffer)
    entries = [m for m in (model.metadata or []) if _name(m.name) != name]
    entry = schema.MetadataT()
    entry.name = name
    entry.buffer = len(model.buffers) - 1
    model.metadata = [*entries, entry]
    builder = flatbuffers.Builder(len(content) + len(payload) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=_FILE_IDENTIFIER)
    return bytes(builder.Output())


def read_entry(content: bytes, name: str) -> bytes | None:
    """The bytes of the flatbuffer's metadata entry `name`, or None if it has none.

    Args:
        content: a `.tflite` flatbuffer (associated files after it are ignored).
        name: the entry's name.
    """
    model = schema.Model.GetRootAs(bytearray(content), 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if _name(entry.Name()) == name:
            return bytes(model.Buffers(entry.Buffer()).DataAsNumpy())
    return None


def add_metadata(content: bytes, data: dict, *, input_names=None,
                 output_names=None) -> bytes:
    """Stores keras_drn's description in a `.tflite` flatbuffer.

    Args:
        content: the flatbuffer.
        data: JSON-ready values (`SegmentationGraph.metadata`), stored as JSON under
            the "keras_drn" entry (an existing one is replaced).
        input_names: new names for the input tensors (see `write_entry`).
        output_names: new names for the output tensors.

    Returns:
        The new flatbuffer.
    """
    payload = json.dumps(data, sort_keys=True).encode("utf-8")
    return write_entry(content, METADATA_NAME, payload, input_names=input_names,
                       output_names=output_names)


def read_metadata(content: bytes) -> dict | None:
    """keras_drn's description stored in a `.tflite` flatbuffer.

    Args:
        content: the flatbuffer.

    Returns:
        The "keras_drn" entry's JSON as a dict, or None if the model has none.

    Example:
    ```python
    with open("drn_d_22_int8.tflite", "rb") as f:
        meta = keras_drn.export.read_metadata(f.read())
    meta["class_names"], meta["quantize"]
    ```
    """
    raw = read_entry(content, METADATA_NAME)
    return None if raw is None else json.loads(raw.decode("utf-8"))


def _name(name) -> str:
    return name.decode("utf-8") if isinstance(name, bytes) else str(name)
