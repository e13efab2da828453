"""Layers against brute-force numpy definitions."""

import keras
import numpy as np
import pytest

from keras_drn.layers import BilinearUpsampling
from keras_drn.layers import UnusedProjection
from keras_drn.layers import bilinear_kernel
from keras_drn.models import build_drn
from keras_drn.models.dilation import CaffeIdentity
from keras_drn.models.dilation import context_module


def transposed_conv_numpy(x, kernels, stride, pad):
    """Grouped (one kernel per channel) transposed convolution by its definition:
    every input pixel scatters kernel * value, then `pad` rows/cols are cut per side."""
    n, h, w, c = x.shape
    k = kernels.shape[0]
    full = np.zeros((n, (h - 1) * stride + k, (w - 1) * stride + k, c))
    for i in range(h):
        for j in range(w):
            full[:, i * stride:i * stride + k, j * stride:j * stride + k, :] += (
                x[:, i, j, None, None, :] * kernels[None]
            )
    return full[:, pad:pad + stride * h, pad:pad + stride * w, :]


def test_bilinear_kernel_matches_caffe_filler():
    # caffe filler.hpp BilinearFiller for a 16x16 blob, element by element.
    k = bilinear_kernel(16)
    f = 8
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    for y in range(16):
        for x in range(16):
            assert k[y, x] == pytest.approx((1 - abs(x / f - c)) * (1 - abs(y / f - c)))


@pytest.mark.parametrize("factor", [8, 4, 3, 2])
def test_upsampling_equals_grouped_transposed_conv(factor, rng):
    layer = BilinearUpsampling(factor)
    x = rng.standard_normal((2, 5, 7, 3)).astype("float32")
    layer.build(x.shape)
    # Distinct kernels per channel, so the grouping itself is tested.
    kernels = rng.standard_normal(tuple(layer.kernel.shape)).astype("float32")
    layer.kernel.assign(kernels)
    got = np.asarray(layer(x))
    pad = int(np.ceil((factor - 1) / 2))
    expected = transposed_conv_numpy(x, kernels, factor, pad)
    assert got.shape == (2, 5 * factor, 7 * factor, 3)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_upsampling_of_a_constant_is_constant_inside():
    # The bilinear kernel's phases sum to 1: away from the borders a constant stays.
    layer = BilinearUpsampling(8)
    y = np.asarray(layer(np.full((1, 6, 6, 2), 3.0, "float32")))
    np.testing.assert_allclose(y[:, 4:-4, 4:-4], 3.0, atol=1e-6)
    assert y[0, 0, 0, 0] < 3.0  # zero padding attenuates the border, as the reference


def caffe_identity_numpy(shape, num_groups):
    """filler.hpp IdentityFiller without the noise, in Caffe's [out, in, kh, kw]."""
    out_c, in_c, kh, kw = shape
    w = np.zeros(shape)
    value = num_groups / out_c
    og, ig = out_c // num_groups, in_c // num_groups
    for i in range(num_groups):
        for j in range(i * og, (i + 1) * og):
            for k in range(i * ig, (i + 1) * ig):
                w[j, k, kh // 2, kw // 2] = value
    return w


@pytest.mark.parametrize("cin,cout,groups", [(5, 5, 5), (5, 10, 5), (10, 20, 5),
                                             (20, 5, 5)])
def test_caffe_identity_filler(cin, cout, groups):
    got = np.asarray(CaffeIdentity(groups, std=0.0)((3, 3, cin, cout)))
    expected = caffe_identity_numpy((cout, cin, 3, 3), groups).transpose(2, 3, 1, 0)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("kind", ["basic", "large"])
def test_context_module_is_identity_at_initialisation(kind, rng):
    """Paper Sec. 3: with the identity initialisation (and no noise) the module passes
    its (non-negative, post-softmax-like) input through unchanged."""
    classes = 3
    inputs = keras.Input((None, None, classes))
    import keras_drn.models.dilation as dil

    original = dil.CaffeIdentity
    try:
        dil.CaffeIdentity = lambda g, std: original(g, 0.0)
        out = context_module(inputs, classes, layers=8, kind=kind)
    finally:
        dil.CaffeIdentity = original
    model = keras.Model(inputs, out)
    x = rng.random((1, 12, 14, classes)).astype("float32")
    np.testing.assert_allclose(np.asarray(model(x)), x, rtol=1e-5, atol=1e-6)


def test_unused_projection_does_not_change_the_output(rng):
    model = build_drn("drn_c_58", include_top=False)
    x = rng.standard_normal((1, 24, 24, 3)).astype("float32")
    before = np.asarray(model(x))
    carrier = model.get_layer("layer7_0_downsample")
    assert isinstance(carrier, UnusedProjection)
    carrier.conv.kernel.assign(np.ones(carrier.conv.kernel.shape, "float32"))
    np.testing.assert_array_equal(np.asarray(model(x)), before)


def test_unused_projection_weights_survive_saving(tmp_path):
    model = build_drn("drn_c_58")
    carrier = model.get_layer("layer7_0_downsample")
    carrier.conv.kernel.assign(np.full(carrier.conv.kernel.shape, 0.25, "float32"))
    carrier.bn.moving_mean.assign(np.full((512,), 3.0, "float32"))
    model.save_weights(str(tmp_path / "c58.weights.h5"))
    model.save(str(tmp_path / "c58.keras"))
    reloaded = build_drn("drn_c_58")
    reloaded.load_weights(str(tmp_path / "c58.weights.h5"))
    restored = keras.saving.load_model(str(tmp_path / "c58.keras"))
    for other in (reloaded, restored):
        c = other.get_layer("layer7_0_downsample")
        np.testing.assert_array_equal(np.asarray(c.conv.kernel), 0.25)
        np.testing.assert_array_equal(np.asarray(c.bn.moving_mean), 3.0)
