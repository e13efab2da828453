"""The training package's models: DRNSeg segmenters at any width, their copies with
synchronised BatchNormalization (the nested backbone included) and in float32."""

import keras
import numpy as np
import pytest

from keras_drn.models import DRNImageSegmenter
from keras_drn.models.walk import leaf_layers
from keras_drn.training.models import build_classifier
from keras_drn.training.models import build_segmenter
from keras_drn.training.models import rebuild_segmenter
from keras_drn.training.models import with_synchronized_batchnorm


def _batch_norms(model):
    return [layer for layer in leaf_layers(model)
            if isinstance(layer, keras.layers.BatchNormalization)]


def _randomize_statistics(model, rng):
    # Non-trivial moving statistics, so that copying them is checked too.
    for layer in _batch_norms(model):
        mean, var = layer.moving_mean, layer.moving_variance
        mean.assign(rng.normal(0, 0.1, mean.shape).astype("float32"))
        var.assign(rng.uniform(0.5, 2.0, var.shape).astype("float32"))


def test_build_segmenter_is_a_narrow_drn_image_segmenter():
    model = build_segmenter("drn_d_22", 5, width=0.5, dataset="camvid",
                            class_names=[f"c{i}" for i in range(5)])
    assert isinstance(model, DRNImageSegmenter)
    assert model.name == "drn_d_22_w0.5_seg" and model.backbone.width == 0.5
    assert model.arch == "drn_d_22" and model.backbone.out_channels == 256
    assert model.class_names == ("c0", "c1", "c2", "c3", "c4")
    with pytest.raises(ValueError, match="width=0.1"):
        build_segmenter("drn_d_22", 5, width=0.1)


@pytest.mark.parametrize("kind", ["segmenter", "classifier"])
def test_synchronized_copy_has_only_synchronized_bn_and_equal_outputs(kind, rng):
    if kind == "segmenter":
        model = build_segmenter("drn_d_22", 4, width=0.5)
    else:
        model = build_classifier("drn_d_22", 3, width=0.5)
    _randomize_statistics(model, rng)
    synced = with_synchronized_batchnorm(model)
    assert type(synced) is type(model) and synced.name == model.name
    plain, synchronized = _batch_norms(model), _batch_norms(synced)
    assert len(synchronized) == len(plain) > 20
    assert not any(layer.synchronized for layer in plain)
    assert all(layer.synchronized for layer in synchronized)
    x = rng.normal(size=(2, 24, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(synced(x, training=False)),
                               np.asarray(model(x, training=False)), rtol=0, atol=1e-5)


def test_float32_rebuild_of_a_mixed_precision_segmenter(rng):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = build_segmenter("drn_d_22", 3, width=0.5)
    finally:
        keras.config.set_dtype_policy(previous)
    copy = rebuild_segmenter(model, dtype="float32")
    assert keras.config.dtype_policy().name == previous.name
    assert model.backbone.compute_dtype == "bfloat16"
    assert {layer.compute_dtype for layer in leaf_layers(copy)} == {"float32"}
    for a, b in zip(model.weights, copy.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(ValueError, match="expects a keras_drn.DRNImageSegmenter"):
        rebuild_segmenter(build_classifier("drn_d_22", 3, width=0.5))


@pytest.mark.slow
def test_dilation_context_stage_freezes_the_nested_front_end():
    from keras_drn.training.config import TrainConfig
    from keras_drn.training.dilation import create_dilation_model

    model = create_dilation_model(TrainConfig(family="dilation", dataset="camvid",
                                              classes=11, dilation_stage="context"))
    trainable = {v.path.split("/")[-2] for v in model.trainable_variables}
    assert trainable == {"ctx_conv1_1", "ctx_conv1_2", "ctx_conv2_1", "ctx_conv3_1",
                         "ctx_conv4_1", "ctx_conv5_1", "ctx_fc1", "ctx_final"}
    # The backbone's convolutions (conv1_1 ... fc7) and `final` are all frozen.
    frozen = {v.path.split("/")[-2] for v in model.non_trainable_variables}
    assert {"conv1_1", "conv5_3", "fc6", "fc7", "final"} <= frozen


def test_weights_settings_errors_name_the_setting(tmp_path):
    from keras_drn.training.errors import ParameterError
    from keras_drn.training.weights import load_segmenter_weights

    model = build_segmenter("drn_d_22", 19, width=0.5)
    missing = str(tmp_path / "missing.weights.h5")
    with pytest.raises(ParameterError, match=r"Invalid pretrained=.*no such file") as info:
        load_segmenter_weights(model, missing, arch="drn_d_22", width=0.5)
    # The library names the parameter; the command lines add their flag
    # (tests/test_train_cli.py).
    assert info.value.parameters == ("pretrained",)
    assert "--pretrained" not in str(info.value)
    # A released name is resolved (not taken for a path) and refused for width 0.5
    # before anything is downloaded.
    with pytest.raises(ValueError, match="released weights are of width 1"):
        load_segmenter_weights(model, "cityscapes", arch="drn_d_22", width=0.5)
    with pytest.raises(ParameterError, match=r"Invalid resume='nothing'") as info:
        load_segmenter_weights(model, "nothing", arch="drn_d_22", width=0.5,
                               field="resume")
    assert info.value.parameters == ("resume",)
