"""Per-pixel class scores of one image: single scale, multi-scale, flipped, windowed.

Stable interface (train/cityscapes.py `test` calls it):

    predict_logits(model, image, *, scales=(1.0,), flip=False, merge="log_prob",
                   dataset=None, family="auto", window=None, margin=None,
                   tile_size=None, preprocess=True, batch_size=1) -> (H, W, C) float32
    predict_labels(model, image, **same) -> (H, W) uint8 class ids
    MS_SCALES = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)

`image` is one (H, W, 3) RGB image, uint8 (or float on 0..255), not normalised; the
result is per-pixel log-probabilities at the image's resolution.

Multi-scale testing follows fyu/drn segment.py `test_ms` (563-610) with `--ms`: each
scale s resizes the image to (int(W s), int(H s)) with PIL BICUBIC, the network's
log-softmax output is resized back to (W, H) with PIL BILINEAR channel by channel, and
the passes are combined before the argmax. The reference *sums* log-probabilities
(merge="log_prob", our default, for the published numbers); we average them, which
has the same argmax and keeps values comparable across scale sets. merge="prob"
averages probabilities instead (resizing probabilities, not log-probabilities): what
"probabilities merged at full resolution" usually means elsewhere; it weighs a
confident wrong scale less. Both return log-probabilities.

flip=True adds, at every scale, the prediction of the mirrored image mirrored back
(not in the reference; a common test-time augmentation).

DRN models run on the whole (scaled) image, or with `window` set, on overlapping
windows (`keras_drn.inference.tiling.sliding_window`). Dilation models always run as
fyu/dilation does: reflection-padded tiles of the deploy size (`dilation_tiles`), whose
probabilities are zoomed by `interp_map`.

What the model is comes from the model: a keras_drn segmenter gives its family, output
activation, dataset (normalisation, Dilation tile size) and zoom
(`keras_drn.inference.model_info`); the arguments `dataset` and `family` override it.
Plain Keras models fall back to their layer names and to Cityscapes' statistics.

Differences from the reference, deliberate: DRNSeg crops its x8 output to the input
size (the reference resizes its uncropped 8 * ceil(h / 8) output back; equal for the
Cityscapes sizes, which are multiples of 8 at every scale); numbers are float32 in
numpy rather than CUDA.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import keras
import numpy as np

from keras_drn.inference import model_info
from keras_drn.inference.resize import resize_image
from keras_drn.inference.resize import resize_scores
from keras_drn.inference.tiling import LABEL_MARGIN
from keras_drn.inference.tiling import dilation_tiles
from keras_drn.inference.tiling import sliding_window
from keras_drn.models.configs import DILATION_CONFIGS

MS_SCALES = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)  # segment.py:628 plus the original
MERGES = ("log_prob", "prob")
FAMILIES = ("auto", *model_info.FAMILIES)
OUTPUT_KINDS = model_info.OUTPUT_KINDS
_TINY = np.float32(np.finfo(np.float32).tiny)

# Kept here for callers of the earlier interface.
model_family = model_info.model_family
output_kind = model_info.output_kind


_LOG_PROB_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def log_probability_model(model, kind: str | None = None) -> keras.Model:
    """`model` with log-probabilities as its output, computed on the device (cached:
    the wrapper shares the model's layers, and its traced predict function is reused
    across calls).

    Args:
        model: a segmenter or plain model.
        kind: what `model` returns ("logits", "probabilities", "log_probabilities");
            None reads it from the model (`keras_drn.inference.model_info`).

    Returns:
        A `keras.Model` on the same input.
    """
    kind = model_info.output_kind(model) if kind is None else kind
    if kind not in OUTPUT_KINDS:
        raise ValueError(f"Invalid output kind={kind!r}. Expected one of: {OUTPUT_KINDS}.")
    cache = _LOG_PROB_MODELS.setdefault(model, {})
    if kind not in cache:
        if len(model.outputs) != 1:
            raise ValueError(f"{model.name} has {len(model.outputs)} outputs; expected "
                             f"one (per-pixel class scores).")
        out = keras.ops.cast(model.outputs[0], "float32")
        if kind == "probabilities":
            out = keras.ops.log(keras.ops.maximum(out, float(_TINY)))
        else:  # log_softmax of log-probabilities returns them unchanged
            out = keras.ops.log_softmax(out, axis=-1)
        cache[kind] = keras.Model(model.inputs, out, name=f"{model.name}_log_prob")
    return cache[kind]


def model_forward(model, *, kind: str | None = None):
    """A forward function (N, h, w, 3) -> (N, h', w', C) log-probabilities (numpy)."""
    wrapped = log_probability_model(model, kind)

    def forward(batch: np.ndarray) -> np.ndarray:
        out = wrapped.predict_on_batch(np.asarray(batch, dtype=np.float32))
        return np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float32)

    return forward


def _check_image(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"Expected one RGB image of shape (height, width, 3), received "
            f"{image.shape}. Pass images one at a time."
        )
    return image


def _check_scales(scales) -> tuple[float, ...]:
    scales = tuple(float(s) for s in scales)
    if not scales or any(s <= 0 for s in scales):
        raise ValueError(f"Invalid scales={scales!r}: expected positive numbers.")
    return scales


def predict_logits(
    model,
    image,
    *,
    scales: Sequence[float] = (1.0,),
    flip: bool = False,
    merge: str = "log_prob",
    dataset: str | None = None,
    family: str = "auto",
    window=None,
    margin=None,
    tile_size=None,
    preprocess: bool = True,
    batch_size: int = 1,
) -> np.ndarray:
    """Per-pixel log-probabilities of one image at its resolution.

    Args:
        model: a keras_drn segmenter (`keras_drn.DRNSeg`, `keras_drn.Dilation8`, ...)
            or a plain Keras segmentation model, channels last.
        image: (H, W, 3) RGB, uint8 or float on 0..255 (not normalised unless
            preprocess=False).
        scales: image scales; `MS_SCALES` is the reference's `--ms`.
        flip: also predict the mirrored image at every scale.
        merge: "log_prob" (the reference: average log-probabilities) or "prob".
        dataset: None for the model's own normalisation (and, for Dilation models,
            deploy tile size); a dataset name overrides it. A plain model without a
            dataset gets Cityscapes' statistics.
        family: "drn", "dilation" or "auto" (the segmenter's `family`; for a plain
            model, from its layer names).
        window: DRN only: sliding-window size (int or (h, w)); None for whole images.
        margin: DRN only: the windows' context margin (default window // 4).
        tile_size: Dilation only: the tile (default: the dataset's deploy size).
        preprocess: normalise the image (with the statistics `dataset` selects).
        batch_size: windows or tiles per forward call.

    Returns:
        (H, W, C) float32 log-probabilities; argmax over the last axis is the
        prediction.
    """
    image = _check_image(image)
    scales = _check_scales(scales)
    if merge not in MERGES:
        raise ValueError(f"Invalid merge={merge!r}. Expected one of: {MERGES}.")
    if family not in FAMILIES:
        raise ValueError(f"Invalid family={family!r}. Expected one of: {FAMILIES}.")
    family = model_info.model_family(model) if family == "auto" else family
    norm = model_info.model_normalization(model, dataset, family) if preprocess else None
    height, width = image.shape[:2]
    forward = model_forward(model)
    run = _runner(model, forward, family, model_info.model_dataset(model, dataset),
                  window, margin, tile_size, batch_size)
    total = None
    for scale in scales:
        scaled = image if scale == 1 else resize_image(
            image, (int(height * scale), int(width * scale)))
        x = model_info.normalize_images(scaled, norm) if preprocess \
            else np.asarray(scaled, dtype=np.float32)
        passes = [run(x)]
        if flip:
            passes.append(run(x[:, ::-1])[:, ::-1])
        if merge == "prob":
            passes = [np.exp(p) for p in passes]
        # Flips are averaged before resizing: the resize is linear and symmetric.
        scores = passes[0] if len(passes) == 1 else 0.5 * (passes[0] + passes[1])
        scores = resize_scores(scores, (height, width))
        total = scores if total is None else total + scores
    total /= len(scales)
    if merge == "prob":
        return np.log(np.maximum(total, _TINY))
    return total


def predict_labels(model, image, **kwargs) -> np.ndarray:
    """The argmax of `predict_logits`: (H, W) uint8 class ids (int32 past 256
    classes).

    Args:
        model: a segmenter or plain model.
        image: an (H, W, 3) RGB image on 0..255.
        **kwargs: `predict_logits`' options (scales, flip, window, dataset, ...).

    Returns:
        The (H, W) label map.

    Example:
    ```python
    labels = predict_labels(segmenter, image, scales=MS_SCALES, flip=True)
    ```
    """
    scores = predict_logits(model, image, **kwargs)
    dtype = np.uint8 if scores.shape[-1] <= 256 else np.int32
    return scores.argmax(axis=-1).astype(dtype)


def _runner(model, forward, family, dataset, window, margin, tile_size, batch_size):
    """(h, w, 3) preprocessed -> (h, w, C) log-probabilities, for one scale."""
    if family == "dilation":
        if window is not None:
            raise ValueError("window applies to DRN models; Dilation models always run "
                             "in tiles (set tile_size).")
        if tile_size is None:
            if dataset not in DILATION_CONFIGS:
                raise ValueError(
                    f"No Dilation deploy tile for dataset={dataset!r}; pass tile_size "
                    f"or a dataset of {sorted(DILATION_CONFIGS)}."
                )
            tile_size = DILATION_CONFIGS[dataset].input_size
        zoom = model_info.dilation_zoom(model)
        # interp_map works on probabilities (predict.py:89-91): zoom those, then log.
        def probabilities(batch):
            return np.exp(forward(batch))

        def run(x):
            prob = dilation_tiles(probabilities, x, tile_size, margin=LABEL_MARGIN,
                                  zoom=zoom, batch_size=batch_size)
            return np.log(np.maximum(prob, _TINY))

        return run
    if tile_size is not None:
        raise ValueError("tile_size applies to Dilation models; DRN models take window.")
    if window is None:
        return lambda x: forward(x[None])[0]
    if margin is None:
        margin = np.asarray(window) // 4
    return lambda x: sliding_window(forward, x, window, margin, batch_size=batch_size)
