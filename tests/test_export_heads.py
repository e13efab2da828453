"""The export graph's pieces against independent references: a brute-force numpy
transposed convolution, the Keras layers, preprocess_input; the int8 logits range."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from keras_drn.export import heads  # noqa: E402
from keras_drn.export.logits_range import fake_quant  # noqa: E402
from keras_drn.export.logits_range import fit_logits_range  # noqa: E402
from keras_drn.export.serving import check_input_size  # noqa: E402
from keras_drn.export.serving import nearest_multiples  # noqa: E402
from keras_drn.layers.upsampling import bilinear_kernel  # noqa: E402


def brute_force_up(x, factor, out_hw):
    """PyTorch's ConvTranspose2d(C, C, k, stride=f, padding=ceil((f-1)/2), groups=C,
    bias=False) with Caffe's bilinear filler, by scattering every input pixel, then
    cropped top-left to `out_hw` (what DRNSeg's crop keeps)."""
    k = 2 * factor - factor % 2
    p = int(np.ceil((factor - 1) / 2))
    w = bilinear_kernel(k)
    h, wd, c = x.shape
    full = np.zeros(((h - 1) * factor + k, (wd - 1) * factor + k, c))
    for i in range(h):
        for j in range(wd):
            full[i * factor:i * factor + k, j * factor:j * factor + k] += (
                w[:, :, None] * x[i, j]
            )
    out = full[p:, p:]
    return out[:out_hw[0], :out_hw[1]]


@pytest.mark.parametrize("factor,shape,out_hw", [
    (8, (3, 4, 2), (24, 32)),
    (8, (3, 5, 3), (20, 37)),  # the crop of a size that is not a multiple of 8
    (8, (1, 1, 1), (8, 8)),
    (4, (2, 3, 2), (8, 12)),
    (3, (3, 2, 2), (9, 6)),  # odd factor: kernel 5, padding 1
])
def test_reference_upsample_matches_brute_force(rng, factor, shape, out_hw):
    x = rng.normal(size=shape).astype(np.float32)
    got = heads.reference_upsample(tf.constant(x[None]), *out_hw, factor=factor)
    np.testing.assert_allclose(got.numpy()[0], brute_force_up(x, factor, out_hw),
                               atol=1e-5)


def test_reference_upsample_matches_keras_layer(rng):
    from keras_drn.layers import BilinearUpsampling
    from keras_drn.layers import CropToReference

    x = rng.normal(size=(2, 9, 13, 5)).astype(np.float32)
    image = np.zeros((2, 68, 100, 3), np.float32)
    want = CropToReference()([BilinearUpsampling(8)(x), image])
    got = heads.reference_upsample(tf.constant(x), 68, 100)
    np.testing.assert_allclose(got.numpy(), np.asarray(want), atol=1e-5)


def test_bilinear_upsample_matches_keras_layer(rng):
    from keras_drn.models.segmentation import ResizeToReference

    x = rng.normal(size=(1, 8, 12, 4)).astype(np.float32)
    image = np.zeros((1, 60, 92, 3), np.float32)
    want = ResizeToReference()([x, image])
    got = heads.bilinear_upsample(tf.constant(x), 60, 92)
    np.testing.assert_allclose(got.numpy(), np.asarray(want), atol=1e-5)


def test_normalize_matches_preprocess_input(rng):
    from keras_drn import preprocess_input
    from keras_drn.preprocessing import get_normalization

    images = rng.integers(0, 256, size=(2, 5, 7, 3), dtype=np.uint8)
    for dataset in ("cityscapes", "imagenet"):
        got = heads.normalize(tf.constant(images), get_normalization(dataset)).numpy()
        np.testing.assert_allclose(got, preprocess_input(images, dataset=dataset),
                                   atol=2e-6)


def test_check_input_size_suggests_nearest_multiples():
    assert check_input_size((512, 1024), "reference") == (512, 1024)
    pattern = r"height that is a multiple of 8.*500.*Use 496 or 504"
    with pytest.raises(ValueError, match=pattern):
        check_input_size((500, 1024), "reference")
    with pytest.raises(ValueError, match=r"width.*1020.*1016 or 1024.*bilinear"):
        check_input_size((512, 1020), "reference")
    # The bilinear and "none" heads take any size of at least 8.
    assert check_input_size((500, 1020), "bilinear") == (500, 1020)
    assert check_input_size((9, 9), "none") == (9, 9)
    with pytest.raises(ValueError, match="at least 8"):
        check_input_size((4, 64), "bilinear")
    with pytest.raises(ValueError, match="HEIGHT|height, width"):
        check_input_size("512", "reference")
    assert nearest_multiples(3) == (8, 8)
    assert nearest_multiples(17) == (16, 24)


def test_fake_quant_is_int8_rounding_within_range():
    x = tf.constant(np.linspace(-20, 40, 1001, dtype=np.float32))
    y = fake_quant(x, -10.0, 30.0).numpy()
    step = 40.0 / 255
    # Saturated to the range, nudged by less than a step so that zero is a level.
    assert -10 - step < y.min() and y.max() < 30 + step
    levels = np.unique(y)
    assert len(levels) <= 256
    assert np.abs(np.diff(levels) - step).max() < 1e-4  # evenly spaced, 256 levels
    assert np.min(np.abs(levels)) < 1e-6  # zero is exact


def test_fit_logits_range_keeps_more_decisions_than_minmax(rng):
    """Two close classes compete in most pixels while a few pixels hold huge logits:
    the min/max range wastes its levels on those, the fitted range does not."""
    logits = []
    for _ in range(3):
        x = rng.normal(size=(6, 8, 4)).astype(np.float32)
        x[..., 1] = x[..., 0] + rng.normal(scale=0.05, size=(6, 8))  # near ties
        x[0, 0, 2] = 400.0  # one very confident pixel stretches min/max
        x[0, 1, 3] = -400.0
        logits.append(x)
    fitted = fit_logits_range(
        logits, lambda y: heads.reference_upsample(y, 48, 64)
    )
    assert fitted.agreement > fitted.minmax_agreement
    assert fitted.agreement > 0.9
    assert fitted.high - fitted.low < 800 / 4
    assert fitted.low <= 0 <= fitted.high
