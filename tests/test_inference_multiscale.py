"""Multi-scale and flipped testing against independent computations."""

import keras
import numpy as np
import pytest
from PIL import Image

from keras_drn import preprocess_input
from keras_drn.inference import MS_SCALES
from keras_drn.inference import predict_labels
from keras_drn.inference import predict_logits
from keras_drn.models import build_drnseg


@pytest.fixture(scope="module")
def model():
    # The segmenter records Cityscapes, whose statistics `network` applies: the
    # inference reads them from the model (4 classes alone would name no dataset).
    keras.utils.set_random_seed(3)
    return build_drnseg("drn_d_22", classes=4, dataset="cityscapes")


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(3)
    smooth = np.kron(rng.integers(0, 256, size=(8, 12, 3)), np.ones((8, 8, 1)))
    return np.clip(smooth + rng.normal(0, 20, smooth.shape), 0, 255).astype(np.uint8)


def log_softmax(x):
    x = x.astype(np.float64)
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def network(model, image, dataset="cityscapes"):
    """The model's log-probabilities on a uint8 image, computed directly."""
    x = preprocess_input(image, dataset=dataset)[None]
    return log_softmax(keras.ops.convert_to_numpy(model(x, training=False))[0])


def pil_resize(array, size, method):
    """Channel by channel with PIL, as fyu/drn segment.py resize_4d_tensor."""
    height, width = size
    return np.stack([
        np.asarray(Image.fromarray(array[..., c].astype(np.float32)).resize(
            (width, height), method)) for c in range(array.shape[-1])
    ], -1)


def test_scale_one_equals_single_scale(model, image):
    single = network(model, image)
    np.testing.assert_allclose(predict_logits(model, image), single, atol=2e-5)
    # Two passes at scale 1 go through the merging and must change nothing.
    np.testing.assert_allclose(predict_logits(model, image, scales=(1.0, 1.0)), single,
                               atol=2e-5)
    np.testing.assert_array_equal(predict_labels(model, image), single.argmax(-1))


@pytest.mark.parametrize("merge", ["log_prob", "prob"])
def test_multi_scale_as_the_reference(model, image, merge):
    """segment.py test_ms: PIL BICUBIC inputs, PIL BILINEAR outputs, merged."""
    height, width = image.shape[:2]
    scales = (0.5, 1.0, 1.75)
    passes = []
    for s in scales:
        size = (int(height * s), int(width * s))
        scaled = np.asarray(Image.fromarray(image).resize(size[::-1], Image.BICUBIC))
        out = network(model, scaled)
        out = np.exp(out) if merge == "prob" else out
        passes.append(pil_resize(out, (height, width), Image.BILINEAR))
    expected = np.mean(passes, axis=0)
    if merge == "prob":
        expected = np.log(expected)
    got = predict_logits(model, image, scales=scales, merge=merge)
    assert got.shape == (height, width, 4) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=5e-5)
    # The reference sums instead of averaging: the same argmax.
    np.testing.assert_array_equal(got.argmax(-1), np.sum(passes, 0).argmax(-1))


def test_flip_is_the_mean_of_both_passes(model, image):
    expected = 0.5 * (network(model, image) + network(model, image[:, ::-1])[:, ::-1])
    np.testing.assert_allclose(predict_logits(model, image, flip=True), expected,
                               atol=2e-5)


@pytest.mark.parametrize("scales", [(1.0,), MS_SCALES])
def test_flip_averaged_prediction_is_mirror_equivariant(model, image, scales):
    mirrored = image[:, ::-1]
    direct = predict_logits(model, image, scales=scales, flip=True)
    of_mirror = predict_logits(model, mirrored, scales=scales, flip=True)
    np.testing.assert_allclose(of_mirror, direct[:, ::-1], atol=1e-4)
    # Without the flip the network itself is not mirror-symmetric: the check has teeth.
    plain = predict_logits(model, image, scales=scales)
    assert np.abs(predict_logits(model, mirrored, scales=scales) - plain[:, ::-1]).max() \
        > 1e-3


def test_bad_arguments(model, image):
    with pytest.raises(ValueError, match="one RGB image of shape \\(height, width, 3\\)"):
        predict_logits(model, image[None])
    with pytest.raises(ValueError, match="Invalid scales"):
        predict_logits(model, image, scales=(1.0, 0.0))
    with pytest.raises(ValueError, match="Invalid merge"):
        predict_logits(model, image, merge="max")
    with pytest.raises(ValueError, match="tile_size applies to Dilation models"):
        predict_logits(model, image, tile_size=500)


@pytest.mark.parametrize("head", [keras.layers.Softmax, lambda: keras.layers.Activation(
    "log_softmax")])
def test_probability_outputs_give_the_same_log_probabilities(model, image, head):
    wrapped = keras.Model(model.input, head()(model.output))
    np.testing.assert_allclose(predict_logits(wrapped, image, scales=(0.5, 1.0)),
                               predict_logits(model, image, scales=(0.5, 1.0)), atol=1e-4)


def test_the_segmenters_config_drives_normalisation_and_output(image):
    """A head="bilinear" DRNSeg that records CamVid (whose statistics are ImageNet's in
    the reference) and returns probabilities: predict_logits reads both from the
    segmenter, at a size the reference head could not map back; an explicit dataset
    still wins."""
    keras.utils.set_random_seed(5)
    model = build_drnseg("drn_d_22", classes=4, head="bilinear", dataset="camvid",
                         activation="softmax")
    odd = image[:60, :92]  # not a multiple of 8

    def log_probabilities(dataset):
        x = preprocess_input(odd, dataset=dataset)[None]
        return np.log(keras.ops.convert_to_numpy(model(x, training=False))[0])

    got = predict_logits(model, odd)
    assert got.shape == (60, 92, 4)
    np.testing.assert_allclose(got, log_probabilities("imagenet"), atol=1e-4)
    cityscapes = log_probabilities("cityscapes")
    assert np.abs(got - cityscapes).max() > 1e-3  # the statistics matter
    np.testing.assert_allclose(predict_logits(model, odd, dataset="cityscapes"),
                               cityscapes, atol=1e-4)
