"""The fact tables against independent sources: cityscapesscripts' label definition,
fyu/drn's info.json statistics, and the normalisation formula."""

import numpy as np
import pytest

import keras_drn
from keras_drn import meta


def test_cityscapes_labels_match_the_official_definition():
    labels = pytest.importorskip("cityscapesscripts.helpers.labels")
    official = {lab.id: lab for lab in labels.labels if lab.id >= 0}
    ours = {lab.id: lab for lab in meta.CITYSCAPES_LABELS}
    assert set(ours) == set(official)
    for label_id, lab in ours.items():
        ref = official[label_id]
        assert lab.name == ref.name
        assert lab.train_id == (ref.trainId if ref.trainId not in (-1, 255) else 255)
        assert lab.category == ref.category and lab.category_id == ref.categoryId
    # Train-id colours are the official label colours.
    by_train = {lab.trainId: lab.color for lab in labels.labels if 0 <= lab.trainId < 19}
    for train_id, color in by_train.items():
        assert tuple(meta.PALETTES["cityscapes"][train_id]) == color
        assert meta.CITYSCAPES_CLASSES[train_id] == labels.trainId2label[train_id].name


def test_label_id_table():
    table = meta.label_id_to_train_id_table()
    assert table[7] == 0 and table[26] == 13 and table[33] == 18
    assert table[0] == 255 and table[9] == 255 and table[255] == 255
    assert table.dtype == np.uint8 and table.shape == (256,)


def test_palette_paints_ignore():
    pal = meta.palette("camvid", ignore_color=(1, 2, 3))
    assert tuple(pal[0]) == (128, 0, 0) and tuple(pal[255]) == (1, 2, 3)
    assert len(meta.class_names("camvid")) == 11 == len(meta.PALETTES["camvid"])
    assert len(meta.class_names("pascal_voc")) == 21 == len(meta.PALETTES["pascal_voc"])


def test_preprocess_input_drn():
    x = np.array([[[[0, 128, 255]]]], dtype=np.uint8)
    # fyu/drn datasets/cityscapes/info.json, written out independently here.
    mean = [0.29010095242892997, 0.32808144844279574, 0.28696394422942517]
    std = [0.1829540508368939, 0.18656561047509476, 0.18447508988480435]
    expected = (np.array([0, 128, 255]) / 255.0 - mean) / std
    got = keras_drn.preprocess_input(x, dataset="cityscapes")
    np.testing.assert_allclose(got[0, 0, 0], expected, rtol=1e-6)
    imagenet = keras_drn.preprocess_input(x)
    np.testing.assert_allclose(
        imagenet[0, 0, 0],
        (np.array([0, 128, 255]) / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225],
        rtol=1e-6,
    )


def test_preprocess_input_dilation_and_tensors():
    import keras

    x = np.full((1, 2, 2, 3), 100, dtype=np.uint8)
    got = keras_drn.preprocess_input(x, dataset="cityscapes", model="dilation")
    # datasets/cityscapes.json mean is BGR (72.39, 82.91, 73.16): RGB = reversed.
    np.testing.assert_allclose(got[0, 0, 0], [100 - 73.16, 100 - 82.91, 100 - 72.39],
                               rtol=1e-6)
    tensor = keras_drn.preprocess_input(keras.ops.convert_to_tensor(x), "cityscapes",
                                        "dilation")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tensor), got, rtol=1e-6)


def test_preprocess_input_errors():
    with pytest.raises(ValueError, match="dataset='mapillary'"):
        keras_drn.preprocess_input(np.zeros((1, 1, 3)), dataset="mapillary")
    with pytest.raises(ValueError, match="last axis 3"):
        keras_drn.preprocess_input(np.zeros((1, 3, 4, 4)))
