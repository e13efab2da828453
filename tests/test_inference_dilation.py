"""Dilation inference against a transcription of fyu/dilation predict.py and util.py:
reflection padding of 186 pixels (BORDER_REFLECT_101), tiles, interp_map."""

import keras
import numpy as np
import pytest

from keras_drn import preprocess_input
from keras_drn.inference import interp_map
from keras_drn.inference import predict_logits
from keras_drn.inference.tiling import reflect_101
from keras_drn.layers import BilinearUpsampling
from keras_drn.models import DilationBackbone
from keras_drn.models import DilationImageSegmenter
from keras_drn.models.walk import has_layer

MARGIN = 186
TILE = 412  # 372 + 40: five stride-8 cells per tile


def border_index(p, n):
    """OpenCV borderInterpolate for BORDER_REFLECT_101."""
    while p < 0 or p >= n:
        p = -p if p < 0 else 2 * n - p - 2
    return p


def copy_make_border(image, top, bottom, left, right):
    rows = [border_index(r - top, image.shape[0])
            for r in range(image.shape[0] + top + bottom)]
    cols = [border_index(c - left, image.shape[1])
            for c in range(image.shape[1] + left + right)]
    return image[np.ix_(rows, cols)]


def util_interp_map(prob, zoom, width, height):
    """fyu/dilation util.py interp_map, loops as written (channels first)."""
    out = np.zeros((prob.shape[0], height, width), dtype=np.float32)
    for c in range(prob.shape[0]):
        for h in range(height):
            for w in range(width):
                r0, c0 = h // zoom, w // zoom
                r1, c1 = r0 + 1, c0 + 1
                rt, ct = h / zoom - r0, w / zoom - c0
                v0 = rt * prob[c, r1, c0] + (1 - rt) * prob[c, r0, c0]
                v1 = rt * prob[c, r1, c1] + (1 - rt) * prob[c, r0, c1]
                out[c, h, w] = (1 - ct) * v0 + ct * v1
    return out


def predict_py(forward_prob, image, zoom):
    """predict.py:52-101 (and test.py's crop for zoom 1), channels last."""
    output_size = TILE - 2 * MARGIN
    padded = copy_make_border(image, MARGIN, MARGIN, MARGIN, MARGIN)
    tiles_h = image.shape[0] // output_size + (1 if image.shape[0] % output_size else 0)
    tiles_w = image.shape[1] // output_size + (1 if image.shape[1] % output_size else 0)
    rows = []
    for h in range(tiles_h):
        cols = []
        for w in range(tiles_w):
            tile = padded[output_size * h:output_size * h + TILE,
                          output_size * w:output_size * w + TILE]
            tile = copy_make_border(tile, 0, TILE - tile.shape[0], 0, TILE - tile.shape[1])
            cols.append(forward_prob(tile[None])[0])
        rows.append(np.concatenate(cols, axis=1))
    prob = np.concatenate(rows, axis=0)
    if zoom > 1:
        prob = util_interp_map(prob.transpose(2, 0, 1), zoom, image.shape[1],
                               image.shape[0]).transpose(1, 2, 0)
    else:
        prob = prob[:image.shape[0], :image.shape[1]]
    return prob


def tiny_dilation(upsample):
    """Valid convolutions and ceil-mode pools losing 2 x 186 pixels at stride 8, like
    the VGG front end, with the layer names that mark a Dilation model."""
    image = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 9, activation="relu", name="conv1_1")(image)  # -8
    x = keras.layers.MaxPooling2D(2, 2, padding="same")(x)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)  # -4
    x = keras.layers.MaxPooling2D(2, 2, padding="same")(x)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)  # -8
    x = keras.layers.MaxPooling2D(2, 2, padding="same")(x)
    x = keras.layers.Conv2D(5, 3, dilation_rate=22, name="fc6")(x)  # -352
    if upsample:
        x = BilinearUpsampling(8, name="ctx_upsample")(x)
    return keras.Model(image, x)


