"""Named weights ("imagenet", "cityscapes", "camvid", ...): download once, convert once.

The first use downloads the authors' file (`keras_drn.weights.download`), converts it
to Keras layout and caches the result beside it as an `.npz` of
`{"<layer>/<weight>": array}`; every later use reads only that, never the original.
The cache is written through `keras_drn.files.atomic_path` (a temporary name, then a
rename), so an interrupted conversion leaves nothing behind, and it records what it
was made from.
"""

from __future__ import annotations

import os
import warnings
import zipfile

import keras
import numpy as np

from keras_drn.files import atomic_path
from keras_drn.weights import checkpoints
from keras_drn.weights import convert
from keras_drn.weights import download
from keras_drn.weights import registry

# Bump when the conversion changes, so that stale caches are rebuilt.
CONVERTED_FORMAT = 1
_META = "__keras_drn__"


def converted_path(entry: registry.WeightsEntry) -> str:
    """Where the converted weights of `entry` are cached."""
    return os.path.join(
        download.cache_dir(),
        f"{entry.stem}.{entry.model}.keras_drn-v{CONVERTED_FORMAT}.npz",
    )


def _meta(entry: registry.WeightsEntry) -> dict[str, str]:
    return {
        f"{_META}/format": str(CONVERTED_FORMAT),
        f"{_META}/model": entry.model,
        f"{_META}/file": entry.file_name,
    }


def read_converted(entry: registry.WeightsEntry) -> dict[str, np.ndarray] | None:
    """The cached converted weights of `entry`, or None if absent, stale or damaged
    (a damaged file is removed, to be rebuilt)."""
    path = converted_path(entry)
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = {k: str(data[k]) for k in data.files if k.startswith(_META)}
            if meta != _meta(entry):
                return None
            return {k: data[k] for k in data.files if not k.startswith(_META)}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        _discard(path)
        return None


def write_converted(entry: registry.WeightsEntry, arrays: dict[str, np.ndarray]) -> None:
    """Caches `arrays` for `entry` atomically (`keras_drn.files.atomic_path`). A cache
    that cannot be written is only a warning: the weights are loaded anyway."""
    path = converted_path(entry)
    payload = dict(arrays)
    payload.update({k: np.array(v) for k, v in _meta(entry).items()})
    try:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **payload)
    except OSError as error:
        warnings.warn(
            f"Could not cache the converted weights at {path} ({error}); they will be "
            f"converted again next time.",
            stacklevel=3,
        )


def _discard(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def load_named_weights(model: keras.Model, model_key: str, name: str, *,
                       arch: str | None = None) -> None:
    """Loads the registry weights `name` of `model_key` into `model`, all or nothing.

    Args:
        model: the built keras_drn model.
        model_key: its registry key ("drn_c_26", "drnseg_drn_d_22",
            "dilation8_camvid", ...).
        name: the weights name ("imagenet", "cityscapes", "camvid", ...).
        arch: the DRN architecture (for DRNSeg's key numbering).

    Raises:
        ValueError: unknown name, or weights that do not fit the model.
        WeightsDownloadError: the file could not be downloaded; the message says
            which URLs were tried and how to use a local file or a mirror.
    """
    entry = registry.get_entry(model_key, name)
    source = f"weights={name!r} ({entry.file_name})"
    arrays = read_converted(entry)
    if arrays is None:
        original = download.fetch(entry)
        arrays = checkpoints.convert_checkpoint(model, original, arch=arch,
                                                kind=entry.kind)
        write_converted(entry, arrays)
    convert.assign_arrays(model, arrays, kind=entry.kind, source=source)
