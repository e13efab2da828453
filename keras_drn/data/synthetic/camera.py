"""What the camera adds to a drawn scene: per-class surface texture, cast shadows,
exposure and white balance, vignetting, blur and sensor noise, so that a network has to
learn shape and context, not a colour lookup."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PIL import ImageFilter

from keras_drn.data.synthetic.canvas import BICYCLE
from keras_drn.data.synthetic.canvas import BUILDING
from keras_drn.data.synthetic.canvas import BUS
from keras_drn.data.synthetic.canvas import CAR
from keras_drn.data.synthetic.canvas import FENCE
from keras_drn.data.synthetic.canvas import LIGHT
from keras_drn.data.synthetic.canvas import MOTORCYCLE
from keras_drn.data.synthetic.canvas import PERSON
from keras_drn.data.synthetic.canvas import POLE
from keras_drn.data.synthetic.canvas import RIDER
from keras_drn.data.synthetic.canvas import ROAD
from keras_drn.data.synthetic.canvas import SIDEWALK
from keras_drn.data.synthetic.canvas import SIGN
from keras_drn.data.synthetic.canvas import SKY
from keras_drn.data.synthetic.canvas import TERRAIN
from keras_drn.data.synthetic.canvas import TRAIN
from keras_drn.data.synthetic.canvas import TRUCK
from keras_drn.data.synthetic.canvas import VEGETATION
from keras_drn.data.synthetic.canvas import VOID
from keras_drn.data.synthetic.canvas import WALL

# How strongly each class's surface is textured (multiplicative noise amplitude, fine
# grain and blotches); indexed by train id, 255 last.
_GRAIN = np.zeros(256, np.float32)
_BLOTCH = np.zeros(256, np.float32)
for _cls, _grain, _blotch in [
    (ROAD, 0.06, 0.10), (SIDEWALK, 0.05, 0.08), (BUILDING, 0.05, 0.10),
    (WALL, 0.06, 0.10), (FENCE, 0.05, 0.05), (POLE, 0.03, 0.03), (LIGHT, 0.03, 0.02),
    (SIGN, 0.02, 0.02), (VEGETATION, 0.22, 0.25), (TERRAIN, 0.14, 0.18),
    (SKY, 0.01, 0.05), (PERSON, 0.04, 0.05), (RIDER, 0.04, 0.05), (CAR, 0.02, 0.04),
    (TRUCK, 0.03, 0.05), (BUS, 0.02, 0.04), (TRAIN, 0.02, 0.04),
    (MOTORCYCLE, 0.03, 0.03), (BICYCLE, 0.03, 0.03), (VOID, 0.02, 0.02),
]:
    _GRAIN[_cls], _BLOTCH[_cls] = _grain, _blotch


def photograph(rng: np.random.Generator, image: Image.Image, label: Image.Image, *,
               horizon: float, sun: float) -> tuple[np.ndarray, np.ndarray]:
    """The finished picture of a drawn scene.

    Args:
        rng: the scene's generator.
        image: the drawn RGB picture.
        label: its label map (mode "L").
        horizon: the horizon's row (shadows fall below it).
        sun: 0 (overcast) to 1 (bright sun); shadows above 0.4.

    Returns:
        `(image, label)` as uint8 arrays, (H, W, 3) and (H, W).
    """
    h, w = label.height, label.width
    label = np.asarray(label, dtype=np.uint8).copy()
    img = np.asarray(image, dtype=np.float32)
    # Surface texture: fine grain and low-frequency blotches, per class.
    grain = rng.standard_normal((h, w)).astype(np.float32)
    blotch = _smooth_noise(rng, h, w, cells=max(4, w // 16))
    tex = 1.0 + _GRAIN[label] * grain + _BLOTCH[label] * blotch
    img *= tex[..., None]
    # Shadows cast across the ground (not on the sky): soft-edged dark bands.
    if sun > 0.4:
        shadow = _smooth_noise(rng, h, w, cells=3) > rng.uniform(0.2, 0.7)
        ground = np.arange(h)[:, None] > horizon
        dark = np.where(shadow & ground & (label != SKY), 0.65, 1.0).astype(np.float32)
        img *= np.asarray(
            Image.fromarray((dark * 255).astype(np.uint8)).filter(
                ImageFilter.GaussianBlur(max(w / 200, 0.6))), np.float32
        )[..., None] / 255
    # Exposure, white balance, vignetting, blur, noise.
    img *= rng.uniform(0.75, 1.2) * rng.uniform(0.92, 1.08, size=3).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    img *= (1.0 - rng.uniform(0.0, 0.25) * r2 / 2)[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    radius = rng.uniform(0.3, 0.8) * max(w / 512, 0.5)
    img = np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(radius)),
                     np.float32)
    img += rng.normal(0, rng.uniform(1.0, 5.0), img.shape).astype(np.float32)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), label


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Zero-mean, unit-ish noise varying over about w / cells pixels."""
    gh = max(2, int(round(cells * h / max(w, 1))) + 1)
    grid = rng.standard_normal((gh, cells + 1)).astype(np.float32)
    img = Image.fromarray(grid, mode="F").resize((w, h), Image.BICUBIC)
    return np.asarray(img, np.float32)
