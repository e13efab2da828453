"""The keras-hub segmenters and backbones: saved and reloaded in a fresh process (as a
user's script reloads them), configs that rebuild the same network, the preprocessor
against an independent formula, and the feature pyramid against the PyTorch
reference's levels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_drn
from keras_drn.models import DRNBackbone
from keras_drn.models import DRNConfig
from keras_drn.models import DRNImageConverter
from keras_drn.models import DRNImageSegmenter
from keras_drn.models import DRNImageSegmenterPreprocessor
from keras_drn.models import build_drnseg
from keras_drn.models.walk import find_layer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ATOL = 1e-5
SHAPE = (1, 48, 64, 3)

# fyu/drn datasets/cityscapes/info.json and fyu/dilation datasets/camvid.json (BGR),
# typed in from the reference files rather than read from keras_drn.
CITYSCAPES_MEAN = (0.290101, 0.328081, 0.286964)
CITYSCAPES_STD = (0.182954, 0.186566, 0.184475)
CAMVID_MEAN_BGR = (110.70313206, 108.77808759, 105.41212523)


def randomize(model, seed=0):
    """Gives every BN layer non-trivial statistics and affine parameters (a reload
    that dropped them would still agree with fresh BN layers)."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        path = variable.path
        if "moving_variance" in path or path.endswith("gamma"):
            variable.assign(rng.uniform(0.5, 1.5, variable.shape).astype("float32"))
        elif "moving_mean" in path or path.endswith("beta"):
            variable.assign(rng.normal(0, 0.2, variable.shape).astype("float32"))
    return model


def scale_output(model, x, layer_name, target=10.0):
    """Scales the kernel of `layer_name` so that the outputs on `x` reach `target`
    (every layer after it is linear or positively homogeneous, biases are zero)."""
    layer = find_layer(model, layer_name)
    peak = np.abs(np.asarray(model(x))).max()
    kernel = layer.kernel
    kernel.assign(np.asarray(kernel) * (target / peak))
    return model


