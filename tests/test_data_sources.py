"""Cityscapes directory layout, fyu/drn list files, bad input, and the tf.data stream
(seeded shuffle, resume position, sharding across input pipelines)."""

import os

import numpy as np
import pytest
import tensorflow as tf
from data_fixtures import make_cityscapes_dir
from data_fixtures import make_list_dir
from PIL import Image

from keras_drn.data.cityscapes import cityscapes_source
from keras_drn.data.datasets import segmentation_source
from keras_drn.data.pipeline import data_error_from
from keras_drn.data.pipeline import eval_dataset
from keras_drn.data.pipeline import train_dataset
from keras_drn.data.sources import DataError
from keras_drn.meta.normalization import NORMALIZATION


def _cityscapes_train_ids():
    """The official mapping, from cityscapesscripts (independent of keras_drn.meta)."""
    from cityscapesscripts.helpers.labels import id2label

    table = np.full(256, 255, np.uint8)
    for label_id, label in id2label.items():
        if label_id >= 0:
            table[label_id] = label.trainId
    return table


def _read(path):
    return np.asarray(Image.open(path))


def _first_error(dataset):
    try:
        for _ in dataset:
            pass
    except tf.errors.OpError as error:
        return error
    raise AssertionError("the pipeline did not fail")


def test_directory_layout_maps_label_ids_to_train_ids(tmp_path):
    files = make_cityscapes_dir(tmp_path)
    source = cityscapes_source(str(tmp_path), "val")
    assert source.label_encoding == "label_ids" and len(source) == 2
    assert source.names[0].startswith("leftImg8bit/val/")
    ds, steps = eval_dataset(source, global_batch=1)
    table = _cityscapes_train_ids()
    norm = NORMALIZATION["cityscapes"]
    for (image, label), (image_path, label_path) in zip(ds, files["val"]):
        np.testing.assert_array_equal(label.numpy()[0], table[_read(label_path)])
        expected = (_read(image_path) / 255.0 - norm.mean) / norm.std
        np.testing.assert_allclose(image.numpy()[0], expected, atol=1e-5)
    assert steps == 2


def test_directory_layout_prefers_train_ids_files(tmp_path):
    make_cityscapes_dir(tmp_path, splits=(("train", 2),), train_ids=True)
    source = cityscapes_source(str(tmp_path), "train")
    assert source.label_encoding == "train_ids"
    assert source.labels[0].endswith("_gtFine_trainIds.png")


def test_list_files_with_info_json(tmp_path):
    make_list_dir(tmp_path, classes=5)
    source = segmentation_source("cityscapes", "train", data_dir=str(tmp_path), classes=5)
    assert len(source) == 4 and source.normalization.mean == (0.4, 0.5, 0.6)
    ds, _ = eval_dataset(segmentation_source("cityscapes", "val", data_dir=str(tmp_path),
                                             classes=5), global_batch=2)
    image, label = next(iter(ds))
    raw = _read(tmp_path / "labels/val/000.png")
    np.testing.assert_array_equal(label.numpy()[0], raw)
    pixel = _read(tmp_path / "images/val/000.png")[0, 0] / 255.0
    np.testing.assert_allclose(image.numpy()[0, 0, 0],
                               (pixel - [0.4, 0.5, 0.6]) / [0.2, 0.25, 0.3], atol=1e-5)


def test_missing_data_dir_says_which_layouts_and_where_cityscapes_comes_from(tmp_path):
    with pytest.raises(DataError) as info:
        segmentation_source("cityscapes", "train", data_dir=str(tmp_path / "nope"))
    message = str(info.value)
    assert str(tmp_path / "nope") in message
    assert "train_images.txt" in message and "leftImg8bit" in message
    assert "gtFine" in message and "manual-dir" in message
    assert "https://www.cityscapes-dataset.com" in message and "regist" in message
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="No Cityscapes train data"):
        segmentation_source("cityscapes", "train", data_dir=str(empty))


def test_listed_file_missing_is_named(tmp_path):
    make_list_dir(tmp_path, classes=5)
    os.remove(tmp_path / "labels/train/002.png")
    source = segmentation_source("cityscapes", "train", data_dir=str(tmp_path), classes=5)
    with pytest.raises(DataError, match=r"labels/train/002\.png.*does not exist"):
        source.check_files_exist()
    # The directory layout checks pairs when it scans.
    make_cityscapes_dir(tmp_path / "cs", splits=(("train", 2),))
    os.remove(tmp_path / "cs/gtFine/train/bonn/bonn_000001_000019_gtFine_labelIds.png")
    with pytest.raises(DataError, match="bonn_000001_000019_gtFine_labelIds.png"):
        cityscapes_source(str(tmp_path / "cs"), "train")


