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

The scene is drawn in rooms of its own: `canvas` (the camera and the drawing
primitives), `street` (sky, ground, facades, street furniture, trees), `road_users`
(vehicles, people, the ego vehicle's bonnet) and `camera` (texture, light and sensor
effects); `scene` puts them together.
"""

from keras_drn.data.synthetic.canvas import BICYCLE
from keras_drn.data.synthetic.canvas import BUILDING
from keras_drn.data.synthetic.canvas import BUS
from keras_drn.data.synthetic.canvas import CAR
from keras_drn.data.synthetic.canvas import FENCE
from keras_drn.data.synthetic.canvas import LIGHT
from keras_drn.data.synthetic.canvas import MOTORCYCLE
from keras_drn.data.synthetic.canvas import NUM_CLASSES
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
from keras_drn.data.synthetic.scene import GENERATOR_VERSION
from keras_drn.data.synthetic.scene import render_scene

__all__ = [
    "BICYCLE", "BUILDING", "BUS", "CAR", "FENCE", "GENERATOR_VERSION", "LIGHT",
    "MOTORCYCLE", "NUM_CLASSES", "PERSON", "POLE", "RIDER", "ROAD", "SIDEWALK", "SIGN",
    "SKY", "TERRAIN", "TRAIN", "TRUCK", "VEGETATION", "VOID", "WALL", "render_scene",
]
