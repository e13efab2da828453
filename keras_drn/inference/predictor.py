"""Segmenting image files: a folder, a glob or a list of images in; label PNGs,
colourised pictures and overlays out.

    predictor = Predictor(model, scales=MS_SCALES, flip=True)  # the model's dataset
    labels = predictor(image)                      # (H, W) uint8 train ids
    predict_images(predictor, "leftImg8bit/val", "out/")

`predict_images` writes, for an input `<rel>/<name>.<ext>` (`<rel>` the path below the
input folder; nothing for a glob or a file list):
    out/train_ids/<rel>/<name>.png   class ids (uint8), as fyu/drn segment.py saves them
    out/label_ids/<rel>/<name>.png   Cityscapes label ids, the benchmark server's format
                                     (names keep the city_seq_frame prefix it pairs by)
    out/color/<rel>/<name>.png       the dataset's colours (a generic palette for a
                                     model without a dataset)
    out/overlay/<rel>/<name>.png     the colours blended over the image
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from keras_drn.files import IMAGE_SUFFIXES
from keras_drn.files import is_image_file
from keras_drn.files import list_image_files
from keras_drn.files import read_image
from keras_drn.inference.model_info import model_class_names
from keras_drn.inference.model_info import model_dataset
from keras_drn.inference.multiscale import predict_logits
from keras_drn.inference.outputs import overlay
from keras_drn.inference.outputs import save_png
from keras_drn.meta.labels import train_ids_to_label_ids
from keras_drn.meta.palettes import colorize

OUTPUTS = ("train_ids", "label_ids", "color", "overlay")


class Predictor:
    """A model and its test-time settings, applied to one image at a time.

    Args:
        model: a keras_drn segmenter (DRNSeg, Dilation7/8/10) or a plain Keras
            segmentation model.
        dataset: None for the model's own dataset (its normalisation, palette and
            class ids; Cityscapes for a plain model), or a dataset name
            ("cityscapes", "camvid", ...) that overrides it.
        scales, flip, merge, family, window, margin, tile_size, batch_size: as
            `keras_drn.inference.predict_logits`.

    Attributes:
        dataset: the dataset the predictions are coloured and written for (None for a
            segmenter that names none).
        class_names: one name per class, or None when unknown.
    """

    def __init__(self, model, *, dataset: str | None = None,
                 scales: Sequence[float] = (1.0,), flip: bool = False,
                 merge: str = "log_prob", family: str = "auto", window=None,
                 margin=None, tile_size=None, batch_size: int = 1):
        self.model = model
        self.dataset = model_dataset(model, dataset)
        self.class_names = model_class_names(model, dataset)
        self.options = dict(scales=tuple(scales), flip=flip, merge=merge, family=family,
                            window=window, margin=margin, tile_size=tile_size,
                            batch_size=batch_size, dataset=dataset)

    def logits(self, image) -> np.ndarray:
        """(H, W, C) log-probabilities of an (H, W, 3) RGB image."""
        return predict_logits(self.model, image, **self.options)

    def predict(self, image) -> np.ndarray:
        """(H, W) uint8 class ids (train ids for Cityscapes)."""
        return self.logits(image).argmax(axis=-1).astype(np.uint8)

    __call__ = predict


def list_images(inputs) -> list[tuple[Path, Path]]:
    """Resolves inputs to (image path, output-relative path) pairs.

    `inputs` is a folder (searched recursively; relative paths kept), a glob pattern, an
    image file, a .txt file listing images (one a line; relative to the working
    directory or else to the list's folder), or a sequence of those.

    Raises:
        ValueError: nothing found, a path that does not exist, or two inputs that would
            write the same output name.
    """
    items = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    found: list[tuple[Path, Path]] = []
    for item in items:
        text = os.fspath(item)
        path = Path(text)
        if path.is_dir():
            files = sorted(Path(p) for p in list_image_files(path))
            if not files:
                raise ValueError(f"No images ({', '.join(IMAGE_SUFFIXES)}) under {path}.")
            found += [(p, p.relative_to(path)) for p in files]
        elif path.is_file() and path.suffix.lower() == ".txt":
            for line in path.read_text().splitlines():
                line = line.strip()
                if not line:
                    continue
                entry = Path(line)
                if not entry.is_file() and (path.parent / entry).is_file():
                    entry = path.parent / entry
                if not entry.is_file():
                    raise ValueError(f"{path} lists {line}, which does not exist.")
                found.append((entry, Path(entry.name)))
        elif path.is_file():
            found.append((path, Path(path.name)))
        elif any(ch in text for ch in "*?["):
            files = sorted(Path(p) for p in glob.glob(text, recursive=True)
                           if Path(p).is_file() and is_image_file(p))
            if not files:
                raise ValueError(f"The pattern {text!r} matches no image.")
            found += [(p, Path(p.name)) for p in files]
        else:
            raise ValueError(
                f"{text} is neither a folder, an image, a .txt list nor a glob pattern "
                f"that matches images."
            )
    seen: dict[Path, Path] = {}
    for source, relative in found:
        key = relative.with_suffix(".png")
        if key in seen and seen[key] != source:
            raise ValueError(
                f"{seen[key]} and {source} would both be written as {key}; pass their "
                f"common folder instead so that sub-folders are kept."
            )
        seen[key] = source
    return found


def predict_images(model_or_predictor, inputs, output_dir, *,
                   outputs: Sequence[str] | None = None, alpha: float = 0.5,
                   progress: bool = True, **options) -> list[dict]:
    """Segments image files and writes label PNGs and pictures.

    Args:
        model_or_predictor: a Keras model or a `Predictor`.
        inputs: see `list_images`.
        output_dir: the root of the output folders (`train_ids/`, `label_ids/`,
            `color/`, `overlay/`).
        outputs: which of `OUTPUTS` to write; default all (label_ids for Cityscapes
            only).
        alpha: the colours' weight in the overlays.
        progress: show a progress bar.
        **options: `Predictor` arguments when a model is given.

    Returns:
        One dict per image: {"input": Path, "outputs": {kind: Path}}.
    """
    predictor = model_or_predictor
    if not isinstance(predictor, Predictor):
        predictor = Predictor(model_or_predictor, **options)
    elif options:
        raise ValueError("Pass options to the Predictor, not with one.")
    dataset = predictor.dataset
    if outputs is None:
        outputs = [k for k in OUTPUTS if k != "label_ids" or dataset == "cityscapes"]
    outputs = list(outputs)
    for kind in outputs:
        if kind not in OUTPUTS:
            raise ValueError(f"Invalid output {kind!r}. Expected some of: {OUTPUTS}.")
    if "label_ids" in outputs and dataset != "cityscapes":
        raise ValueError(
            f"label_ids are Cityscapes label ids; dataset={dataset!r} has class ids "
            f"only (write train_ids)."
        )
    files = list_images(inputs)
    output_dir = Path(output_dir)
    bar = None
    if progress:
        import keras

        bar = keras.utils.Progbar(len(files), unit_name="image")
    records = []
    for i, (source, relative) in enumerate(files):
        image = read_image(source)
        labels = predictor.predict(image)
        name = relative.with_suffix(".png")
        written = {}
        for kind in outputs:
            if kind == "train_ids":
                array = labels
            elif kind == "label_ids":
                array = train_ids_to_label_ids(labels)
            elif kind == "color":
                array = colorize(labels, dataset)
            else:
                array = overlay(image, labels, dataset, alpha=alpha)
            written[kind] = save_png(array, output_dir / kind / name)
        records.append({"input": source, "outputs": written})
        if bar is not None:
            bar.update(i + 1)
    return records
