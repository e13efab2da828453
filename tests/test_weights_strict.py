"""Weights files are matched by layer name and shape, in every format: a network that
shares a prefix of layers with another (D-24 and D-22, D-40 and D-38, C-42 and C-26,
D-56 and D-54) is refused with the first layer that differs, and the model is left as
it was; the same architecture round-trips exactly, whatever the nesting of the model
that wrote the file.

Keras' own `load_weights` addresses layers by their position among the layers of their
class, and is the thing such a file fools (shown below)."""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest
from test_weights_download import closed_port
from test_weights_download import isolate
from test_weights_writers import write_py2_legacy

import keras_drn
from keras_drn.models import DRN_CONFIGS
from keras_drn.models import DRNBackbone
from keras_drn.weights import WeightsDownloadError
from keras_drn.weights import export_state_dict
from keras_drn.weights import load_weights
from keras_drn.weights import transfer_weights

# Blocks per level, typed in from fyu/drn drn.py (the constructors at its end), so
# that the expected first difference does not come from keras_drn's table.
LEVELS = {
    "drn_c_26": ("C", "basic", (1, 1, 2, 2, 2, 2, 1, 1)),
    "drn_c_42": ("C", "basic", (1, 1, 3, 4, 6, 3, 1, 1)),
    "drn_d_22": ("D", "basic", (1, 1, 2, 2, 2, 2, 1, 1)),
    "drn_d_24": ("D", "basic", (1, 1, 2, 2, 2, 2, 2, 2)),
    "drn_d_38": ("D", "basic", (1, 1, 3, 4, 6, 3, 1, 1)),
    "drn_d_40": ("D", "basic", (1, 1, 3, 4, 6, 3, 2, 2)),
    "drn_d_54": ("D", "bottleneck", (1, 1, 3, 4, 6, 3, 1, 1)),
    "drn_d_56": ("D", "bottleneck", (1, 1, 3, 4, 6, 3, 2, 2)),
}
# (the file's architecture, the model's). D-24 / D-22 is the example and runs
# by default; the deeper twins build bigger models.
TWINS = [("drn_d_24", "drn_d_22"), ("drn_d_40", "drn_d_38"), ("drn_c_42", "drn_c_26"),
         ("drn_d_56", "drn_d_54")]
FORMATS = ["weights.h5", "keras", "pth", "pth.tar", "preset"]
CASES = [
    pytest.param(src, dst, fmt, marks=() if src == "drn_d_24" else pytest.mark.slow)
    for src, dst in TWINS for fmt in FORMATS
    # D-56's .pth files would add ~0.3 GB of writing and nothing new.
    if not (src == "drn_d_56" and fmt.startswith("pth"))
]


def first_difference(small: str, large: str) -> tuple[str, str]:
    """(Keras layer name, reference module path) of the first layer, in network
    order, that `large` has and `small` lacks: the first extra block of the first level
    whose block count differs. DRN-D's levels 1, 2, 7 and 8 are flat Sequentials of
    conv, BN, ReLU (drn.py _make_conv_layers), so their n-th conv is child 3n."""
    kind, _, a = LEVELS[small]
    _, _, b = LEVELS[large]
    level = next(i for i, (m, n) in enumerate(zip(a, b), start=1) if m != n)
    n = min(a[level - 1], b[level - 1])
    if kind == "D" and level in (1, 2, 7, 8):
        return f"layer{level}_{3 * n}", f"layer{level}.{3 * n}"
    return f"layer{level}_{n}_conv1", f"layer{level}.{n}.conv1"


def test_the_typed_in_table_is_keras_drns():
    for arch, (kind, block, layers) in LEVELS.items():
        config = DRN_CONFIGS[arch]
        assert (config.arch, config.block, config.layers) == (kind, block, layers)


# --------------------------------------------------------------------------- builders
_MODELS: dict = {}


def model(arch: str, kind: str = "features"):
    """One Keras model per (arch, kind), reused across cases (no forward passes):
    "features" is the constructors' include_top=False model (what every format's file
    is loaded into), "backbone" the `DRNBackbone` that writes the Keras files and
    presets (the same layers, as a keras-hub backbone)."""
    key = (arch, kind)
    if key not in _MODELS:
        if kind == "features":
            _MODELS[key] = keras_drn.DRN(arch, include_top=False,
                                         input_shape=(None, None, 3))
        else:
            _MODELS[key] = DRNBackbone(arch)
    return _MODELS[key]


def torch_net(arch: str):
    from keras_drn import reference as torch_reference

    kind, block, layers = LEVELS[arch]
    return torch_reference.TorchDRN(kind, torch_reference.BLOCKS[block], layers)


_FILES: dict = {}


