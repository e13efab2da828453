"""The road users of a synthetic scene: cars, trucks, buses and trams, bicycles and
motorcycles with their riders, people on the sidewalks and crossing, and sometimes the
ego vehicle's bonnet (void, as in Cityscapes)."""

from __future__ import annotations

import numpy as np

from keras_drn.data.synthetic.canvas import BICYCLE
from keras_drn.data.synthetic.canvas import BUS
from keras_drn.data.synthetic.canvas import CAR
from keras_drn.data.synthetic.canvas import MOTORCYCLE
from keras_drn.data.synthetic.canvas import PERSON
from keras_drn.data.synthetic.canvas import RIDER
from keras_drn.data.synthetic.canvas import TRAIN
from keras_drn.data.synthetic.canvas import TRUCK
from keras_drn.data.synthetic.canvas import VOID

_VEHICLE_COLOURS = np.array([
    [200, 200, 205], [30, 30, 35], [120, 125, 130], [160, 20, 25], [20, 45, 120],
    [235, 235, 230], [60, 70, 60], [150, 140, 110], [80, 20, 30], [40, 90, 160],
], np.float64)
_CLOTHES = np.array([
    [30, 30, 40], [200, 40, 40], [40, 60, 140], [220, 220, 210], [90, 70, 50],
    [60, 110, 60], [200, 160, 50], [120, 120, 120], [150, 60, 120],
], np.float64)


class RoadUsers:
    """The drawing methods of vehicles and people; mixed into the scene with a
    `Canvas`."""

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
