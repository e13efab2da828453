"""Reads Caffe `.caffemodel` files without Caffe or protobuf: a protobuf wire-format
reader for the few fields that hold weights.

A caffemodel is a serialized `NetParameter` (caffe.proto of fyu/caffe-dilation,
src/caffe/proto/caffe.proto). The fields read here:

- NetParameter: `layer` = 100 (LayerParameter, the "V2" format of Caffe since 2015) and
  `layers` = 2 (V1LayerParameter, the older format).
- LayerParameter: `name` = 1, `type` = 2 (string), `blobs` = 7.
- V1LayerParameter: `name` = 4, `type` = 5 (enum), `blobs` = 6, and `layer` = 1 (a
  V0LayerParameter: `name` = 1, `type` = 2, `blobs` = 50) in the oldest files.
- BlobProto: `shape` = 7 (BlobShape, `dim` = 1, int64), `data` = 5 (float),
  `double_data` = 8, and the deprecated 4-D `num` = 1, `channels` = 2, `height` = 3,
  `width` = 4. Repeated numbers may be packed (what Caffe writes) or not.

Everything else is skipped by its wire type, so any Caffe version's file parses.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass
from dataclasses import field

import numpy as np

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


class CaffeModelFormatError(ValueError):
    """The file is not a readable binary caffemodel."""


@dataclass
class CaffeLayer:
    """One layer of the net: its name, type and parameter blobs (numpy arrays in
    Caffe's layout, e.g. a convolution's weight [out, in, kh, kw] and bias [out])."""

    name: str
    type: str
    blobs: list = field(default_factory=list)


class _Reader:
    def __init__(self, buf, source: str):
        self.buf = buf
        self.source = source

    def fail(self, what: str):
        raise CaffeModelFormatError(
            f"{self.source} is not a valid caffemodel (binary NetParameter): {what}. "
            f"The file may be truncated or of another format."
        )

    def varint(self, pos: int, end: int) -> tuple[int, int]:
        result = shift = 0
        buf = self.buf
        while True:
            if pos >= end:
                self.fail("a number runs past the end of its message")
            byte = buf[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result, pos
            shift += 7
            if shift > 63:
                self.fail("a number is longer than 10 bytes")

    def fields(self, start: int, end: int):
        """Yields (field number, wire type, value or (start, end) of the payload)."""
        pos = start
        while pos < end:
            key, pos = self.varint(pos, end)
            number, wire = key >> 3, key & 7
            if number == 0:
                self.fail("field number 0")
            if wire == _VARINT:
                value, pos = self.varint(pos, end)
                yield number, wire, value, pos
            elif wire == _FIXED64:
                if pos + 8 > end:
                    self.fail("a 64-bit value runs past the end")
                yield number, wire, (pos, pos + 8), pos + 8
                pos += 8
            elif wire == _BYTES:
                length, pos = self.varint(pos, end)
                if pos + length > end:
                    self.fail(f"field {number} claims {length} bytes past the end")
                yield number, wire, (pos, pos + length), pos + length
                pos += length
            elif wire == _FIXED32:
                if pos + 4 > end:
                    self.fail("a 32-bit value runs past the end")
                yield number, wire, (pos, pos + 4), pos + 4
                pos += 4
            else:
                self.fail(f"unsupported wire type {wire} (field {number})")

    def string(self, span) -> str:
        return bytes(self.buf[span[0]: span[1]]).decode("utf-8", errors="replace")

    def packed(self, span, dtype: str) -> np.ndarray:
        start, end = span
        size = np.dtype(dtype).itemsize
        if (end - start) % size:
            self.fail("a packed array has a partial element")
        return np.frombuffer(self.buf, dtype=dtype, count=(end - start) // size,
                             offset=start)

    def packed_varints(self, span) -> list[int]:
        values, pos = [], span[0]
        while pos < span[1]:
            value, pos = self.varint(pos, span[1])
            values.append(value)
        return values

    def unpacked_run(self, pos: int, end: int, tag: int, width: int, dtype: str):
        """A run of one-element fields `tag value` (e.g. floats written without
        packing): returns (values, position after the run). Vectorised, since a layer
        can hold millions of them."""
        count = (end - pos) // (1 + width)
        rows = np.frombuffer(self.buf, dtype=np.uint8, count=count * (1 + width),
                             offset=pos).reshape(count, 1 + width)
        mismatch = np.flatnonzero(rows[:, 0] != tag)
        n = int(mismatch[0]) if mismatch.size else count
        values = np.ascontiguousarray(rows[:n, 1:]).view(dtype).reshape(n)
        return values, pos + n * (1 + width)


def _blob(reader: _Reader, start: int, end: int) -> np.ndarray:
    legacy = {}
    shape = None
    chunks: list[np.ndarray] = []
    doubles: list[np.ndarray] = []
    pos = start
    while pos < end:
        key, body = reader.varint(pos, end)
        number, wire = key >> 3, key & 7
        # Unpacked repeated floats/doubles: read the whole run at once.
        if number == 5 and wire == _FIXED32:
            values, pos = reader.unpacked_run(pos, end, key, 4, "<f4")
            chunks.append(values)
            continue
        if number == 8 and wire == _FIXED64:
            values, pos = reader.unpacked_run(pos, end, key, 8, "<f8")
            doubles.append(values)
            continue
        for number, wire, value, nxt in reader.fields(pos, end):
            pos = nxt
            if number == 5 and wire == _BYTES:
                chunks.append(reader.packed(value, "<f4"))
            elif number == 8 and wire == _BYTES:
                doubles.append(reader.packed(value, "<f8"))
            elif number in (1, 2, 3, 4) and wire == _VARINT:
                legacy[number] = value
            elif number == 7 and wire == _BYTES:
                dims = []
                for n2, w2, v2, _ in reader.fields(*value):
                    if n2 == 1 and w2 == _BYTES:
                        dims.extend(reader.packed_varints(v2))
                    elif n2 == 1 and w2 == _VARINT:
                        dims.append(v2)
                shape = tuple(int(d) for d in dims)
            break  # one field at a time, so the unpacked fast paths see every tag
    if chunks and doubles:
        reader.fail("a blob holds both float and double data")
    data = np.concatenate(chunks) if chunks else (
        np.concatenate(doubles) if doubles else np.zeros(0, "<f4")
    )
    if shape is None:
        if legacy:
            shape = tuple(legacy.get(i, 0) for i in (1, 2, 3, 4))
        else:
            shape = (data.size,)
    if int(np.prod(shape, dtype=np.int64)) != data.size:
        reader.fail(f"a blob of shape {shape} holds {data.size} values")
    return np.array(data.reshape(shape), dtype=data.dtype.newbyteorder("="))


def _layer(reader: _Reader, span, v1: bool) -> CaffeLayer:
    name, kind, blobs = "", "", []
    name_field, type_field, blob_field = (4, 5, 6) if v1 else (1, 2, 7)
    for number, wire, value, _ in reader.fields(*span):
        if number == name_field and wire == _BYTES:
            name = reader.string(value)
        elif number == type_field:
            kind = reader.string(value) if wire == _BYTES else f"V1 type {value}"
        elif number == blob_field and wire == _BYTES:
            blobs.append(_blob(reader, *value))
        elif v1 and number == 1 and wire == _BYTES:  # V0LayerParameter
            for n2, w2, v2, _ in reader.fields(*value):
                if n2 == 1 and w2 == _BYTES:
                    name = name or reader.string(v2)
                elif n2 == 2 and w2 == _BYTES:
                    kind = kind or reader.string(v2)
                elif n2 == 50 and w2 == _BYTES:
                    blobs.append(_blob(reader, *v2))
    return CaffeLayer(name, kind, blobs)


def read_caffemodel_layers(path: str | os.PathLike) -> list[CaffeLayer]:
    """Every layer of a binary caffemodel, V2 (`layer`) and V1 (`layers`) alike, in
    file order. Raises `CaffeModelFormatError` for anything else."""
    path = os.fspath(path)
    source = repr(path)
    if not os.path.isfile(path):
        raise CaffeModelFormatError(f"{source} is not a file.")
    with open(path, "rb") as f:
        head = f.read(16)
        if not head:
            raise CaffeModelFormatError(f"{source} is empty.")
        if head.startswith(b"\x89HDF"):
            raise CaffeModelFormatError(
                f"{source} is an HDF5 Caffe snapshot; convert it to a binary "
                f".caffemodel with Caffe, or pass the .caffemodel the authors released."
            )
        if head.lstrip()[:5] in (b"name:", b"layer", b"input") or head.lstrip()[:1] == b"#":
            raise CaffeModelFormatError(
                f"{source} is a text prototxt (the network definition); the weights "
                f"are in the binary .caffemodel file."
            )
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            reader = _Reader(buf, source)
            layers = []
            for number, wire, value, _ in reader.fields(0, len(buf)):
                if number == 100 and wire == _BYTES:
                    layers.append(_layer(reader, value, v1=False))
                elif number == 2 and wire == _BYTES:
                    layers.append(_layer(reader, value, v1=True))
        finally:
            try:
                buf.close()
            except BufferError:  # an error's traceback still views the map; GC closes it
                pass
    return layers


def read_caffemodel(path: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """The parameter blobs of a binary caffemodel by layer name.

    Args:
        path: a `.caffemodel` (a serialized Caffe NetParameter, V1 or V2 layers).

    Returns:
        `{layer name: [blob, ...]}` for every layer that has parameters, in file order;
        a convolution has [weight (out, in, kh, kw), bias (out,)] (a bias saved with
        the deprecated 4-D fields comes as (1, 1, 1, out)).

    Raises:
        CaffeModelFormatError: not a caffemodel, truncated, or two layers with
            parameters share a name.
    """
    out: dict[str, list[np.ndarray]] = {}
    for layer in read_caffemodel_layers(path):
        if not layer.blobs:
            continue
        if layer.name in out:
            raise CaffeModelFormatError(
                f"{os.fspath(path)!r} has two layers named {layer.name!r} with "
                f"parameters; cannot tell which to use."
            )
        out[layer.name] = layer.blobs
    if not out:
        raise CaffeModelFormatError(
            f"{os.fspath(path)!r} parses as a protobuf but holds no layer with "
            f"parameters: not a trained caffemodel."
        )
    return out