def run_fresh(script: str, *args, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3",
           "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, "-c", script, *args], cwd=str(cwd),
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


# The child process: only what a user's script would do.
CHILD = """
import json
import sys

import numpy as np

work = sys.argv[1]
x = np.load(work + "/x.npy")
report = {"keras_after_keras_drn": globals().get("KERAS_LOADED", True)}
for name in sys.argv[2:]:
    if name == "preset":
        import keras_hub

        model = keras_hub.models.ImageSegmenter.from_preset(work + "/preset")
        pre = model.preprocessor
        report["preset"] = {
            "class": f"{type(model).__module__}.{type(model).__name__}",
            "head": model.head, "num_classes": model.num_classes,
            "class_names": list(model.class_names), "dataset": model.dataset,
            "activation": model.activation,
            "preprocessor": type(pre).__name__ if pre is not None else None,
            "converter_dataset": pre.image_converter.dataset if pre else None,
        }
        out = model(x)
    else:
        model = keras.models.load_model(f"{work}/{name}.keras")
        report[name] = {"class": f"{type(model).__module__}.{type(model).__name__}"}
        inputs = np.load(f"{work}/{name}_x.npy") if name == "dilation" else x
        out = model(inputs)
    np.save(f"{work}/{name}_out.npy", keras.ops.convert_to_numpy(out))
with open(work + "/report.json", "w") as f:
    json.dump(report, f)
"""
IMPORTS = {
    "keras_first": "import sys\nimport keras\nimport keras_drn\n",
    "keras_drn_first": "import sys\nimport keras_drn\n"
                       "KERAS_LOADED = 'keras' in sys.modules\nimport keras\n",
}


def child_script(order: str) -> str:
    return textwrap.dedent(IMPORTS[order]) + textwrap.dedent(CHILD)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A DRNSeg D-22, a DRN-C-26 classifier and a segmenter preset (bilinear head,
    own class names, a preprocessor), saved; their outputs computed here."""
    work = tmp_path_factory.mktemp("saved")
    x = np.random.default_rng(0).normal(size=SHAPE).astype("float32")
    np.save(work / "x.npy", x)
    seg = randomize(keras_drn.DRNSeg("drn_d_22", classes=5), seed=1)
    seg = scale_output(seg, x, "seg")
    seg.save(str(work / "seg.keras"))
    clf = randomize(keras_drn.DRN_C_26(include_top=True, classes=6,
                                       classifier_activation=None,
                                       input_shape=(None, None, 3)), seed=2)
    clf.save(str(work / "classifier.keras"))
    hub = randomize(build_drnseg("drn_d_22", 3, head="bilinear", dataset="camvid",
                                 class_names=("road", "car", "sky")), seed=3)
    hub.preprocessor = DRNImageSegmenterPreprocessor(DRNImageConverter("camvid"))
    hub.save_to_preset(str(work / "preset"))
    expected = {"seg": np.asarray(seg(x)), "classifier": np.asarray(clf(x)),
                "preset": np.asarray(hub(x))}
    return work, expected


@pytest.mark.slow
@pytest.mark.parametrize("order", ["keras_first", "keras_drn_first"])
def test_fresh_process_reloads_keras_files_and_presets(saved, order):
    work, expected = saved
    run_fresh(child_script(order), str(work), "seg", "classifier", "preset", cwd=work)
    with open(work / "report.json") as f:
        report = json.load(f)
    # `import keras_drn` alone does not load Keras: registration had to wait for it.
    assert report["keras_after_keras_drn"] is (order == "keras_first")
    assert report["seg"]["class"] == "keras_drn.models.segmenter.DRNImageSegmenter"
    assert report["classifier"]["class"].endswith("Functional")
    assert report["preset"] == {
        "class": "keras_drn.models.segmenter.DRNImageSegmenter", "head": "bilinear",
        "num_classes": 3, "class_names": ["road", "car", "sky"], "dataset": "camvid",
        "activation": None, "preprocessor": "DRNImageSegmenterPreprocessor",
        "converter_dataset": "camvid",
    }
    for name, want in expected.items():
        got = np.load(work / f"{name}_out.npy")
        assert got.shape == want.shape
        assert np.abs(want).max() > 1.0  # a reload that lost the weights would show
        diff = np.abs(got - want).max()
        assert diff <= ATOL, f"{name} ({order}): max |fresh - saved| = {diff:.2e}"


def test_fresh_process_reloads_a_dilation_model(tmp_path):
    """Dilation7 (KITTI), the smallest variant, on a front end of 1/16 the width: the
    same layers, Caffe initialisers and config as the published network, without
    fc6's 400 MB."""
    from keras_drn.models import build_dilation
    from keras_drn.models.dilation import min_input_size

    size = (min_input_size() + 8, min_input_size() + 16)  # a 2x3 output
    model = build_dilation("kitti", input_shape=(*size, 3), width=1 / 16)
    x = np.random.default_rng(0).normal(0, 60, (1, *size, 3)).astype("float32")
    # Random caffe-style weights give logits of ~1e-2; scale them up so that a
    # tolerance of 1e-5 means something.
    model = scale_output(model, x, "final")
    np.save(tmp_path / "x.npy", x[:, :8, :8])
    np.save(tmp_path / "dilation_x.npy", x)
    model.save(str(tmp_path / "dilation.keras"))
    expected = np.asarray(model(x))
    del model
    run_fresh(child_script("keras_first"), str(tmp_path), "dilation", cwd=tmp_path)
    got = np.load(tmp_path / "dilation_out.npy")
    with open(tmp_path / "report.json") as f:
        report = json.load(f)
    assert report["dilation"]["class"] == (
        "keras_drn.models.segmenter.DilationImageSegmenter")
    assert got.shape == expected.shape == (1, 2, 3, 11)
    assert np.abs(expected).max() > 1.0
    assert np.abs(got - expected).max() <= ATOL


# --------------------------------------------------------------------------- configs
CONFIG_CASES = {
    "bilinear_softmax": dict(arch="drn_d_22", head="bilinear", activation="softmax"),
    "none_log_softmax": dict(arch="drn_d_22", head="none", activation="log_softmax"),
    "custom_row": dict(arch=DRNConfig("D", "basic", (1, 1, 1, 1, 1, 1, 1, 1)),
                       head="reference", activation=None),
    "width_half": dict(arch="drn_c_26", head="reference", activation=None, width=0.5),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_get_config_rebuilds_the_same_segmenter(case):
    kwargs = dict(CONFIG_CASES[case])
    arch = kwargs.pop("arch")
    seg = randomize(build_drnseg(arch, 4, **kwargs), seed=4)
    # Through JSON, as a .keras file or a preset stores it.
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(seg)))
    again = keras.saving.deserialize_keras_object(config)
    assert type(again) is DRNImageSegmenter
    assert (again.head, again.activation, again.num_classes) == (
        kwargs["head"], kwargs["activation"], 4)
    assert again.backbone.drn_config == seg.backbone.drn_config
    assert again.backbone.width == kwargs.get("width", 1.0)
    assert [(w.path, w.shape) for w in again.weights] == [
        (w.path, w.shape) for w in seg.weights]
    again.set_weights(seg.get_weights())
    x = np.random.default_rng(1).normal(size=SHAPE).astype("float32")
    out = np.asarray(seg(x))
    np.testing.assert_array_equal(np.asarray(again(x)), out)
    # What each setting means, checked on the output itself.
    if kwargs["head"] == "none":
        assert out.shape == (1, 6, 8, 4)
    else:
        assert out.shape == (1, 48, 64, 4)
    if kwargs["activation"] == "softmax":
        np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-5)
    elif kwargs["activation"] == "log_softmax":
        np.testing.assert_allclose(np.exp(out).sum(-1), 1.0, atol=1e-5)
    if case == "width_half":
        assert seg.backbone.drn_config.channels == (8, 16, 32, 64, 128, 256, 256, 256)
    if case == "custom_row":
        assert seg.arch == "drn_custom"


