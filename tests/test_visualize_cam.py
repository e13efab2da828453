"""Class activation maps of DRN classifiers."""

import keras
import numpy as np
import pytest
from PIL import Image

from keras_drn import preprocess_input
from keras_drn.models import build_drn
from keras_drn.visualize import cam_bounding_box
from keras_drn.visualize import class_activation_map
from keras_drn.visualize.cam import main as cam_main
from keras_drn.visualize.localization import feature_model

SIZE = 96


@pytest.fixture(scope="module")
def classifier():
    keras.utils.set_random_seed(4)
    return build_drn("drn_d_22", classes=3, classifier_activation=None)


def scene(row, col, background):
    """A bright 24x24 square with its corner at (row, col) on `background`."""
    image = background.copy()
    if row is not None:
        image[row:row + 24, col:col + 24] = 250
    return image


def dim_noise(rng):
    return rng.integers(0, 60, size=(SIZE, SIZE, 3)).astype(np.uint8)


def test_cam_mean_is_the_logit(classifier, rng):
    image = rng.integers(0, 256, size=(SIZE, SIZE, 3)).astype(np.uint8)
    logits = keras.ops.convert_to_numpy(
        classifier(preprocess_input(image)[None], training=False))[0]
    for c in range(3):
        cam, index = class_activation_map(classifier, image, c)
        assert cam.shape == (SIZE // 8, SIZE // 8) and index == c
        assert cam.mean() == pytest.approx(logits[c], abs=1e-4)
    assert class_activation_map(classifier, image)[1] == int(np.argmax(logits))


def test_cam_peaks_at_the_planted_object(classifier, rng):
    # Class 1 is made to respond to a bright square: its weights are the change the
    # square makes to the features at its own cell, measured on an image where it sits
    # at the bottom left. (A random network's features also encode the position through
    # its zero padding, so we score the change of the map that the object causes.)
    extract = feature_model(classifier)

    def features(image):
        out, _ = extract.predict_on_batch(preprocess_input(image)[None])
        return keras.ops.convert_to_numpy(out)[0]

    noise = dim_noise(rng)
    cell = (9, 2)  # the square's centre, (76, 20), in stride-8 cells
    empty = scene(None, None, noise)
    template = features(scene(64, 8, noise))[cell] - features(empty)[cell]
    fc = classifier.get_layer("fc")
    kernel, bias = fc.get_weights()
    kernel[:, 1] = template / np.linalg.norm(template)
    fc.set_weights([kernel, bias])
    # On another background with the square at the top right, the map's response to
    # the square peaks there, in the cells the square covers (a transposed or mirrored
    # map would peak elsewhere).
    noise = dim_noise(rng)
    with_object, _ = class_activation_map(classifier, scene(8, 64, noise), 1)
    without, _ = class_activation_map(classifier, scene(None, None, noise), 1)
    response = with_object - without
    peak = np.unravel_index(np.argmax(response), response.shape)
    assert peak in {(r, c) for r in (1, 2, 3) for c in (8, 9, 10)}, peak
    x0, y0, x1, y1 = cam_bounding_box(response, 0.6)
    assert x0 <= 64 + 12 <= x1 and y0 <= 8 + 12 <= y1  # the box holds the centre
    assert x0 >= 32 and y1 <= 64  # and not the bottom left, where the template came from


def test_bounding_box_of_a_known_region():
    cam = np.zeros((10, 12))
    cam[2:5, 3:7] = 1.0
    cam[8, 10] = 0.9  # above the threshold but not connected to the peak
    assert cam_bounding_box(cam, 0.5) == (24, 16, 56, 40)
    assert cam_bounding_box(cam, 0.5, image_size=(20, 24)) == (6, 4, 14, 10)


def test_cam_command_line_writes_pictures(tmp_path, rng, capsys):
    path = tmp_path / "street.png"
    Image.fromarray(scene(20, 30, dim_noise(rng))[:, :80]).save(path)
    code = cam_main([str(path), "--arch", "drn_d_22", "--weights", "none",
                     "--classes", "4", "--output", str(tmp_path / "out")])
    assert code == 0
    for name in ("street_cam.png", "street_cam_overlay.png"):
        with Image.open(tmp_path / "out" / name) as picture:
            assert picture.size == (80, SIZE) and picture.mode == "RGB"
    assert "map 12x10" in capsys.readouterr().out
