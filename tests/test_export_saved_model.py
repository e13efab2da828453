"""SavedModel export of DRN-D-22 and DRN-C-26: the signatures answer in a fresh process
(`tf.saved_model.load`), `saved_model_cli show --all` lists them as TensorFlow Serving
expects, and the outputs match the Keras model."""

import functools
import io
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import keras  # noqa: E402

from keras_drn.data.synthetic import render_scene  # noqa: E402
from keras_drn.export import parity  # noqa: E402
from keras_drn.export.saved_model import export_saved_model  # noqa: E402
from keras_drn.export.saved_model import read_saved_model_metadata  # noqa: E402
from keras_drn.models import build_drnseg  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = {"drn_d_22": 19, "drn_c_26": 3}  # arch -> classes


@functools.cache
def model(arch):
    # Random weights: float32 parity is exact to rounding whatever the weights. The
    # segmenters record Cityscapes (drn_d_22's 19 classes imply it; drn_c_26's 3 do
    # not, so it is given), whose statistics the exports then apply.
    keras.utils.set_random_seed(1)
    return build_drnseg(arch, MODELS[arch], dataset="cityscapes")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("saved_models")
    return {arch: export_saved_model(model(arch), str(root / arch)) for arch in MODELS}


def _png(image):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg(image):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


# Runs in a fresh interpreter: nothing of keras_drn is imported there.
FRESH = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    args = json.loads(sys.argv[1])
    data = np.load(args["inputs"], allow_pickle=False)
    out = {}
    for arch, path in args["models"].items():
        loaded = tf.saved_model.load(path)
        out[arch + "/signatures"] = np.array(sorted(loaded.signatures.keys()))
        serve = loaded.signatures["serving_default"]
        for key in ("small", "large"):
            result = serve(images=tf.constant(data[key]))
            out[f"{arch}/{key}/labels"] = result["labels"].numpy()
            out[f"{arch}/{key}/probabilities"] = result["probabilities"].numpy()
        logits = loaded.signatures["serving_logits"](images=tf.constant(data["small"]))
        out[arch + "/logits"] = logits["logits"].numpy()
        encoded = tf.constant([data["png"].tobytes(), data["jpeg"].tobytes()])
        result = loaded.signatures["serving_bytes"](image_bytes=encoded)
        out[arch + "/bytes/labels"] = result["labels"].numpy()
        try:
            mixed = tf.constant([data["png"].tobytes(), data["png_other"].tobytes()])
            loaded.signatures["serving_bytes"](image_bytes=mixed)
            out[arch + "/mixed_error"] = np.array("")
        except Exception as error:  # noqa: BLE001
            out[arch + "/mixed_error"] = np.array(str(error))
    np.savez(args["outputs"], **out)