# ---------------------------------------------------------------------- preprocessing
def test_drn_preprocessor_matches_the_reference_normalisation():
    images = np.random.default_rng(2).integers(0, 256, (2, 20, 24, 3), dtype=np.uint8)
    pre = DRNImageSegmenterPreprocessor(DRNImageConverter("cityscapes"))
    got = keras.ops.convert_to_numpy(pre(images))
    formula = (images / 255.0 - np.array(CITYSCAPES_MEAN)) / np.array(CITYSCAPES_STD)
    np.testing.assert_allclose(got, formula, atol=1e-4)  # info.json printed to 6 digits
    library = keras_drn.preprocess_input(images, dataset="cityscapes")
    np.testing.assert_allclose(got, library, atol=ATOL)


def test_dilation_preprocessor_subtracts_the_rgb_mean():
    from keras_drn.models import DilationImageConverter
    from keras_drn.models import DilationImageSegmenterPreprocessor

    images = np.random.default_rng(3).integers(0, 256, (1, 16, 18, 3), dtype=np.uint8)
    pre = DilationImageSegmenterPreprocessor(DilationImageConverter("camvid"))
    got = keras.ops.convert_to_numpy(pre(images))
    np.testing.assert_allclose(got, images - np.array(CAMVID_MEAN_BGR[::-1]), atol=1e-4)
    library = keras_drn.preprocess_input(images, dataset="camvid", model="dilation")
    np.testing.assert_allclose(got, library, atol=ATOL)


def test_predict_on_uint8_applies_the_attached_preprocessor():
    seg = randomize(build_drnseg("drn_d_22", 5, dataset="cityscapes"), seed=5)
    seg.preprocessor = DRNImageSegmenterPreprocessor(DRNImageConverter("cityscapes"))
    images = np.random.default_rng(4).integers(0, 256, (2, 48, 64, 3), dtype=np.uint8)
    got = seg.predict(images, batch_size=2, verbose=0)
    want = np.asarray(seg(keras_drn.preprocess_input(images, dataset="cityscapes")))
    peak = np.abs(want).max()
    assert peak > 1.0
    # The converter's x * scale + offset and preprocess_input's (x * s - mean) / std
    # round differently (~1e-7), and `predict` runs a compiled graph: a random deep
    # network turns that into ~2e-6 of its logits' range.
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * peak)
    # Without the preprocessor, uint8 pixels would be read as normalised values.
    raw = np.asarray(seg(images.astype("float32")))
    assert np.abs(raw - want).max() > 1.0
    np.testing.assert_array_equal(seg.predict_labels(images, batch_size=2, verbose=0),
                                  want.argmax(-1))


# ---------------------------------------------------------------------------- pyramid
def _torch_levels(arch, size):
    """Shapes (NHWC) of each level of the PyTorch port (`keras_drn.reference`)."""
    import torch

    from keras_drn import reference

    net = reference.build(arch).eval()
    with torch.no_grad():
        levels = net.levels(torch.zeros(1, 3, *size))
    return [(1, x.shape[2], x.shape[3], x.shape[1]) for x in levels]


@pytest.mark.torch
@pytest.mark.parametrize("arch,strides", [
    ("drn_d_22", (1, 2, 4, 8, 8, 8, 8, 8)),
    ("drn_c_26", (1, 2, 4, 8, 8, 8, 8, 8)),
    ("drn_a_18", (4, 8, 8, 8)),
])
def test_pyramid_levels_have_the_reference_shapes(arch, strides, torch_reference):
    size = (45, 61)  # odd: every strided layer rounds up, as the reference's padding
    backbone = DRNBackbone(arch)
    levels = keras.Model(backbone.input, backbone.pyramid_outputs)
    out = levels(np.zeros((1, *size, 3), "float32"))
    assert list(out) == [f"level{i}" for i in range(1, len(strides) + 1)]
    got = [tuple(out[f"level{i}"].shape) for i in range(1, len(strides) + 1)]
    assert got == _torch_levels(arch, size)
    assert [g[1:3] for g in got] == [(-(-size[0] // s), -(-size[1] // s))
                                     for s in strides]
    # The backbone's own output is the last level.
    assert tuple(backbone(np.zeros((1, *size, 3), "float32")).shape) == got[-1]
