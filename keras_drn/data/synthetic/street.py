"""The street of a synthetic scene: sky and clouds, the buildings and trees at the end
of the street, road, sidewalks, kerbs and markings, and along each side facades with
windows, walls, fences, hedges, grass, poles with signs and traffic lights, and trees.
"""

from __future__ import annotations

import math

import numpy as np

from keras_drn.data.synthetic.canvas import BUILDING
from keras_drn.data.synthetic.canvas import FENCE
from keras_drn.data.synthetic.canvas import LIGHT
from keras_drn.data.synthetic.canvas import POLE
from keras_drn.data.synthetic.canvas import ROAD
from keras_drn.data.synthetic.canvas import SIDEWALK
from keras_drn.data.synthetic.canvas import SIGN
from keras_drn.data.synthetic.canvas import SKY
from keras_drn.data.synthetic.canvas import TERRAIN
from keras_drn.data.synthetic.canvas import VEGETATION
from keras_drn.data.synthetic.canvas import WALL
from keras_drn.data.synthetic.canvas import clip_rgb

_FACADE_COLOURS = np.array([
    [190, 175, 150], [150, 140, 130], [170, 100, 80], [210, 200, 180], [120, 120, 125],
    [200, 180, 140], [110, 90, 80], [180, 185, 190], [225, 215, 195],
], np.float64)


class Street:
    """The drawing methods of the street; mixed into the scene with a `Canvas`."""

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
            self.draw_rgb.line([(0, r), (self.w, r)], fill=clip_rgb(colour))
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
