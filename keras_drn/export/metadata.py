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


def add_metadata(content: bytes, data: dict, *, input_names=None,
                 output_names=None) -> bytes:
    """Returns `content` with `data` stored as JSON under the "keras_drn" metadata
    entry (an existing entry of that name is replaced).

    `input_names` / `output_names`: new names for the main graph's input and output
    tensors (the converter calls them "serving_default_image:0" and
    "StatefulPartitionedCall_1:0"); signatures refer to tensors by index, so they stay
    valid.
    """
    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    graph = model.subgraphs[0]
    for indices, names in ((graph.inputs, input_names), (graph.outputs, output_names)):
        for index, name in zip(indices, names or []):
            graph.tensors[index].name = name
    payload = np.frombuffer(json.dumps(data, sort_keys=True).encode("utf-8"), np.uint8)
    buffer = schema.BufferT()
    buffer.data = payload
    model.buffers.append(buffer)
    entries = [m for m in (model.metadata or []) if _name(m.name) != METADATA_NAME]
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata = [*entries, entry]
    builder = flatbuffers.Builder(len(content) + payload.size + 4096)
    builder.Finish(model.Pack(builder), file_identifier=_FILE_IDENTIFIER)
    return bytes(builder.Output())


def read_metadata(content: bytes) -> dict | None:
    """The "keras_drn" metadata of a `.tflite` flatbuffer, or None if it has none."""
    model = schema.Model.GetRootAs(bytearray(content), 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if _name(entry.Name()) == METADATA_NAME:
            raw = model.Buffers(entry.Buffer()).DataAsNumpy()
            return json.loads(bytes(raw).decode("utf-8"))
    return None


def _name(name) -> str:
    return name.decode("utf-8") if isinstance(name, bytes) else str(name)
