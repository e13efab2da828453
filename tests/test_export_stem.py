"""The space-to-depth lowering of full-resolution convolutions (keras_drn.export.stem)
computes the same function as the Keras layers it replaces."""

import keras
import numpy as np
import pytest

from keras_drn.export.stem import lean_features
from keras_drn.export.stem import space_to_depth_kernel
from keras_drn.models import build_drnseg
from keras_drn.models.walk import find_layer
from keras_drn.models.walk import leaf_layers


def _randomize_batch_norms(model, rng):
    for layer in leaf_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            shape = layer.moving_mean.shape
            layer.moving_mean.assign(rng.normal(size=shape) * 0.1)
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, size=shape))
            layer.gamma.assign(rng.uniform(0.5, 1.5, size=shape))
            layer.beta.assign(rng.normal(size=shape) * 0.1)


def _brute_force_conv(x, kernel, pad):
    """A numpy 'same'-padded stride-1 convolution, one tap at a time."""
    k = kernel.shape[0]
    xp = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    h, w = xp.shape[0] - k + 1, xp.shape[1] - k + 1
    out = np.zeros((h, w, kernel.shape[-1]))
    for u in range(k):
        for v in range(k):
            out += xp[u:u + h, v:v + w] @ kernel[u, v]
    return out


@pytest.mark.parametrize("k", [3, 7])
def test_space_to_depth_kernel_matches_brute_force(k):
    rng = np.random.default_rng(k)
    x = rng.normal(size=(10, 12, 3))
    kernel = rng.normal(size=(k, k, 3, 4))
    pad = (k - 1) // 2
    expected = _brute_force_conv(x, kernel, pad)
    # Space-to-depth by hand: pad, 2x2 blocks to channels, valid conv, back.
    big = space_to_depth_kernel(kernel)
    taps = big.shape[0]
    xp = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    xs = xp.reshape(xp.shape[0] // 2, 2, xp.shape[1] // 2, 2, 3).transpose(0, 2, 1, 3, 4)
    xs = xs.reshape(xs.shape[0], xs.shape[1], 12)
    h, w = xs.shape[0] - taps + 1, xs.shape[1] - taps + 1
    ys = np.zeros((h, w, 16))
    for u in range(taps):
        for v in range(taps):
            ys += xs[u:u + h, v:v + w] @ big[u, v]
    y = ys.reshape(h, w, 2, 2, 4).transpose(0, 2, 1, 3, 4).reshape(2 * h, 2 * w, 4)
    np.testing.assert_allclose(y, expected, atol=1e-9)


@pytest.mark.parametrize("arch, lowered", [
    ("drn_d_22", {"layer0_0", "layer1_0"}),
    ("drn_c_26", {"conv1", "layer1_0_conv1", "layer1_0_conv2"}),
])
def test_lean_features_equal_the_keras_layers(arch, lowered):
    rng = np.random.default_rng(0)
    model = build_drnseg(arch, 5)
    _randomize_batch_norms(model, rng)
    lean = lean_features(model, (32, 48))
    assert set(lean.lowered_layers) == lowered
    plain = keras.Model(model.input, find_layer(model, "seg").output)
    x = rng.normal(size=(1, 32, 48, 3)).astype("float32")
    a = keras.ops.convert_to_numpy(plain(x))
    b = keras.ops.convert_to_numpy(lean(x))
    assert np.abs(a - b).max() <= 1e-4 * max(1.0, np.abs(a).max())
