"""Keras weights files matched by layer name and shape, never by position.

Keras' own `.weights.h5` loader addresses variables by the position of each layer
among the layers of its class (`layers/conv2d_7/vars/0`), so a file of a network that
shares a prefix of layers with another loads into it without complaint: DRN-D-24's
level-7 kernel lands in DRN-D-22's level 8. Keras 3 also records each layer's name
beside its variables; this module reads those names, compares the file with the model
layer by layer, and refuses a file that differs anywhere, naming the first layer that
differs. Nothing is assigned before the whole file has been checked.

The model's own layout is taken from Keras itself (its weights saved to a temporary
file), so both sides are read the same way; the file's arrays are then copied by name
into that layout and Keras loads it, so positions never decide what goes where (a file
saved from a differently nested model, a flat functional DRNSeg say, loads too).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass

import h5py
import numpy as np

# Variables that are not weights: optimizer slots (in a compiled model's task file) and
# random-seed state (dropout). They are neither compared nor required.
_SKIPPED_SEGMENTS = ("optimizer",)
_SKIPPED_NAMES = ("seed_generator",)
WEIGHTS_IN_KERAS_ARCHIVE = "model.weights.h5"


class WeightsMismatchError(ValueError):
    """A weights file does not fit the model; the message names the first layer that
    differs. The model was left untouched."""


@dataclass(frozen=True)
class Entry:
    """One layer's variables in a `.weights.h5` file."""

    name: str  # the layer name, qualified by its parent for a sublayer ("x/conv")
    path: str  # the h5 group holding the variables ("layers/conv2d_7/vars")
    shapes: tuple[tuple[int, ...], ...]


def _qualified_names(f: h5py.File) -> dict[str, str]:
    """h5 saveable path -> layer name qualified by non-container parents."""
    names: dict[str, str] = {}

    def visit(group_path: str, group):
        if not group_path.endswith("vars") or "name" not in group.attrs:
            return
        owner = group_path[: -len("vars")].rstrip("/")
        names[owner] = str(group.attrs["name"])

    f.visititems(lambda p, o: visit(p, o) if isinstance(o, h5py.Group) else None)
    qualified: dict[str, str] = {}

    def qualify(owner: str) -> str:
        if owner in qualified:
            return qualified[owner]
        parts = owner.split("/")
        name = names.get(owner, parts[-1])
        if len(parts) >= 2 and parts[-2] != "layers":
            # An attribute child (a sublayer of a custom layer): prefix its parent.
            parent = "/".join(parts[:-1])
            if parent in names:
                name = f"{qualify(parent)}/{name}"
        qualified[owner] = name
        return name

    for owner in names:
        qualify(owner)
    return qualified


def read_layout(path: str) -> list[Entry]:
    """The layers with variables in the `.weights.h5` file `path`, in file order.

    Raises:
        WeightsMismatchError: the file carries no layer names (written by Keras 2 or an
            early Keras 3), so it cannot be checked by name.
    """
    entries = []
    with h5py.File(path, "r") as f:
        qualified = _qualified_names(f)
        groups = []
        f.visititems(lambda p, o: groups.append(p)
                     if isinstance(o, h5py.Group) and p.endswith("vars") else None)
        for group_path in groups:
            owner = group_path[: -len("vars")].rstrip("/")
            segments = owner.split("/") if owner else []
            if not segments or any(s in _SKIPPED_SEGMENTS for s in segments):
                continue
            group = f[group_path]
            keys = sorted(group.keys(), key=int)
            if not keys:
                continue
            name = qualified.get(owner)
            if name is None:
                raise WeightsMismatchError(
                    f"{path} has no layer names (group {group_path!r}); it was written "
                    f"by an older Keras. Load it with model.load_weights(path) at your "
                    f"own risk, or re-save it with Keras 3."
                )
            if name.split("/")[-1] in _SKIPPED_NAMES:
                continue
            shapes = tuple(tuple(group[k].shape) for k in keys)
            entries.append(Entry(name, group_path, shapes))
    return entries


def _by_name(entries: list[Entry]) -> dict[str, Entry]:
    seen: dict[str, int] = {}
    out = {}
    for entry in entries:
        count = seen.get(entry.name, 0)
        seen[entry.name] = count + 1
        out[entry.name if not count else f"{entry.name}#{count}"] = entry
    return out


