"""Procedural street scenes with Cityscapes' 19 classes: a data set that needs no
download.

`render_scene(seed, height, width)` draws one scene seen from a car: a road and
sidewalks in perspective, facades with windows, walls and fences, sky with clouds,
trees and hedges, grass, poles carrying signs and traffic lights, parked and moving
vehicles (cars, trucks, buses, trams), people, riders on bicycles and motorcycles, and
sometimes the ego vehicle's bonnet (void, 255). The world is laid out in metres and
projected with a pinhole camera, so sizes shrink with distance as in real street
images. The picture then gets per-class texture, sun and shade, a colour cast,
vignetting, blur and sensor noise, so that a network has to learn shape and context,
not a colour lookup.

Every scene is a pure function of (seed, height, width): the same call returns the
same arrays on every platform (numpy's PCG64 and Pillow's rasteriser are both
deterministic). Labels are Cityscapes train ids (0..18, `keras_drn.meta.CITYSCAPES_
CLASSES` order) and 255 for void; `keras_drn.meta.palette("cityscapes")` colours them.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFilter

# Train ids (keras_drn.meta.CITYSCAPES_CLASSES order).
ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION, TERRAIN = range(10)
SKY, PERSON, RIDER, CAR, TRUCK, BUS, TRAIN, MOTORCYCLE, BICYCLE = range(10, 19)
VOID = 255
NUM_CLASSES = 19

# Bumped whenever a change alters the pictures for a given seed, so that cached
# renderings and reported figures can say which generator made them.
GENERATOR_VERSION = 1

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

_VEHICLE_COLOURS = np.array([
    [200, 200, 205], [30, 30, 35], [120, 125, 130], [160, 20, 25], [20, 45, 120],
    [235, 235, 230], [60, 70, 60], [150, 140, 110], [80, 20, 30], [40, 90, 160],
], np.float64)
_FACADE_COLOURS = np.array([
    [190, 175, 150], [150, 140, 130], [170, 100, 80], [210, 200, 180], [120, 120, 125],
    [200, 180, 140], [110, 90, 80], [180, 185, 190], [225, 215, 195],
], np.float64)
_CLOTHES = np.array([
    [30, 30, 40], [200, 40, 40], [40, 60, 140], [220, 220, 210], [90, 70, 50],
    [60, 110, 60], [200, 160, 50], [120, 120, 120], [150, 60, 120],
], np.float64)


def render_scene(seed: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Renders one procedural street scene.

    Args:
        seed: any integer >= 0; the scene is a pure function of (seed, height, width).
        height: image height in pixels (at least 16).
        width: image width in pixels (at least 16).

    Returns:
        `(image, label)`: image a uint8 array of shape (height, width, 3), RGB; label a
        uint8 array of shape (height, width) with Cityscapes train ids 0..18 and 255
        for void (the ego vehicle's bonnet).
    """
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                or value < 16:
            raise ValueError(
                f"render_scene: invalid {name}={value!r}; expected an integer >= 16."
            )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"render_scene: invalid seed={seed!r}; expected an integer >= 0.")
    scene = _Scene(np.random.default_rng([int(seed), GENERATOR_VERSION]),
                   int(height), int(width))
    return scene.render()


def _clip_rgb(colour) -> tuple[int, int, int]:
    c = np.clip(np.round(np.asarray(colour, np.float64)), 0, 255).astype(int)
    return int(c[0]), int(c[1]), int(c[2])