class TinyFrontEnd(DilationBackbone):
    """A DilationBackbone with the front end's geometry (valid convolutions, ceil-mode
    pools, 186 pixels lost on each side, stride 8) but a few channels, and layer names
    that are not the VGG's: what a segmenter built on it does comes from its config."""

    def __init__(self, **kwargs):
        import keras_hub

        image = keras.Input((None, None, 3), name="image")
        x = keras.layers.Conv2D(4, 9, activation="relu", name="tiny_a")(image)
        x = keras.layers.MaxPooling2D(2, 2, padding="same", name="tiny_pa")(x)
        x = keras.layers.Conv2D(4, 3, activation="relu", name="tiny_b")(x)
        x = keras.layers.MaxPooling2D(2, 2, padding="same", name="tiny_pb")(x)
        x = keras.layers.Conv2D(4, 3, activation="relu", name="tiny_c")(x)
        x = keras.layers.MaxPooling2D(2, 2, padding="same", name="tiny_pc")(x)
        x = keras.layers.Conv2D(6, 3, dilation_rate=22, name="tiny_d")(x)
        keras_hub.models.Backbone.__init__(self, inputs=image, outputs=x, **kwargs)
        self.image_shape, self.dropout, self.pyramid_outputs = (None, None, 3), 0.0, {}


def tiny_segmenter(upsample, dataset="camvid"):
    keras.utils.set_random_seed(7)
    return DilationImageSegmenter(TinyFrontEnd(), num_classes=5, context="basic",
                                  context_layers=7, upsample=upsample, dataset=dataset)


def test_reflect_101_is_opencvs(rng):
    image = rng.normal(size=(7, 5, 2))
    for pads in [(3, 2, 1, 4), (20, 9, 13, 0), (0, 0, 0, 0)]:
        np.testing.assert_array_equal(reflect_101(image, *pads),
                                      copy_make_border(image, *pads))


def test_interp_map_is_utils(rng):
    prob = rng.random((6, 9, 3)).astype(np.float32)
    expected = util_interp_map(prob.transpose(2, 0, 1), 8, 61, 38).transpose(1, 2, 0)
    np.testing.assert_allclose(interp_map(prob, 8, 38, 61), expected, atol=1e-6)
    # Past the last source row the original reads beyond the array; we repeat it.
    edge = interp_map(prob, 8, 48, 72)
    np.testing.assert_allclose(edge[-1, 0], prob[-1, 0], atol=1e-6)


@pytest.mark.parametrize("upsample", [False, True])
def test_tiles_reflection_and_zoom_as_predict_py(rng, upsample):
    keras.utils.set_random_seed(7)
    model = tiny_dilation(upsample)
    image = rng.integers(0, 256, size=(100, 130, 3)).astype(np.uint8)  # short tiles

    def forward_prob(batch):
        logits = keras.ops.convert_to_numpy(model(batch, training=False))
        e = np.exp(logits - logits.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    expected = predict_py(forward_prob,
                          preprocess_input(image, dataset="camvid", model="dilation"),
                          zoom=1 if upsample else 8)
    got = predict_logits(model, image, dataset="camvid", tile_size=TILE, batch_size=3)
    assert got.shape == (100, 130, 5)
    np.testing.assert_allclose(np.exp(got), expected, atol=1e-5)


@pytest.mark.parametrize("upsample", [False, True])
def test_a_dilation_segmenter_says_how_to_run_it(rng, upsample):
    """No family, dataset or zoom given, and no VGG layer names to go by: the
    segmenter's family ("dilation"), dataset (CamVid's mean) and zoom (1 with the
    in-network upsampling, else 8) select the tiling of predict.py."""
    model = tiny_segmenter(upsample)
    assert not has_layer(model, "conv1_1") and not has_layer(model, "fc6")
    image = rng.integers(0, 256, size=(100, 130, 3)).astype(np.uint8)

    def forward_prob(batch):
        out = keras.ops.convert_to_numpy(model(batch, training=False))
        e = np.exp(out - out.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    expected = predict_py(forward_prob,
                          preprocess_input(image, dataset="camvid", model="dilation"),
                          zoom=1 if upsample else 8)
    got = predict_logits(model, image, tile_size=TILE, batch_size=2)
    assert got.shape == (100, 130, 5)
    np.testing.assert_allclose(np.exp(got), expected, atol=1e-5)
    # The deploy tile comes from the segmenter's dataset too.
    with pytest.raises(ValueError, match="No Dilation deploy tile for dataset='mine'"):
        predict_logits(tiny_segmenter(upsample, dataset="mine"), image)


def test_dilation_geometry_errors(rng):
    image = rng.integers(0, 256, size=(50, 60, 3)).astype(np.uint8)
    same_size = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(3, 1)])
    with pytest.raises(ValueError, match="412x412 output.*expects 5x5"):
        predict_logits(same_size, image, dataset="camvid", tile_size=TILE,
                       family="dilation")
    with pytest.raises(ValueError, match="window applies to DRN models"):
        predict_logits(tiny_dilation(False), image, dataset="camvid", window=64)
