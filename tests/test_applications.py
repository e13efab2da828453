"""The keras.applications-style constructors: keywords, weights paths, and errors."""

import inspect

import keras
import numpy as np
import pytest

import keras_drn
from keras_drn.models import DRN_CONFIGS

KERAS_APPLICATIONS_KEYWORDS = [
    "include_top", "weights", "input_tensor", "input_shape", "pooling", "classes",
    "classifier_activation",
]


@pytest.mark.parametrize("arch", sorted(DRN_CONFIGS))
def test_every_variant_has_a_constructor_with_the_keras_keywords(arch):
    constructor = getattr(keras_drn, arch.upper())
    params = inspect.signature(constructor).parameters
    assert list(params)[:7] == KERAS_APPLICATIONS_KEYWORDS
    assert params["include_top"].default is True
    assert params["weights"].default is None
    assert params["classes"].default == 1000
    assert params["classifier_activation"].default == "softmax"


def test_softmax_and_logits(rng):
    x = rng.standard_normal((2, 32, 32, 3)).astype("float32")
    probs = keras_drn.DRN_D_22(classes=4)
    y = np.asarray(probs(x))
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-5)
    logits = keras_drn.DRN_D_22(classes=4, classifier_activation=None)
    assert np.asarray(logits(x)).shape == (2, 4)


def test_input_tensor(rng):
    inputs = keras.Input((48, 48, 3))
    model = keras_drn.DRN_C_26(include_top=False, input_tensor=inputs)
    assert model.inputs[0] is inputs
    assert tuple(model.output.shape) == (None, 6, 6, 512)


def test_accepts_other_sizes_with_include_top(rng):
    model = keras_drn.DRN_A_18(classes=3)
    for size in (224, 97, 320):
        assert np.asarray(model(np.zeros((1, size, size, 3), "float32"))).shape == (1, 3)


def test_weights_path_roundtrip(tmp_path, rng):
    x = rng.standard_normal((1, 40, 40, 3)).astype("float32")
    source = keras_drn.DRN_D_22(classes=6)
    path = str(tmp_path / "d22.weights.h5")
    source.save_weights(path)
    loaded = keras_drn.DRN_D_22(classes=6, weights=path)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(source(x)), atol=1e-6)


def test_keras_file_roundtrip_with_custom_layers(tmp_path, rng):
    x = rng.standard_normal((1, 40, 48, 3)).astype("float32")
    seg = keras_drn.DRNSeg("drn_c_58", classes=4)
    path = str(tmp_path / "seg.keras")
    seg.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(restored(x)), np.asarray(seg(x)), atol=1e-6)
    again = keras_drn.DRNSeg("drn_c_58", classes=4, weights=path)
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(seg(x)), atol=1e-6)


def test_backbone_weights_from_a_classifier(tmp_path):
    classifier = keras_drn.DRN_D_22()
    path = str(tmp_path / "cls.weights.h5")
    classifier.save_weights(path)
    seg = keras_drn.DRNSeg("drn_d_22", classes=3, backbone_weights=path)
    for name in ("layer0_0", "layer5_1_conv2", "layer8_1"):
        for a, b in zip(seg.get_layer(name).weights, classifier.get_layer(name).weights):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_failed_load_leaves_the_model_untouched(tmp_path):
    other = keras_drn.DRN_D_38(classes=6)
    path = str(tmp_path / "d38.weights.h5")
    other.save_weights(path)
    model = keras_drn.DRN_D_22(classes=6)
    before = [np.array(w) for w in model.weights]
    with pytest.raises(ValueError, match="d38.weights.h5"):
        model.load_weights  # noqa: B018  (the attribute exists; the library wraps it)
        from keras_drn.weights import load_weights

        load_weights(model, path)
    for w, b in zip(model.weights, before):
        np.testing.assert_array_equal(np.asarray(w), b)


# ----------------------------------------------------------------------------- errors
def test_unknown_arch_names_argument_value_and_choices():
    with pytest.raises(ValueError) as err:
        keras_drn.DRNSeg("drn_e_99", classes=3)
    message = str(err.value)
    assert "arch='drn_e_99'" in message and "drn_d_22" in message and "drn_c_26" in message


def test_four_channels_is_refused():
    with pytest.raises(ValueError) as err:
        keras_drn.DRN_C_26(input_shape=(224, 224, 4))
    message = str(err.value)
    assert "input_shape=(224, 224, 4)" in message and "3 channels" in message


@pytest.mark.parametrize("shape", [(4, 4, 3), (0, 32, 3), (32, 2, 3), (224, 224)])
def test_impossible_sizes_are_refused(shape):
    with pytest.raises(ValueError, match=r"input_shape="):
        keras_drn.DRN_C_26(include_top=True, input_shape=shape)


def test_dilation_size_below_its_receptive_field():
    with pytest.raises(ValueError, match="at least"):
        keras_drn.Dilation8("camvid", input_shape=(300, 300, 3))


def test_classes_contradicting_named_weights():
    with pytest.raises(ValueError) as err:
        keras_drn.DRN_C_26(weights="imagenet", classes=10)
    assert "classes=10" in str(err.value) and "1000" in str(err.value)
    with pytest.raises(ValueError, match="classes=11"):
        keras_drn.DRNSeg("drn_d_22", classes=11, weights="cityscapes")
    with pytest.raises(ValueError, match="classes=5"):
        keras_drn.Dilation8("camvid", weights="camvid", classes=5)


def test_classes_without_top_may_differ_from_the_weights():
    # include_top=False ignores classes, as keras.applications does; nothing is checked
    # against the 1000 ImageNet classes. (No download happens: weights=None.)
    model = keras_drn.DRN_C_26(include_top=False, classes=10)
    assert model.output.shape[-1] == 512


@pytest.mark.parametrize("kwargs,argument", [
    (dict(weights="cityscape"), "weights='cityscape'"),
    (dict(pooling="min", include_top=False), "pooling='min'"),
    (dict(classes=0), "classes=0"),
    (dict(include_top="yes"), "include_top='yes'"),
])
def test_bad_keywords_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError) as err:
        keras_drn.DRN_D_22(**kwargs)
    assert argument in str(err.value)


def test_drnseg_bad_head_and_activation():
    with pytest.raises(ValueError, match="head='deconv'"):
        keras_drn.DRNSeg("drn_d_22", classes=3, head="deconv")
    with pytest.raises(ValueError, match="activation='sigmoid'"):
        keras_drn.DRNSeg("drn_d_22", classes=3, activation="sigmoid")


def test_dilation_bad_dataset_for_family():
    with pytest.raises(ValueError, match="dataset='kitti'"):
        keras_drn.Dilation8("kitti")
    with pytest.raises(ValueError, match="weights='kitti'"):
        keras_drn.Dilation8("camvid", weights="kitti")


def test_missing_weights_file():
    with pytest.raises(ValueError, match="missing.weights.h5"):
        keras_drn.DRN_D_22(weights="/nonexistent/missing.weights.h5")