def source_file(arch: str, fmt: str, root) -> str:
    """`arch`'s weights as a file (or preset directory) of format `fmt`."""
    key = (arch, fmt)
    if key in _FILES:
        return _FILES[key]
    path = os.path.join(str(root), f"{arch}.{fmt}")
    if fmt == "weights.h5":
        model(arch, "backbone").save_weights(path)
    elif fmt == "keras":
        model(arch, "backbone").save(path)
    elif fmt == "preset":
        model(arch, "backbone").save_to_preset(path)
    else:
        pytest.importorskip("torch")
        import torch

        state = torch_net(arch).state_dict()
        if fmt == "pth":
            torch.save(state, path)
        else:  # segment.py / classify.py's training checkpoint
            torch.save({"epoch": 3, "arch": arch, "best_prec1": 1.0,
                        "state_dict": {f"module.{k}": v for k, v in state.items()}},
                       path)
    _FILES[key] = path
    return path


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    yield tmp_path_factory.mktemp("twins")
    _FILES.clear()
    _MODELS.clear()


def snapshot(m):
    return [np.array(v) for v in m.weights]


def assert_unchanged(m, before):
    after = snapshot(m)
    assert len(after) == len(before)
    for a, b, v in zip(before, after, m.weights):
        np.testing.assert_array_equal(a, b, err_msg=v.path)


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("src,dst,fmt", CASES)
def test_a_near_twin_is_refused_with_its_first_differing_layer(src, dst, fmt, root):
    path = source_file(src, fmt, root)
    target = model(dst)
    before = snapshot(target)
    with pytest.raises(ValueError) as info:
        load_weights(target, path, arch=dst, kind="classifier")
    message = str(info.value)
    keras_name, torch_name = first_difference(dst, src)
    if fmt in ("weights.h5", "keras"):
        # The message says which layer is the first to differ: it must be that one.
        assert f"the first layer that differs is {keras_name!r}" in message, message
    elif fmt == "preset":
        assert f"the first layer that differs is {keras_name!r}" in message, message
        assert f"layers only in the source: {keras_name}," in message, message
    else:  # the reference's `fc` is skipped for include_top=False; its layers listed
        assert f"{torch_name}.weight" in message, message
    assert path in message or os.path.basename(path) in message
    assert_unchanged(target, before)


def test_a_smaller_twin_is_refused_too(root):
    """The other way round: the model has layers the file lacks."""
    path = source_file("drn_d_22", "weights.h5", root)
    target = model("drn_d_24")
    before = snapshot(target)
    with pytest.raises(ValueError) as info:
        load_weights(target, path)
    name, _ = first_difference("drn_d_22", "drn_d_24")
    assert f"the first layer that differs is {name!r}, which the file does not have" \
        in str(info.value)
    assert_unchanged(target, before)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_constructor_refuses_d24_weights_for_d22(fmt, root):
    path = source_file("drn_d_24", fmt, root)
    keras_name, torch_name = first_difference("drn_d_22", "drn_d_24")
    name = torch_name if fmt.startswith("pth") else keras_name
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        keras_drn.DRN_D_22(include_top=False, weights=path, input_shape=(None, None, 3))


def test_plain_keras_loads_d24_into_d22_silently_by_position(root):
    """The bug: Keras fills D-22's level 8 with D-24's second level-7 conv."""
    path = source_file("drn_d_24", "weights.h5", root)
    d24 = model("drn_d_24", "backbone")
    d22 = keras_drn.DRN_D_22(include_top=False, input_shape=(None, None, 3))
    d22.load_weights(path)  # no error, no warning
    np.testing.assert_array_equal(np.asarray(d22.get_layer("layer8_0").kernel),
                                  np.asarray(d24.get_layer("layer7_3").kernel))
    assert not np.array_equal(np.asarray(d22.get_layer("layer8_0").kernel),
                              np.asarray(d24.get_layer("layer8_0").kernel))
    with pytest.raises(ValueError, match="'layer7_3'"):
        keras_drn.DRN_D_22(include_top=False, weights=path, input_shape=(None, None, 3))


# ------------------------------------------------------------------------ round trips
def _randomize(m, seed):
    """Random weights everywhere (small enough to keep deep outputs finite), positive
    variances."""
    rng = np.random.default_rng(seed)
    for v in m.weights:
        if "variance" in v.path:
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
        else:
            v.assign((0.05 * rng.normal(size=v.shape)).astype("float32"))
    return m


