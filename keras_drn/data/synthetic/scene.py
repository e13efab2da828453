"""A whole synthetic street scene: `render_scene(seed, height, width)`."""

from __future__ import annotations

import numpy as np

from keras_drn.data.synthetic.camera import photograph
from keras_drn.data.synthetic.canvas import Canvas
from keras_drn.data.synthetic.road_users import RoadUsers
from keras_drn.data.synthetic.street import Street

# Bumped whenever a change alters the pictures for a given seed, so that cached
# renderings and reported figures can say which generator made them.
GENERATOR_VERSION = 1


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


class _Scene(Street, RoadUsers, Canvas):
    """One scene: a pinhole camera over a straight street, drawn back to front."""

    def __init__(self, rng: np.random.Generator, height: int, width: int):
        super().__init__(rng, height, width)  # the camera (Canvas)
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

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        return photograph(self.rng, self.image, self.label, horizon=self.horizon,
                          sun=self.sun)
