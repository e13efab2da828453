"""The tensorflow-datasets `cityscapes` path, on tiny fabricated Cityscapes zips."""

import numpy as np
import pytest
import tensorflow as tf
from data_fixtures import make_cityscapes_zips

from keras_drn.data.pipeline import eval_dataset
from keras_drn.data.pipeline import train_dataset
from keras_drn.data.sources import DataError

pytest.importorskip("tensorflow_datasets")


def _official_train_ids():
    from cityscapesscripts.helpers.labels import id2label

    table = np.full(256, 255, np.uint8)
    for label_id, label in id2label.items():
        if label_id >= 0:
            table[label_id] = label.trainId
    return table


def test_tfds_cityscapes_from_manual_zips(tmp_path):
    from keras_drn.data.cityscapes import cityscapes_tfds_source

    content = make_cityscapes_zips(tmp_path / "manual", tmp_path / "work")
    source = cityscapes_tfds_source("val", manual_dir=str(tmp_path / "manual"),
                                    data_dir=str(tmp_path / "tfds"))
    assert len(source) == 1
    ds, steps = eval_dataset(source, global_batch=1)
    image, label = next(iter(ds))
    raw_image, raw_label = content["val"][0]
    np.testing.assert_array_equal(label.numpy()[0], _official_train_ids()[raw_label])
    assert image.shape == (1, 1024, 2048, 3) and steps == 1
    # Training crops come out of the same data, label ids mapped.
    train = cityscapes_tfds_source("train", manual_dir=str(tmp_path / "manual"),
                                   data_dir=str(tmp_path / "tfds"))
    assert len(train) == 2
    ds = train_dataset(train, global_batch=2, crop_size=64, seed=0)
    images, labels = next(iter(ds))
    assert images.shape == (2, 64, 64, 3) and labels.dtype == tf.uint8
    allowed = set(_official_train_ids().tolist())
    assert set(np.unique(labels.numpy()).tolist()) <= allowed


def test_tfds_without_zips_explains(tmp_path):
    from keras_drn.data.cityscapes import cityscapes_tfds_source

    expected = "(?s)leftImg8bit_trainvaltest.zip.*cityscapes-dataset"
    with pytest.raises(DataError, match=expected):
        cityscapes_tfds_source("train", manual_dir=str(tmp_path),
                               data_dir=str(tmp_path / "tfds"))