@pytest.fixture(scope="module")
def d22():
    """A DRN-D-22 classifier with random weights (BN statistics included)."""
    return _randomize(keras_drn.DRN_D_22(classes=10, input_shape=(None, None, 3)), 7)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_architecture_round_trips_exactly(fmt, d22, tmp_path):
    path = str(tmp_path / f"drn_d_22.{fmt}")
    top = fmt != "preset"  # a preset holds a DRNBackbone: no classifier
    if fmt == "weights.h5":
        d22.save_weights(path)
    elif fmt == "keras":
        d22.save(path)
    elif fmt == "preset":
        backbone = DRNBackbone("drn_d_22")
        transfer_weights(d22, backbone, strict=False)
        backbone.save_to_preset(path)
    else:
        pytest.importorskip("torch")
        import torch

        from keras_drn import reference as torch_reference

        # Through the reference's own modules: load_state_dict checks the layout
        # independently of keras_drn's reader.
        net = torch_reference.build("drn_d_22", classes=10)
        state = export_state_dict(d22, arch="drn_d_22", kind="classifier")
        result = net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()},
                                     strict=False)
        assert not result.unexpected_keys
        assert all(k.endswith("num_batches_tracked") for k in result.missing_keys)
        saved = net.state_dict()
        if fmt == "pth.tar":
            saved = {"epoch": 1, "state_dict": {f"module.{k}": v
                                                for k, v in saved.items()}}
        torch.save(saved, path)
    loaded = keras_drn.DRN_D_22(include_top=top, classes=10, weights=path,
                                input_shape=(None, None, 3))
    _assert_by_layer_name(loaded, d22, subset=not top)


def _flat_drnseg(arch, classes, name):
    """DRNSeg as one flat functional model (no nested backbone, another name), with
    the segmenter's leaf layer names: what a user's own code or an older keras_drn
    saves."""
    from keras_drn.layers import BilinearUpsampling
    from keras_drn.layers import CropToReference
    from keras_drn.models.drn import drn_features

    inputs = keras.Input((None, None, 3), name="pixels")
    x, _ = drn_features(inputs, DRN_CONFIGS[arch])
    x = keras.layers.Conv2D(classes, 1, name="seg")(x)
    x = BilinearUpsampling(8, name="up")(x)
    x = CropToReference(name="crop")([x, inputs])
    return keras.Model(inputs, x, name=name)


def test_a_file_of_another_nesting_loads_by_name(tmp_path):
    flat = _randomize(_flat_drnseg("drn_d_22", 5, "my_street_model"), seed=8)
    path = str(tmp_path / "flat.weights.h5")
    flat.save_weights(path)
    seg = keras_drn.DRNSeg("drn_d_22", classes=5, weights=path)
    assert isinstance(seg, keras_drn.DRNImageSegmenter)
    _assert_by_layer_name(flat, seg)
    x = np.random.default_rng(0).normal(size=(1, 48, 64, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(seg(x)), np.asarray(flat(x)), rtol=0,
                               atol=1e-5 * np.abs(np.asarray(flat(x))).max())
    # And back: the nested segmenter's file into the flat model.
    seg_path = str(tmp_path / "nested.weights.h5")
    _randomize(seg, seed=9).save_weights(seg_path)
    load_weights(flat, seg_path)
    _assert_by_layer_name(seg, flat)


def _assert_by_layer_name(a, b, subset=False):
    """Every weighted layer of `a` has the weights of `b`'s layer of that name (and
    both have the same layers, unless `subset`)."""
    from keras_drn.models.walk import leaf_layers

    la = {layer.name: layer for layer in leaf_layers(a) if layer.weights}
    lb = {layer.name: layer for layer in leaf_layers(b) if layer.weights}
    assert set(la) <= set(lb) if subset else sorted(la) == sorted(lb)
    for name, layer in la.items():
        for u, v in zip(layer.weights, lb[name].weights):
            np.testing.assert_array_equal(np.asarray(u), np.asarray(v), err_msg=name)


# ------------------------------------------------------------------- names and paths
def test_a_file_called_imagenet_is_not_taken_for_the_name(monkeypatch, tmp_path):
    source = _randomize(keras_drn.DRN_D_22(input_shape=(None, None, 3)), seed=10)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    write_py2_legacy(export_state_dict(source, arch="drn_d_22", kind="classifier"),
                     cwd / "imagenet")
    monkeypatch.chdir(cwd)
    mirror = f"http://127.0.0.1:{closed_port()}"
    isolate(monkeypatch, tmp_path, mirror=mirror)
    with pytest.raises(WeightsDownloadError) as info:
        keras_drn.DRN_D_22(weights="imagenet")
    assert f"{mirror}/drn_d_22-4bd2f8ea.pth" in str(info.value)  # it tried to download
    loaded = keras_drn.DRN_D_22(weights="./imagenet", input_shape=(None, None, 3))
    _assert_by_layer_name(loaded, source)