""")


@pytest.fixture(scope="module")
def fresh_results(exported, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fresh")
    small = np.stack([render_scene(10 + i, 64, 96)[0] for i in range(2)])
    large = render_scene(12, 72, 80)[0][None]  # another size, not a multiple of 16
    inputs = {
        "small": small, "large": large,
        "png": np.frombuffer(_png(small[0]), np.uint8),
        "jpeg": np.frombuffer(_jpeg(small[1]), np.uint8),
        "png_other": np.frombuffer(_png(large[0]), np.uint8),
    }
    np.savez(workdir / "inputs.npz", **inputs)
    args = {"models": exported, "inputs": str(workdir / "inputs.npz"),
            "outputs": str(workdir / "outputs.npz")}
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""}
    proc = subprocess.run([sys.executable, "-c", FRESH, json.dumps(args)],
                          capture_output=True, text=True, env=env, cwd=str(workdir),
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(workdir / "outputs.npz") as data:
        return inputs, dict(data)


@pytest.mark.parametrize("arch", list(MODELS))
def test_fresh_process_answers_like_keras(fresh_results, arch):
    inputs, out = fresh_results
    classes = MODELS[arch]
    assert list(out[f"{arch}/signatures"]) == [
        "serving_bytes", "serving_default", "serving_logits"]
    for key in ("small", "large"):
        images = inputs[key]
        reference = np.stack(parity.keras_logits(model(arch), images, "cityscapes"))
        labels = out[f"{arch}/{key}/labels"]
        probabilities = out[f"{arch}/{key}/probabilities"]
        assert labels.dtype == np.int32 and labels.shape == images.shape[:3]
        assert probabilities.dtype == np.float32
        assert probabilities.shape == (*images.shape[:3], classes)
        np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
        assert (labels == reference.argmax(-1)).mean() >= 0.9999
        expected = tf.nn.softmax(reference).numpy()
        # Float rounding of the graph vs eager Keras on logits of magnitude ~10-20 moves
        # a near-tie's probabilities by up to ~1.1e-4 (C-26, seen once).
        np.testing.assert_allclose(probabilities, expected, atol=2e-4)
    reference = np.stack(parity.keras_logits(model(arch), inputs["small"], "cityscapes"))
    logits = out[f"{arch}/logits"]
    scale = np.abs(reference).max()
    assert np.abs(logits - reference).max() <= 1e-5 * scale + 1e-5
    # Encoded bytes: the PNG is lossless, the JPEG decodes as TensorFlow decodes it.
    labels = out[f"{arch}/bytes/labels"]
    assert labels.shape == (2, 64, 96)
    assert (labels[0] == reference[0].argmax(-1)).mean() >= 0.9999
    decoded = tf.io.decode_jpeg(inputs["jpeg"].tobytes(), channels=3).numpy()
    jpeg_reference = parity.keras_logits(model(arch), [decoded], "cityscapes")[0]
    assert (labels[1] == jpeg_reference.argmax(-1)).mean() >= 0.9999
    # Images of different sizes in one request cannot form a batch: a clear error.
    assert "must have the same height and width" in str(out[f"{arch}/mixed_error"])


def test_saved_model_cli_lists_serving_signatures(exported):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli", "show",
         "--dir", exported["drn_d_22"], "--all"],
        capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = proc.stdout
    for name in ("serving_default", "serving_bytes", "serving_logits"):
        assert f"signature_def['{name}']" in text
    default = text.split("signature_def['serving_default']")[1].split("signature_def[")[0]
    assert "inputs['images']" in default and "DT_UINT8" in default
    assert "shape: (-1, -1, -1, 3)" in default
    assert "outputs['labels']" in default and "DT_INT32" in default
    assert "outputs['probabilities']" in default and "shape: (-1, -1, -1, 19)" in default
    assert "tensorflow/serving/predict" in default
    encoded = text.split("signature_def['serving_bytes']")[1].split("signature_def[")[0]
    assert "inputs['image_bytes']" in encoded and "DT_STRING" in encoded


def test_metadata_and_overwrite(exported, tmp_path):
    meta = read_saved_model_metadata(exported["drn_c_26"])
    assert meta["classes"] == 3 and meta["head"] == "reference"
    assert meta["dataset"] == "cityscapes"
    assert set(meta["signatures"]) == {"serving_default", "serving_bytes", "serving_logits"}
    # No silent overwrite; with overwrite=True the old model is replaced whole.
    with pytest.raises(FileExistsError, match="overwrite"):
        export_saved_model(model("drn_c_26"), exported["drn_c_26"])
    target = tmp_path / "sm"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    export_saved_model(model("drn_c_26"), str(target), overwrite=True)
    assert not (target / "stale.txt").exists()
    assert (target / "saved_model.pb").exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no temp left


def test_fixed_size_model_exports_fixed_signature(tmp_path):
    fixed = build_drnseg("drn_d_22", 2, input_shape=(64, 96, 3), head="bilinear",
                         dataset="camvid", class_names=("background", "object"))
    path = export_saved_model(fixed, str(tmp_path / "fixed"))
    loaded = tf.saved_model.load(path)
    spec = loaded.signatures["serving_default"].structured_input_signature[1]["images"]
    assert spec.shape.as_list() == [None, 64, 96, 3] and spec.dtype == tf.uint8
    # The description is the segmenter's: its names, dataset, head and statistics.
    meta = read_saved_model_metadata(path)
    assert meta["class_names"] == ["background", "object"]
    assert meta["dataset"] == "camvid" and meta["head"] == "bilinear"
    assert meta["normalization"]["mean"] == list(fixed.normalization.mean)


def test_plain_models_are_refused_with_a_way_out(tmp_path):
    plain = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(2, 1,
                                                                             name="seg")])
    with pytest.raises(ValueError, match=r"expected a keras_drn.DRNImageSegmenter.*"
                                         r"Sequential.*weights='model.keras'"):
        export_saved_model(plain, str(tmp_path / "plain"))
    assert not os.listdir(tmp_path)