def test_corrupt_png_is_named(tmp_path):
    make_list_dir(tmp_path, classes=5, splits=(("val", 3),))
    with open(tmp_path / "images/val/001.png", "r+b") as f:
        f.seek(40)
        f.write(b"\x00garbage" * 8)
    source = segmentation_source("cityscapes", "val", data_dir=str(tmp_path), classes=5)
    ds, _ = eval_dataset(source, global_batch=1)
    with pytest.raises(DataError, match=r"images/val/001\.png"):
        raise data_error_from(_first_error(ds), source)


def test_label_values_outside_the_classes_are_named(tmp_path):
    make_list_dir(tmp_path, classes=5, splits=(("val", 2),))
    label = _read(tmp_path / "labels/val/001.png").copy()
    label[3, 3] = 7
    Image.fromarray(label).save(tmp_path / "labels/val/001.png")
    source = segmentation_source("cityscapes", "val", data_dir=str(tmp_path), classes=5)
    ds, _ = eval_dataset(source, global_batch=1)
    with pytest.raises(DataError) as info:
        raise data_error_from(_first_error(ds), source)
    message = str(info.value)
    assert "labels/val/001.png" in message and "7" in message
    assert "[0, 5)" in message and "255" in message


def test_image_and_label_of_different_sizes_are_named(tmp_path):
    make_list_dir(tmp_path, classes=5, splits=(("val", 1),), size=(36, 52))
    Image.fromarray(np.zeros((30, 52), np.uint8)).save(tmp_path / "labels/val/000.png")
    source = segmentation_source("cityscapes", "val", data_dir=str(tmp_path), classes=5)
    ds, _ = eval_dataset(source, global_batch=1)
    with pytest.raises(DataError) as info:
        raise data_error_from(_first_error(ds), source)
    message = str(info.value)
    assert "images/val/000.png" in message and "labels/val/000.png" in message
    assert "differ in size" in message


def _labels_of_stream(source, n, **kwargs):
    ds = train_dataset(source, crop_size=(36, 52), flip=False, **kwargs)
    out = []
    for _, labels in ds.take(n):
        out.extend(labels.numpy())
    return out


def _which(label, originals):
    return [i for i, o in enumerate(originals) if np.array_equal(label, o)]


def test_train_stream_is_a_seeded_permutation_per_pass_and_resumes(tmp_path):
    make_list_dir(tmp_path, classes=5, splits=(("train", 6),))
    source = segmentation_source("cityscapes", "train", data_dir=str(tmp_path), classes=5)
    originals = [_read(p) for p in source.labels]
    order = [_which(x, originals)[0] for x in _labels_of_stream(
        source, 6, global_batch=2, seed=3)]
    # Two passes of 6: each a permutation of all files.
    assert sorted(order[:6]) == list(range(6)) and sorted(order[6:]) == list(range(6))
    again = [_which(x, originals)[0] for x in _labels_of_stream(
        source, 6, global_batch=2, seed=3)]
    other = [_which(x, originals)[0] for x in _labels_of_stream(
        source, 6, global_batch=2, seed=4)]
    assert order == again and order != other
    # Resuming at step 4 produces what the uninterrupted stream produced there.
    resumed = [_which(x, originals)[0] for x in _labels_of_stream(
        source, 2, global_batch=2, seed=3, start_step=4)]
    assert resumed == order[8:12]


def test_input_pipelines_split_each_global_batch(tmp_path):
    make_list_dir(tmp_path, classes=5, splits=(("train", 6),))
    source = segmentation_source("cityscapes", "train", data_dir=str(tmp_path), classes=5)
    single = _labels_of_stream(source, 3, global_batch=4, seed=1)
    parts = []
    for pipeline in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2,
                                             input_pipeline_id=pipeline,
                                             num_replicas_in_sync=2)
        parts.append(_labels_of_stream(source, 3, global_batch=4, seed=1,
                                       input_context=context))
    for step in range(3):
        joined = parts[0][2 * step:2 * step + 2] + parts[1][2 * step:2 * step + 2]
        for a, b in zip(joined, single[4 * step:4 * step + 4]):
            np.testing.assert_array_equal(a, b)
