"""Sliding-window inference equals whole-image inference when the margin covers the
receptive field."""

import keras
import numpy as np
import pytest

from keras_drn.inference import predict_logits
from keras_drn.inference import sliding_window
from keras_drn.inference import window_starts
from keras_drn.inference.multiscale import model_forward
from keras_drn.layers import BilinearUpsampling
from keras_drn.layers import CropToReference
from keras_drn.models.configs import DRNConfig
from keras_drn.models.drn import drn_features

# A DRN-D with one block per level and few channels: the same builders as drn_d_22,
# small enough to run on large images in a test.
TINY = DRNConfig("D", "basic", (1, 1, 1, 1, 1, 1, 1, 1), channels=(4, 4, 8, 8, 8, 8, 8, 8))

# Its receptive-field radius in input pixels: each 3x3 convolution adds
# dilation * (input stride), the 7x7 stem 3; the x8 transposed convolution (kernel 16,
# stride 8, padding 4) makes output pixel o read feature cells i with
# o - 11 <= 8 i <= o + 4, so 11 more.
RADIUS = (
    3  # layer0: 7x7 at stride 1
    + 1  # layer1: 3x3 at stride 1
    + 1  # layer2: 3x3, stride 2, reads at stride 1
    + 2 + 4  # layer3: conv1 (stride 2) at stride 2, conv2 at stride 4
    + 4 + 8  # layer4: conv1 (stride 2) at stride 4, conv2 at stride 8
    + 16 + 16  # layer5: dilation 2 at stride 8
    + 32 + 32  # layer6: dilation 4
    + 16  # layer7: dilation 2
    + 8  # layer8: dilation 1
    + 11  # up
)


@pytest.fixture(scope="module")
def tiny_drnseg():
    keras.utils.set_random_seed(1)
    image = keras.Input((None, None, 3))
    x, _ = drn_features(image, TINY)
    x = keras.layers.Conv2D(3, 1, name="seg")(x)
    x = BilinearUpsampling(8, name="up")(x)
    x = CropToReference(name="crop")([x, image])
    model = keras.Model(image, x)
    rng = np.random.default_rng(1)
    for layer in model.layers:  # non-trivial inference statistics
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.2, n),
                               rng.normal(0, 0.2, n), rng.uniform(0.5, 1.5, n)])
    return model


def test_radius_bounds_the_measured_receptive_field(tiny_drnseg, rng):
    forward = model_forward(tiny_drnseg)
    x = rng.normal(size=(1, 360, 360, 3)).astype(np.float32)
    base = forward(x)[0]
    y = x.copy()
    y[0, 180, 180] += 10.0
    changed = np.abs(forward(y)[0] - base).max(-1) > 1e-6
    rows, cols = np.nonzero(changed)
    reach = max(np.abs(rows - 180).max(), np.abs(cols - 180).max())
    assert reach <= RADIUS
    assert reach > RADIUS - 24  # the bound is nearly tight: the margin is not padding


def test_sliding_window_equals_whole_image(tiny_drnseg, rng):
    forward = model_forward(tiny_drnseg)
    image = rng.normal(size=(472, 840, 3)).astype(np.float32)
    whole = forward(image[None])[0]
    margin = 160  # >= RADIUS (154), a multiple of the stride
    assert margin >= RADIUS
    windowed = sliding_window(forward, image, 448, margin, batch_size=2)
    np.testing.assert_allclose(windowed, whole, atol=2e-5, rtol=0)
    # The control: a margin below the receptive field leaves visible seams.
    seams = sliding_window(forward, image, 448, 16)
    assert np.abs(seams - whole).max() > 1e-3


def test_predict_logits_window_and_scale_1(tiny_drnseg, rng):
    image = rng.integers(0, 256, size=(300, 500, 3)).astype(np.uint8)
    whole = predict_logits(tiny_drnseg, image)
    windowed = predict_logits(tiny_drnseg, image, window=(336, 336), margin=160)
    np.testing.assert_allclose(windowed, whole, atol=2e-5, rtol=0)


@pytest.mark.parametrize("size,window,margin", [(100, 100, 10), (473, 448, 160),
                                                (1024, 256, 64), (999, 200, 40)])
def test_window_starts_cover_with_aligned_overlaps(size, window, margin):
    starts = window_starts(size, window, margin)
    assert starts[0] == 0 and all(s % 8 == 0 for s in starts)
    ends = [min(s + window, size) for s in starts]
    assert ends[-1] == size
    for k in range(len(starts) - 1):
        assert starts[k] < starts[k + 1]
        assert ends[k] - starts[k + 1] >= 2 * margin  # the kept parts see their context


def test_window_too_small_for_margin_is_an_error(rng):
    with pytest.raises(ValueError, match="larger than 2 \\* margin"):
        window_starts(500, 100, 48)
