"""The authors' checkpoint files, read and mapped onto our models: PyTorch `.pth` /
`.pth.tar` (fyu/drn, torchvision) and Caffe `.caffemodel` (fyu/dilation).

The container is recognised by its first bytes, not its name, so a renamed file still
loads and a file of the wrong family gets an error that says what it is.
"""

from __future__ import annotations

import os
import zipfile

import keras
import numpy as np

from keras_drn.weights import caffe_reader
from keras_drn.weights import convert
from keras_drn.weights import pth_reader


class WeightsFileError(ValueError):
    """A weights file of the wrong kind for the model it was given to."""


def detect_format(path: str) -> str | None:
    """"pth" (any torch.save container), "keras" (a Keras zip or HDF5 file), or
    "caffemodel" (by name: protobuf has no signature); None if unknown."""
    kind = pth_reader.sniff_format(path)
    if kind == "zip":
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            return "pth"  # let the reader report the damage
        if "config.json" in names and any(n.endswith(".weights.h5") for n in names):
            return "keras"
        return "pth"
    if kind in ("tar", "legacy"):
        return "pth"
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "keras"
    if path.endswith(".caffemodel"):
        return "caffemodel"
    return None


def _family(kind: str) -> str:
    return "caffemodel" if kind == "caffe" else "pth"


def convert_checkpoint(model: keras.Model, path: str | os.PathLike, *, arch: str | None,
                       kind: str) -> dict[str, np.ndarray]:
    """Reads the reference checkpoint at `path` and maps it onto `model` without
    assigning anything.

    Args:
        model: the keras_drn model the file is for.
        path: a `.pth`/`.pth.tar` (kind "classifier" or "segmentation") or
            `.caffemodel` (kind "caffe").
        arch: the DRN architecture, e.g. "drn_d_22" (unused for "caffe").
        kind: "classifier", "segmentation" or "caffe".

    Returns:
        `{"<layer>/<weight>": array}` in Keras layout (see `convert.assign_arrays`).

    Raises:
        ValueError (`PthFormatError`, `CaffeModelFormatError`,
        `CheckpointMismatchError`, `WeightsFileError`): with what is wrong and what to
        do; nothing is changed.
    """
    path = os.fspath(path)
    if kind not in convert.KINDS:
        raise ValueError(f"Invalid kind={kind!r}; expected one of {convert.KINDS}.")
    source = f"weights={path!r}"
    found = detect_format(path)
    if found is None and kind == "caffe":
        found = "caffemodel"  # protobuf has no magic bytes; the parser will judge
    wanted = _family(kind)
    if found == "keras":
        raise WeightsFileError(
            f"{source} is a Keras file; name it *.weights.h5 or *.keras so that Keras "
            f"reads it."
        )
    if found is None:
        raise WeightsFileError(
            f"{source} is not a PyTorch checkpoint (zip, tar or pickle stream) nor a "
            f"Keras file; expected the authors' .pth/.pth.tar file for {model.name}."
        )
    if found != wanted:
        what = {"pth": "a PyTorch checkpoint (fyu/drn)",
                "caffemodel": "a Caffe model (fyu/dilation)"}
        raise WeightsFileError(
            f"{source} is {what[found]}, but {model.name} takes {what[wanted]} "
            f"files: DRN and DRNSeg models load .pth files, Dilation models .caffemodel "
            f"files."
        )
    if kind == "caffe":
        blobs = caffe_reader.read_caffemodel(path)
        return convert.convert_caffe_blobs(model, blobs, source=source)
    state = pth_reader.read_pth(path)
    return convert.convert_state_dict(model, state, arch=arch, kind=kind, source=source)


def load_checkpoint(model: keras.Model, path: str | os.PathLike, *, arch: str | None,
                    kind: str) -> None:
    """Loads the reference checkpoint at `path` into `model`, all or nothing (see
    `convert_checkpoint` for the arguments and errors)."""
    arrays = convert_checkpoint(model, path, arch=arch, kind=kind)
    convert.assign_arrays(model, arrays, kind=kind, source=f"weights={os.fspath(path)!r}")