def _natural(name: str):
    """Sort key that puts "layer7_3" before "layer7_10" and "layer8_0"."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def model_layout(model, directory: str) -> tuple[str, list[Entry]]:
    """Saves `model`'s weights into `directory` and returns (that file, its layout in
    the model's own layer order, so that "the first layer that differs" is the first
    along the network)."""
    from keras_drn.models.walk import leaf_layers

    path = os.path.join(directory, "model.weights.h5")
    model.save_weights(path)
    order = {layer.name: i for i, layer in enumerate(leaf_layers(model))}
    entries = read_layout(path)
    entries.sort(key=lambda e: (order.get(e.name.split("/")[0], len(order)),
                                _natural(e.name)))
    return path, entries


def _show(shapes) -> str:
    return ", ".join(str(s) for s in shapes) or "none"


_CLASS_INDEX = re.compile(r"^(?P<cls>.*?)(?:_(?P<n>\d+))?$")


def _class_slot(entry: Entry) -> tuple[str, int]:
    """("<parent>/<class>", n) of an entry's h5 group: Keras numbers the layers of a
    class in creation order ("layers/conv2d_21/vars" -> ("layers/conv2d", 21))."""
    owner = entry.path[: -len("vars")].rstrip("/")
    parent, _, leaf = owner.rpartition("/")
    match = _CLASS_INDEX.match(leaf)
    return f"{parent}/{match['cls']}", int(match["n"] or 0)


def _file_ranks(theirs: dict[str, Entry], mine: dict[str, Entry]) -> dict[str, float]:
    """A position along the model's network for every layer of the file: a layer the
    model has takes its own; any other sits just after the nearest earlier layer of
    its class (in the file's creation order) that the model has."""
    rank_of = {key: float(i) for i, key in enumerate(mine)}
    by_class: dict[str, list[tuple[int, str]]] = {}
    for key, entry in theirs.items():
        cls, n = _class_slot(entry)
        by_class.setdefault(cls, []).append((n, key))
    ranks = {}
    for members in by_class.values():
        last, steps = -1.0, 0
        for _, key in sorted(members):
            if key in rank_of:
                last, steps = rank_of[key], 0
                ranks[key] = last
            else:
                steps += 1
                ranks[key] = last + steps * 1e-3
    return ranks


def compare(model_entries: list[Entry], file_entries: list[Entry], *, model_name: str,
            source: str) -> None:
    """Raises WeightsMismatchError unless both sides have the same layers (by name)
    with the same shapes; the message names the first layer that differs along the
    network (`model_entries` in the model's layer order, as `model_layout` gives
    them; a layer only the file has is placed by `_file_ranks`)."""
    mine, theirs = _by_name(model_entries), _by_name(file_entries)
    ranks = _file_ranks(theirs, mine)
    extra = sorted((k for k in theirs if k not in mine),
                   key=lambda k: (ranks[k], _natural(k)))
    differing = [(float(i), key) for i, (key, entry) in enumerate(mine.items())
                 if key not in theirs or theirs[key].shapes != entry.shapes]
    differing += [(ranks[key], key) for key in extra]
    if not differing:
        return
    _, key = min(differing)
    if key in extra:
        raise WeightsMismatchError(
            f"{source} does not fit {model_name}: the first layer that differs is "
            f"{key!r}, which is in the file but not in the model "
            f"({len(extra)} such layer(s): {', '.join(extra[:6])}). The file holds a "
            f"larger architecture or another head; nothing was loaded."
        )
    entry, other = mine[key], theirs.get(key)
    if other is None:
        hint = f"; the file has instead: {', '.join(extra[:6])}" if extra else ""
        raise WeightsMismatchError(
            f"{source} does not fit {model_name}: the first layer that differs is "
            f"{key!r}, which the file does not have{hint}. The file holds another "
            f"architecture, head or number of classes; nothing was loaded."
        )
    raise WeightsMismatchError(
        f"{source} does not fit {model_name}: the first layer that differs is "
        f"{key!r}, whose weights have shapes {_show(other.shapes)} in the file "
        f"but {_show(entry.shapes)} in the model. The file holds another "
        f"architecture, width or number of classes; nothing was loaded."
    )


def _rewrite(target_path: str, model_entries: list[Entry], sources: list[str],
             file_entries_by_source: list[list[Entry]]) -> None:
    """Overwrites the datasets of `target_path` (the model's own layout) with the
    arrays of the same-named layers of `sources`."""
    lookup = {}
    for src, entries in zip(sources, file_entries_by_source):
        for key, entry in _by_name(entries).items():
            lookup[key] = (src, entry)
    handles = {src: h5py.File(src, "r") for src in sources}
    try:
        with h5py.File(target_path, "r+") as out:
            for key, entry in _by_name(model_entries).items():
                src, other = lookup[key]
                group_in, group_out = handles[src][other.path], out[entry.path]
                for k in group_out.keys():
                    group_out[k][...] = np.asarray(group_in[k])
    finally:
        for handle in handles.values():
            handle.close()


def load_h5_strict(model, paths, *, source: str | None = None) -> None:
    """Loads one or more `.weights.h5` files (a preset's backbone and task files
    together) into `model`, matching layers by name and shape.

    Raises:
        WeightsMismatchError: any layer differs (the message names the first); the
            model is unchanged.
    """
    paths = [os.fspath(p) for p in ([paths] if isinstance(paths, (str, os.PathLike))
                                    else paths)]
    source = source or " + ".join(paths)
    file_layouts = [read_layout(p) for p in paths]
    merged = [e for layout in file_layouts for e in layout]
    with tempfile.TemporaryDirectory(prefix="keras_drn_weights_") as tmp:
        own_path, own = model_layout(model, tmp)
        compare(own, merged, model_name=model.name, source=source)
        # Always load through the model's own layout: the positions Keras reads are
        # then right by construction, and the file's optimizer state is not read.
        _rewrite(own_path, own, paths, file_layouts)
        model.load_weights(own_path)


def extract_keras_weights(archive: str, directory: str) -> str:
    """The weights file inside a `.keras` archive, extracted into `directory`."""
    try:
        with zipfile.ZipFile(archive) as z:
            if WEIGHTS_IN_KERAS_ARCHIVE not in z.namelist():
                raise WeightsMismatchError(
                    f"{archive} is a zip file without {WEIGHTS_IN_KERAS_ARCHIVE}: not a "
                    f"Keras 3 .keras file."
                )
            target = os.path.join(directory, WEIGHTS_IN_KERAS_ARCHIVE)
            with z.open(WEIGHTS_IN_KERAS_ARCHIVE) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            return target
    except zipfile.BadZipFile as error:
        raise WeightsMismatchError(
            f"{archive} is not a .keras file (not a zip archive: {error})."
        ) from None


def load_keras_archive_strict(model, archive: str) -> None:
    """Loads the weights of a `.keras` file into `model` by layer name and shape,
    without deserialising (or executing) anything of the file's model config."""
    with tempfile.TemporaryDirectory(prefix="keras_drn_archive_") as tmp:
        load_h5_strict(model, extract_keras_weights(archive, tmp), source=archive)
