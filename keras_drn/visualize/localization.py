"""Class activation maps of DRN classifiers: weakly-supervised localisation at stride 8.

The DRN paper (Sec. 5, "Localization") reads localisation straight off a classifier:
without the global average pooling, the 1x1 classifier applied at every position of
the stride-8 feature map gives a per-class response map, 28x28 for a 224x224 input
where a ResNet gives 7x7. fyu/drn builds exactly that with `DRN(out_map=True)`
(drn.py:228-229: `fc` is a 1x1 convolution). Here

    cam[y, x] = features[y, x] . W[:, c] + b[c],

so its spatial mean equals the classifier's logit for class c (pooling and `fc` are
linear): the map says where the logit comes from.

    cam, c = class_activation_map(model, image)        # (ceil(H/8), ceil(W/8)), class
    box = cam_bounding_box(cam, threshold=0.5)         # (x0, y0, x1, y1) in pixels

The box is the extent of the connected region above `threshold` x the peak that holds
the peak, scaled to pixels: a simple rule in the spirit of the paper's evaluation, not
its exact protocol. The command line is `python -m keras_drn.visualize.cam`.
"""

from __future__ import annotations

from collections import deque

import keras
import numpy as np

from keras_drn.preprocessing import preprocess_input
from keras_drn.visualize.colormap import apply_colormap
from keras_drn.visualize.colormap import blend
from keras_drn.visualize.colormap import normalize_map
from keras_drn.visualize.colormap import resize_map

FEATURE_LAYER = "avgpool"  # its input is the stride-8 map (keras_drn.models.drn)
CLASSIFIER_LAYER = "fc"


def feature_model(model) -> keras.Model:
    """image -> (stride-8 features, logits) of a keras_drn DRN classifier."""
    from keras_drn.models.segmenter import is_segmenter

    try:
        if is_segmenter(model):
            raise ValueError
        pool = model.get_layer(FEATURE_LAYER)
        fc = model.get_layer(CLASSIFIER_LAYER)
    except ValueError:
        raise ValueError(
            f"{model.name} is not a DRN classifier with a top: expected layers "
            f"{FEATURE_LAYER!r} and {CLASSIFIER_LAYER!r} (build it with "
            f"keras_drn.DRN(arch, include_top=True)). A segmenter's per-pixel logits "
            f"are its own class maps: use keras_drn.inference.predict_logits."
        ) from None
    return keras.Model(model.inputs, [pool.input, fc.output])


def class_activation_map(model, image, class_index: int | None = None, *,
                         dataset: str | None = None, preprocess: bool = True
                         ) -> tuple[np.ndarray, int]:
    """The response map of one class.

    Args:
        model: a DRN classifier (`keras_drn.DRN_C_26()` etc., include_top=True).
        image: (H, W, 3) RGB on 0..255 (normalised here unless preprocess=False).
        class_index: the class; None for the top-scoring class.
        dataset: normalisation statistics; None for the classifier's own, ImageNet's
            (a plain Keras classifier records none, and keras_drn's released
            classifiers are ImageNet's).

    Returns:
        (cam, class_index): cam is the stride-8 map, (ceil(H/8), ceil(W/8)) for
        DRN-C/D, float32 in logit units.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"Expected one (H, W, 3) RGB image, received {image.shape}.")
    x = preprocess_input(image, dataset=dataset or "imagenet") if preprocess else image
    features, logits = feature_model(model).predict_on_batch(
        np.asarray(x, np.float32)[None])
    features = keras.ops.convert_to_numpy(features)[0]
    logits = keras.ops.convert_to_numpy(logits)[0]
    classes = logits.shape[-1]
    if class_index is None:
        class_index = int(np.argmax(logits))
    if not 0 <= class_index < classes:
        raise ValueError(f"Invalid class_index={class_index}: the model has {classes} "
                         f"classes.")
    kernel, bias = model.get_layer(CLASSIFIER_LAYER).get_weights()
    cam = features.astype(np.float64) @ kernel[:, class_index] + bias[class_index]
    return cam.astype(np.float32), class_index


def cam_bounding_box(cam, threshold: float = 0.5, *, image_size=None
                     ) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1), exclusive ends: the box of the 4-connected region of cells
    above `threshold` * max that holds the maximum, in pixels of `image_size` =
    (height, width) (default: 8 pixels per cell)."""
    cam = np.asarray(cam, dtype=np.float64)
    peak = np.unravel_index(int(np.argmax(cam)), cam.shape)
    low = cam.min()
    mask = (cam - low) >= threshold * (cam[peak] - low)
    seen = np.zeros_like(mask)
    seen[peak] = True
    queue = deque([peak])
    ys, xs = [peak[0]], [peak[1]]
    while queue:
        y, x = queue.popleft()
        for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= ny < cam.shape[0] and 0 <= nx < cam.shape[1] and mask[ny, nx] \
                    and not seen[ny, nx]:
                seen[ny, nx] = True
                queue.append((ny, nx))
                ys.append(ny)
                xs.append(nx)
    height, width = image_size or (8 * cam.shape[0], 8 * cam.shape[1])
    sy, sx = height / cam.shape[0], width / cam.shape[1]
    return (int(min(xs) * sx), int(min(ys) * sy),
            min(width, int(np.ceil((max(xs) + 1) * sx))),
            min(height, int(np.ceil((max(ys) + 1) * sy))))


def cam_pictures(image, cam, *, box=None, alpha: float = 0.5
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(heat map, overlay), both (H, W, 3) uint8 at the image's size; the box (if
    any) drawn in white on the overlay."""
    image = np.asarray(image, dtype=np.uint8)
    height, width = image.shape[:2]
    heat = apply_colormap(normalize_map(resize_map(cam, (height, width))))
    over = blend(image, heat, alpha)
    if box is not None:
        x0, y0, x1, y1 = box
        x1, y1 = max(x0, x1 - 1), max(y0, y1 - 1)
        over[y0, x0:x1 + 1] = over[y1, x0:x1 + 1] = 255
        over[y0:y1 + 1, x0] = over[y0:y1 + 1, x1] = 255
    return heat, over