class _Scene:
    """One scene: a pinhole camera over a straight street, drawn back to front."""

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
        # Street cross-section (m from the camera's line; left negative).
        lanes_left, lanes_right = rng.integers(1, 3), rng.integers(1, 3)
        lane = rng.uniform(2.8, 3.6)
        offset = rng.uniform(-1.2, 1.2)
        self.road = (-(lanes_left * lane) + offset - lane / 2, lanes_right * lane + offset)
        self.lane = lane
        self.sidewalk = (rng.uniform(2.0, 5.0), rng.uniform(2.0, 5.0))
        # Sun from the left or right: facades on one side lit, the other in shade.
        self.sun_side = rng.choice([-1.0, 1.0])
        self.sun = rng.uniform(0.0, 1.0)  # 0 overcast .. 1 bright sun
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
        self.draw_rgb.polygon(pts, fill=_clip_rgb(colour))
        if label:
            self.draw_label.polygon(pts, fill=int(cls))

    def ellipse(self, box, cls: int, colour) -> None:
        x0, y0, x1, y1 = (float(v) for v in box)
        if x1 - x0 < 0.5 or y1 - y0 < 0.5:
            return
        self.draw_rgb.ellipse((x0, y0, x1, y1), fill=_clip_rgb(colour))
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

    # -- scene ----------------------------------------------------------------------

    def render(self) -> tuple[np.ndarray, np.ndarray]:
        self.draw_sky()
        self.draw_backdrop()
        self.draw_ground()
        for side in (-1, 1):
            self.draw_street_side(side)
        self.place_vehicles()
        self.place_people()
        # Painter's algorithm: far objects first.
        for _, draw in sorted(self.objects, key=lambda item: -item[0]):
            draw()
        if self.rng.random() < 0.3:
            self.draw_bonnet()
        return self.finish()

    def draw_sky(self) -> None:
        rng = self.rng
        overcast = rng.random() < 0.35
        top = np.array([150, 175, 200]) if overcast else np.array([60, 120, 200])
        bottom = np.array([205, 210, 215]) if overcast else np.array([170, 200, 230])
        top, bottom = self.jitter(top, 12), self.jitter(bottom, 12)
        rows = max(int(math.ceil(self.horizon)) + 1, 1)
        for r in range(rows):
            t = r / max(rows - 1, 1)
            colour = top * (1 - t) + bottom * t
            self.draw_rgb.line([(0, r), (self.w, r)], fill=_clip_rgb(colour))
        self.draw_label.rectangle((0, 0, self.w, rows), fill=SKY)
        for _ in range(rng.integers(0, 5)):  # clouds: still sky
            cx, cy = rng.uniform(0, self.w), rng.uniform(0, self.horizon * 0.7)
            for _ in range(rng.integers(2, 5)):
                rx = rng.uniform(0.03, 0.12) * self.w
                ry = rx * rng.uniform(0.25, 0.5)
                ox, oy = rng.normal(0, rx * 0.6), rng.normal(0, ry * 0.4)
                self.ellipse((cx + ox - rx, cy + oy - ry, cx + ox + rx, cy + oy + ry),
                             SKY, self.jitter([235, 238, 240], 6))

    def draw_backdrop(self) -> None:
        """The end of the street: distant buildings and trees across the view."""
        rng, z = self.rng, self.z_far
        x = -z * 1.5
        while x < z * 1.5:
            w = rng.uniform(8, 30)
            if rng.random() < 0.3:
                self.tree_crown(x + w / 2, z, rng.uniform(6, 14), w * 0.6, far=True)
            else:
                h = rng.uniform(8, 40)
                self.box(x + w / 2, z, w, 0, h, BUILDING,
                         self.jitter(_FACADE_COLOURS[rng.integers(len(_FACADE_COLOURS))]))
            x += w

    def draw_ground(self) -> None:
        rng = self.rng
        (r0, r1), (s0, s1) = self.road, self.sidewalk
        z0, z1 = self.z_near * 0.8, self.z_far
        # Everything below the horizon that nothing else covers is terrain (verges).
        terrain = self.jitter([120, 140, 80], 15)
        self.fill([(0, self.horizon), (self.w, self.horizon), (self.w, self.h + 1),
                   (0, self.h + 1)], TERRAIN, terrain)
        walk = self.jitter([170, 160, 160], 14)
        edge = 60.0
        self.ground_strip(r0 - s0, r0, z0, z1, SIDEWALK, walk)
        self.ground_strip(r1, r1 + s1, z0, z1, SIDEWALK, self.jitter(walk, 5))
        self.ground_strip(r0 - s0 - edge, r0 - s0, z0, z1, TERRAIN,
                          self.jitter(terrain, 6))
        self.ground_strip(r1 + s1, r1 + s1 + edge, z0, z1, TERRAIN,
                          self.jitter(terrain, 6))
        asphalt = self.jitter([95, 95, 100], 12)
        self.ground_strip(r0, r1, z0, z1, ROAD, asphalt)
        # Kerbs (sidewalk) and lane markings (road, as Cityscapes labels them).
        for x in (r0, r1):
            self.ground_strip(x - 0.15, x + 0.15, z0, z1, SIDEWALK, [190, 190, 185])
        dash, gap = rng.uniform(2, 4), rng.uniform(3, 8)
        centre = (r0 + r1) / 2 + rng.uniform(-0.5, 0.5)
        for x in sorted({centre, r0 + self.lane, r1 - self.lane}):
            if not r0 + 1 < x < r1 - 1:
                continue
            z = z0 + rng.uniform(0, gap)
            while z < z1 * 0.6:
                self.ground_strip(x - 0.07, x + 0.07, z, z + dash, ROAD, [225, 225, 220])
                z += dash + gap
        if rng.random() < 0.35:  # a zebra crossing
            zc = rng.uniform(8, 25)
            x = r0
            while x < r1:
                self.ground_strip(x, x + 0.5, zc, zc + 3, ROAD, [220, 220, 215])
                x += 1.0

    def ground_strip(self, x0, x1, z0, z1, cls, colour) -> None:
        pts = [self.project(x0, 0, z0), self.project(x1, 0, z0),
               self.project(x1, 0, z1), self.project(x0, 0, z1)]
        self.fill(pts, cls, colour)

    def draw_street_side(self, side: int) -> None:
        """Facades, walls, fences, hedges and grass along one side, then the street
        furniture and trees in front of them (queued as objects)."""
        rng = self.rng
        kerb = self.road[1] if side > 0 else self.road[0]
        walk = self.sidewalk[1] if side > 0 else self.sidewalk[0]
        line = kerb + side * walk  # facade line
        lit = 1.0 + 0.25 * self.sun * (1 if side == self.sun_side else -1)
        z = self.z_near * 0.8
        segments = []
        while z < self.z_far:
            length = rng.uniform(6, 25)
            segments.append((z, min(z + length, self.z_far)))
            z += length
        # Facades nearer the camera hide those behind them: draw far to near.
        for z0, z1 in reversed(segments):
            kind = rng.choice(["building", "building", "building", "wall", "fence",
                               "hedge", "gap"], p=[0.25, 0.2, 0.15, 0.12, 0.1, 0.1, 0.08])
            if kind == "building":
                setback = rng.uniform(0, 2.0) * side
                self.facade(line + setback, z0, z1, lit)
            elif kind == "wall":
                h = rng.uniform(1.0, 3.0)
                colour = self.jitter([165, 160, 150], 20) * lit
                self.quad(line, line, 0, h, z0, z1, WALL, colour)
                if rng.random() < 0.6:  # a building behind the wall
                    self.facade(line + side * rng.uniform(3, 8), z0, z1, lit * 0.95,
                                min_height=h + 3)
            elif kind == "fence":
                self.fence(line, z0, z1, lit)
                if rng.random() < 0.7:
                    self.tree_row(line + side * rng.uniform(2, 6), z0, z1)
            elif kind == "hedge":
                h = rng.uniform(0.8, 2.2)
                self.quad(line, line, 0, h, z0, z1, VEGETATION,
                          self.jitter([60, 100, 40], 12) * lit)
                if rng.random() < 0.6:
                    self.facade(line + side * rng.uniform(4, 10), z0, z1, lit * 0.95,
                                min_height=h + 3)
            else:  # an open lot: grass up to trees
                self.tree_row(line + side * rng.uniform(3, 10), z0, z1)
        # Street furniture and trees on the sidewalk.
        z = self.z_near + rng.uniform(0, 8)
        while z < self.z_far * 0.7:
            x = kerb + side * rng.uniform(0.4, 0.9)
            roll = rng.random()
            if roll < 0.45:
                self.queue(z, self.pole, x, z)
            elif roll < 0.75:
                self.queue(z, self.tree, kerb + side * rng.uniform(0.8, walk * 0.7), z)
            elif roll < 0.85:
                # A grass verge between the kerb and the path.
                self.queue(z + 6, self.verge, kerb, side, z, z + rng.uniform(4, 12))
            z += rng.uniform(4, 15)

    def queue(self, z: float, fn, *args) -> None:
        self.objects.append((z, lambda: fn(*args)))

    def facade(self, x, z0, z1, lit, *, min_height=4.0) -> None:
        rng = self.rng
        h = rng.uniform(max(min_height, 6.0), 30.0)
        base = self.jitter(_FACADE_COLOURS[rng.integers(len(_FACADE_COLOURS))], 12) * lit
        self.quad(x, x, 0, h, z0, z1, BUILDING, base)
        # Windows in a grid, darker (glass) with lighter frames; ground-floor shop.
        floor, bay = rng.uniform(2.8, 3.6), rng.uniform(2.0, 4.0)
        glass = self.jitter([60, 70, 85], 15)
        if self.scale(z0) * 0.6 < 1.5:  # too far for windows to show
            return
        y = floor
        while y + floor * 0.7 < h:
            z = z0 + bay * 0.25
            while z + bay * 0.5 < z1:
                if self.scale(z) * 0.6 >= 1.0:
                    self.quad(x, x, y + floor * 0.2, y + floor * 0.8, z, z + bay * 0.5,
                              BUILDING, glass * rng.uniform(0.8, 1.3))
                z += bay
            y += floor
        if rng.random() < 0.5:  # shop window / door on the ground floor
            self.quad(x, x, 0.2, 2.4, z0 + 0.5, min(z1, z0 + bay * 1.5), BUILDING,
                      glass * 0.8)

    def fence(self, x, z0, z1, lit) -> None:
        rng = self.rng
        h = rng.uniform(1.0, 2.0)
        colour = self.jitter([130, 125, 115], 25) * lit
        self.quad(x, x, h - 0.12, h, z0, z1, FENCE, colour)
        self.quad(x, x, 0.1, 0.22, z0, z1, FENCE, colour)
        step = rng.uniform(0.15, 0.6)
        z = z0
        while z < z1:
            if self.scale(z) * 0.06 >= 0.4:
                self.quad(x, x, 0, h, z, z + 0.06, FENCE, colour)
            else:  # too far to resolve the bars: a semi-solid band
                self.quad(x, x, 0, h, z, min(z + step, z1), FENCE, colour * 0.9)
            z += step

    def tree_row(self, x, z0, z1) -> None:
        z = z0 + self.rng.uniform(0, 4)
        while z < z1:
            self.tree_crown(x, z, self.rng.uniform(4, 10), self.rng.uniform(3, 7))
            z += self.rng.uniform(3, 8)

    def tree_crown(self, x, z, top, spread, *, far=False) -> None:
        rng = self.rng
        green = self.jitter([70, 105, 45], 15) * (0.8 if far else 1.0)
        cx, cy = self.project(x, top - spread / 2, z)
        s = self.scale(z)
        for _ in range(rng.integers(3, 7)):
            rx = spread / 2 * s * rng.uniform(0.5, 1.0)
            ry = rx * rng.uniform(0.7, 1.1)
            ox, oy = rng.normal(0, spread * s * 0.25), rng.normal(0, spread * s * 0.2)
            self.ellipse((cx + ox - rx, cy + oy - ry, cx + ox + rx, cy + oy + ry),
                         VEGETATION, green * rng.uniform(0.8, 1.15))

    def tree(self, x, z) -> None:
        rng = self.rng
        top, spread = rng.uniform(5, 10), rng.uniform(3, 6)
        trunk = rng.uniform(0.2, 0.4)
        # Cityscapes labels trunks as vegetation.
        self.box(x, z, trunk, 0, top - spread * 0.6, VEGETATION,
                 self.jitter([85, 65, 45], 10))
        self.tree_crown(x, z, top, spread)

    def verge(self, kerb, side, z0, z1) -> None:
        self.ground_strip(kerb + side * 0.2, kerb + side * 1.5, z0, z1, TERRAIN,
                          self.jitter([110, 145, 70], 15))

    def pole(self, x, z) -> None:
        rng = self.rng
        h = rng.uniform(3.0, 8.0)
        width = rng.uniform(0.1, 0.25)
        grey = self.jitter([120, 120, 125], 20)
        self.box(x, z, width, 0, h, POLE, grey)
        roll = rng.random()
        if roll < 0.45:  # a sign: circle, triangle or rectangle; faces are signs
            size = rng.uniform(0.5, 0.9)
            y = min(h, rng.uniform(2.2, 3.5))
            colour = [[200, 30, 30], [30, 70, 170], [230, 200, 40], [240, 240, 240]][
                rng.integers(4)]
            cx, cy = self.project(x, y, z)
            r = size / 2 * self.scale(z)
            shape = rng.integers(3)
            if shape == 0:
                self.ellipse((cx - r, cy - r, cx + r, cy + r), SIGN, self.jitter(colour, 8))
                self.ellipse((cx - r * 0.7, cy - r * 0.7, cx + r * 0.7, cy + r * 0.7),
                             SIGN, [235, 235, 235])
            elif shape == 1:
                self.fill([(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)],
                          SIGN, self.jitter(colour, 8))
            else:
                self.fill([(cx - r, cy - r * 0.7), (cx + r, cy - r * 0.7),
                           (cx + r, cy + r * 0.7), (cx - r, cy + r * 0.7)], SIGN,
                          self.jitter(colour, 8))
        elif roll < 0.75:  # a traffic light: housing with three lamps
            y = max(h - 1.0, 2.5)
            housing = self.jitter([40, 40, 35], 10)
            self.box(x, z, 0.35, y, y + 1.0, LIGHT, housing)
            on = rng.integers(3)
            s = self.scale(z)
            for i, lamp in enumerate([[230, 40, 30], [240, 180, 30], [40, 220, 90]]):
                cx, cy = self.project(x, y + 0.83 - i * 0.33, z)
                r = 0.11 * s
                colour = np.asarray(lamp) * (1.0 if i == on else 0.3)
                self.ellipse((cx - r, cy - r, cx + r, cy + r), LIGHT, colour)
        elif roll < 0.9 and h > 5:  # a street lamp arm (pole)
            arm_end = x - np.sign(x) * rng.uniform(1, 2.5)
            self.quad(x, arm_end, h - 0.12, h, z, z, POLE, grey)

    # -- vehicles and people --------------------------------------------------------

    def place_vehicles(self) -> None:
        rng = self.rng
        r0, r1 = self.road
        lanes = max(int((r1 - r0) // self.lane), 1)
        for _ in range(rng.poisson(6)):
            kind = rng.choice([CAR, TRUCK, BUS, TRAIN, MOTORCYCLE, BICYCLE],
                              p=[0.62, 0.1, 0.07, 0.04, 0.08, 0.09])
            # Nearer vehicles are more often seen (they fill more of the view).
            z = min(self.z_near + 1.5 + rng.exponential(18.0), 90.0)
            if kind in (MOTORCYCLE, BICYCLE):
                x = rng.uniform(r0 + 0.6, r1 - 0.6)
            elif rng.random() < 0.4:  # parked along a kerb
                x = (r0 + 1.1) if rng.random() < 0.5 else (r1 - 1.1)
            else:
                x = r0 + (rng.integers(lanes) + 0.5) * self.lane
            self.queue(z, self.vehicle, kind, x, z)

    def vehicle(self, kind, x, z) -> None:
        if kind in (MOTORCYCLE, BICYCLE):
            self.two_wheeler(kind, x, z)
            return
        rng = self.rng
        dims = {CAR: (1.8, 4.4, 1.5), TRUCK: (2.5, 8.0, 3.4), BUS: (2.55, 12.0, 3.1),
                TRAIN: (2.6, 25.0, 3.5)}[kind]
        w, length, h = (d * rng.uniform(0.92, 1.08) for d in dims)
        if kind == CAR:
            body = self.jitter(_VEHICLE_COLOURS[rng.integers(len(_VEHICLE_COLOURS))], 10)
        elif kind == BUS:
            body = self.jitter([[200, 40, 40], [240, 200, 40], [230, 230, 230],
                                [40, 100, 180]][rng.integers(4)], 10)
        elif kind == TRAIN:
            body = self.jitter([[230, 230, 225], [200, 30, 40], [240, 200, 30]][
                rng.integers(3)], 8)
        else:
            body = self.jitter(_VEHICLE_COLOURS[rng.integers(len(_VEHICLE_COLOURS))], 15)
        x0, x1 = x - w / 2, x + w / 2
        side_x = x0 if x > 0 else x1  # the side facing the camera's line
        shade = 0.78
        clearance = 0.3 if kind != TRAIN else 0.5
        wheel = self.jitter([25, 25, 28], 4)
        # Side face first (further away than the rear face), then the rear face.
        if kind == CAR:
            self.quad(side_x, side_x, clearance, h * 0.6, z, z + length, CAR, body * shade)
            self.quad(side_x + np.sign(x) * 0.15, side_x + np.sign(x) * 0.25, h * 0.6, h,
                      z + length * 0.25, z + length * 0.8, CAR, [45, 55, 65])
            for zw in (z + 0.8, z + length - 0.8):
                cx, cy = self.project(side_x, 0.33, zw)
                s = self.scale(zw)
                self.ellipse((cx - 0.18 * s, cy - 0.33 * s, cx + 0.18 * s, cy + 0.33 * s),
                             CAR, wheel)
            self.quad(x0, x1, clearance, h * 0.6, z, z, CAR, body)
            self.quad(x0 + 0.2, x1 - 0.2, h * 0.6, h, z + 0.8, z + 0.8, CAR, body * 0.95)
            self.quad(x0 + 0.35, x1 - 0.35, h * 0.65, h * 0.95, z + 0.75, z + 0.75, CAR,
                      [50, 60, 70])
            self.box(x0 + 0.3, z - 0.01, 0.35, 0.0, 0.45, CAR, wheel)
            self.box(x1 - 0.3, z - 0.01, 0.35, 0.0, 0.45, CAR, wheel)
            for lx in (x0 + 0.25, x1 - 0.25):
                self.box(lx, z - 0.02, 0.3, 0.75, 0.9, CAR, [200, 30, 30])
            return
        self.quad(side_x, side_x, clearance, h, z, z + length, kind, body * shade)
        # Windows: a band along the side (bus, train) or the cab (truck).
        if kind in (BUS, TRAIN):
            self.quad(side_x, side_x, h * 0.5, h * 0.85, z + 0.5, z + length - 0.5, kind,
                      [45, 55, 70])
        else:
            self.quad(side_x, side_x, h * 0.55, h * 0.85, z + length - 2.0,
                      z + length - 0.3, kind, [45, 55, 70])
        for zw in np.linspace(z + 1.0, z + length - 1.0, 2 if kind != TRAIN else 4):
            cx, cy = self.project(side_x, 0.45, zw)
            s = self.scale(zw)
            self.ellipse((cx - 0.3 * s, cy - 0.45 * s, cx + 0.3 * s, cy + 0.45 * s),
                         kind, wheel)
        self.quad(x0, x1, clearance, h, z, z, kind, body)
        self.quad(x0 + 0.2, x1 - 0.2, h * 0.55, h * 0.9, z - 0.01, z - 0.01, kind,
                  [45, 55, 70])

    def two_wheeler(self, kind, x, z) -> None:
        """A bicycle or motorcycle seen from behind or the side, with its rider."""
        rng = self.rng
        s = self.scale(z)
        frame = self.jitter([40, 40, 45] if kind == MOTORCYCLE else [60, 90, 150], 20)
        wheel_r = 0.33 if kind == BICYCLE else 0.32
        length = 1.7 if kind == BICYCLE else 2.0
        # Drawn side-on in the image (simplification): two wheels and a frame.
        cx, cy = self.project(x, wheel_r, z)
        half = length / 2 * s
        for dx in (-half + wheel_r * s, half - wheel_r * s):
            r = wheel_r * s
            self.ellipse((cx + dx - r, cy - r, cx + dx + r, cy + r), kind, frame * 0.5)
            rin = r * (0.75 if kind == BICYCLE else 0.5)
            if kind == BICYCLE and rin > 1.5:  # spokes show the background: keep class
                self.ellipse((cx + dx - rin, cy - rin, cx + dx + rin, cy + rin), kind,
                             frame * 0.8)
        body_h = 0.45 if kind == BICYCLE else 0.6
        self.fill([(cx - half * 0.6, cy), (cx + half * 0.6, cy),
                   (cx + half * 0.3, cy - body_h * s), (cx - half * 0.4, cy - body_h * s)],
                  kind, frame)
        # The rider: seated, torso and head above the saddle.
        self.human(x, z, RIDER, base=0.7 if kind == BICYCLE else 0.75,
                   height=rng.uniform(1.0, 1.15), legs=False)

    def place_people(self) -> None:
        rng = self.rng
        for _ in range(rng.poisson(4)):
            side = rng.choice([-1, 1])
            kerb = self.road[1] if side > 0 else self.road[0]
            walk = self.sidewalk[1] if side > 0 else self.sidewalk[0]
            x = kerb + side * rng.uniform(0.5, walk - 0.3)
            if rng.random() < 0.12:  # crossing the road
                x = rng.uniform(*self.road)
            z = min(self.z_near + 1.0 + rng.exponential(14.0), 60.0)
            self.queue(z, self.human, x, z, PERSON)

    def human(self, x, z, cls, *, base=0.0, height=None, legs=True) -> None:
        rng = self.rng
        s = self.scale(z)
        height = rng.uniform(1.5, 1.9) if height is None else height
        shirt = self.jitter(_CLOTHES[rng.integers(len(_CLOTHES))], 15)
        trousers = self.jitter(_CLOTHES[rng.integers(len(_CLOTHES))], 15) * 0.7
        skin = self.jitter([[230, 190, 160], [180, 130, 100], [110, 75, 55]][
            rng.integers(3)], 10)
        shoulder = 0.22 * height
        if legs:
            hip = base + 0.5 * height
            stride = rng.uniform(0, 0.25)
            for dx in (-0.06 - stride / 2, 0.06 + stride / 2):
                self.fill([self.project(x + dx * 0.3 - 0.07, hip, z),
                           self.project(x + dx * 0.3 + 0.07, hip, z),
                           self.project(x + dx + 0.07, base, z),
                           self.project(x + dx - 0.07, base, z)], cls, trousers)
        else:
            hip = base
        neck = base + (0.85 * height if legs else 0.7 * height)
        self.fill([self.project(x - shoulder, neck, z), self.project(x + shoulder, neck, z),
                   self.project(x + shoulder * 0.8, hip, z),
                   self.project(x - shoulder * 0.8, hip, z)], cls, shirt)
        for dx in (-shoulder, shoulder):  # arms
            self.fill([self.project(x + dx - 0.04, neck, z),
                       self.project(x + dx + 0.04, neck, z),
                       self.project(x + dx * 1.1 + 0.04, neck - 0.6 * height * 0.45, z),
                       self.project(x + dx * 1.1 - 0.04, neck - 0.6 * height * 0.45, z)],
                      cls, shirt * 0.9)
        cx, cy = self.project(x, neck + 0.12 * height, z)
        r = 0.11 * height * s
        self.ellipse((cx - r * 0.85, cy - r, cx + r * 0.85, cy + r), cls, skin)
        if rng.random() < 0.4:  # hair or helmet
            self.ellipse((cx - r * 0.9, cy - r * 1.1, cx + r * 0.9, cy - r * 0.1), cls,
                         self.jitter([40, 30, 25], 20))

    def draw_bonnet(self) -> None:
        """The ego vehicle's bonnet at the bottom edge, void as in Cityscapes."""
        rng = self.rng
        top = self.h * rng.uniform(0.88, 0.95)
        bulge = self.h * rng.uniform(0.01, 0.04)
        pts = [(0, self.h + 1), (0, top + bulge)]
        for i in range(1, 16):
            t = i / 16
            pts.append((t * self.w, top + bulge * (2 * t - 1) ** 2))
        pts += [(self.w, top + bulge), (self.w, self.h + 1)]
        self.fill(pts, VOID, self.jitter([40, 40, 45], 15))

    # -- camera ---------------------------------------------------------------------

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        rng, h, w = self.rng, self.h, self.w
        label = np.asarray(self.label, dtype=np.uint8).copy()
        img = np.asarray(self.image, dtype=np.float32)
        # Surface texture: fine grain and low-frequency blotches, per class.
        grain = rng.standard_normal((h, w)).astype(np.float32)
        blotch = _smooth_noise(rng, h, w, cells=max(4, w // 16))
        tex = 1.0 + _GRAIN[label] * grain + _BLOTCH[label] * blotch
        img *= tex[..., None]
        # Shadows cast across the ground (not on the sky): soft-edged dark bands.
        if self.sun > 0.4:
            shadow = _smooth_noise(rng, h, w, cells=3) > rng.uniform(0.2, 0.7)
            ground = np.arange(h)[:, None] > self.horizon
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
