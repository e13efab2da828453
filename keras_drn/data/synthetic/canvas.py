"""The canvas of a synthetic scene: a pinhole camera over a flat street, and the
primitives that draw a shape into the picture and its label map at once.

World coordinates are metres: x to the right of the camera's line, y up from the road,
z forward. Every primitive paints the same polygon into the RGB image and, with the
class id, into the label map.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from PIL import ImageDraw

# Train ids (keras_drn.meta.CITYSCAPES_CLASSES order).
ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION, TERRAIN = range(10)
SKY, PERSON, RIDER, CAR, TRUCK, BUS, TRAIN, MOTORCYCLE, BICYCLE = range(10, 19)
VOID = 255
NUM_CLASSES = 19


def clip_rgb(colour) -> tuple[int, int, int]:
    """An RGB colour (floats, any range) as three ints in [0, 255]."""
    c = np.clip(np.round(np.asarray(colour, np.float64)), 0, 255).astype(int)
    return int(c[0]), int(c[1]), int(c[2])


class Canvas:
    """An image and its label map seen through a camera with random intrinsics.

    Args:
        rng: the scene's generator (drawn from in a fixed order: focal length, camera
            height, horizon, vanishing point, far limit).
        height, width: the picture's size in pixels.
    """

    def __init__(self, rng: np.random.Generator, height: int, width: int):
        self.rng, self.h, self.w = rng, height, width
        self.image = Image.new("RGB", (width, height))
        self.label = Image.new("L", (width, height), VOID)
        self.draw_rgb = ImageDraw.Draw(self.image)
        self.draw_label = ImageDraw.Draw(self.label)
        # Camera: focal length (pixels), height above the road (m), horizon row and
        # the column of the vanishing point (the street may be seen slightly askew).
        self.f = rng.uniform(0.55, 0.85) * width
        self.cam_h = rng.uniform(1.2, 1.6)
        self.horizon = rng.uniform(0.36, 0.50) * height
        self.vp_x = rng.uniform(0.38, 0.62) * width
        # Nearest visible ground (bottom row) and a far limit.
        self.z_near = self.f * self.cam_h / (height - self.horizon)
        self.z_far = rng.uniform(90.0, 200.0)
        self.objects: list[tuple[float, callable]] = []

    # -- geometry -------------------------------------------------------------------

    def project(self, x: float, y: float, z: float) -> tuple[float, float]:
        """World (x right, y up from the road, z forward) in metres to pixel (col, row)."""
        z = max(z, 0.3)
        return (self.vp_x + self.f * x / z,
                self.horizon + self.f * (self.cam_h - y) / z)

    def scale(self, z: float) -> float:
        """Pixels per metre at depth z."""
        return self.f / max(z, 0.3)

    def fill(self, points, cls: int, colour, *, label: bool = True) -> None:
        pts = [(float(px), float(py)) for px, py in points]
        self.draw_rgb.polygon(pts, fill=clip_rgb(colour))
        if label:
            self.draw_label.polygon(pts, fill=int(cls))

    def ellipse(self, box, cls: int, colour) -> None:
        x0, y0, x1, y1 = (float(v) for v in box)
        if x1 - x0 < 0.5 or y1 - y0 < 0.5:
            return
        self.draw_rgb.ellipse((x0, y0, x1, y1), fill=clip_rgb(colour))
        self.draw_label.ellipse((x0, y0, x1, y1), fill=int(cls))

    def quad(self, x0, x1, y0, y1, z0, z1, cls, colour) -> list:
        """A vertical rectangle in the world: x from x0 to x1 and z from z0 to z1 (one
        of the two ranges may be a single value), y from y0 to y1."""
        corners = [self.project(x0, y0, z0), self.project(x1, y0, z1),
                   self.project(x1, y1, z1), self.project(x0, y1, z0)]
        self.fill(corners, cls, colour)
        return corners

    def box(self, x: float, z: float, width: float, y0: float, y1: float, cls: int,
            colour) -> None:
        """A fronto-parallel rectangle centred at x, at depth z."""
        self.quad(x - width / 2, x + width / 2, y0, y1, z, z, cls, colour)

    def jitter(self, colour, amount: float = 18.0):
        return np.asarray(colour, np.float64) + self.rng.normal(0, amount, 3)

    def queue(self, z: float, fn, *args) -> None:
        """Draws `fn(*args)` later, in the painter's order of depth `z` (far first)."""
        self.objects.append((z, lambda: fn(*args)))
