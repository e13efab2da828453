"""The models use only keras and keras.ops: the same weights give the same outputs
under the torch and jax backends (each in a fresh process; skipped where absent)."""

import importlib.util
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import keras_drn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import keras
    import keras_drn
    from keras_drn.models import build_drn, build_drnseg
    assert keras.backend.backend() == sys.argv[1], keras.backend.backend()
    d = sys.argv[2]
    x = np.load(d + "/x.npy")
    seg = build_drnseg("drn_c_58", 5)
    seg.load_weights(d + "/seg.weights.h5")
    np.save(d + "/seg_out.npy", keras.ops.convert_to_numpy(seg(x)))
    cls = keras_drn.DRN_A_18(classes=4, weights=d + "/cls.weights.h5")
    np.save(d + "/cls_out.npy", keras.ops.convert_to_numpy(cls(x)))
    pool = keras.layers.MaxPooling2D(2, 2, padding="same")
    np.save(d + "/pool_out.npy", keras.ops.convert_to_numpy(pool(x)))
""")


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_same_outputs_on_other_backends(backend, tmp_path, rng):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    from keras_drn.models import build_drnseg

    x = rng.standard_normal((1, 37, 43, 3)).astype("float32")  # odd: crop and ceil
    np.save(tmp_path / "x.npy", x)
    seg = build_drnseg("drn_c_58", 5)
    seg.save_weights(str(tmp_path / "seg.weights.h5"))
    cls = keras_drn.DRN_A_18(classes=4)
    cls.save_weights(str(tmp_path / "cls.weights.h5"))
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=ROOT,
               CUDA_VISIBLE_DEVICES="")
    result = subprocess.run([sys.executable, "-c", SCRIPT, backend, str(tmp_path)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    # Random deep models reach logits of ~100: compare relative to the magnitude
    # (float32 sums in another order differ by ~1e-6 of it).
    for name, model in (("seg", seg), ("cls", cls)):
        expected = np.asarray(model(x))
        got = np.load(tmp_path / f"{name}_out.npy")
        np.testing.assert_allclose(got, expected, rtol=0,
                                   atol=2e-5 * np.abs(expected).max())
    # Caffe's ceil-mode pooling relies on "same" padding at the end for odd sizes.
    expected = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)), constant_values=-np.inf)
    expected = expected.reshape(1, 19, 2, 22, 2, 3).max(axis=(2, 4))
    np.testing.assert_allclose(np.load(tmp_path / "pool_out.npy"), expected)
