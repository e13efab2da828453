"""PASCAL VOC 2012 (+ SBD) and CamVid layouts on fabricated data."""

import numpy as np
from data_fixtures import make_camvid_segnet
from data_fixtures import make_voc

from keras_drn.data.datasets import segmentation_source
from keras_drn.data.pipeline import eval_dataset
from keras_drn.data.pipeline import train_dataset


def test_voc_with_sbd_builds_train_aug_and_reads_palette_and_mat_labels(tmp_path):
    labels = make_voc(tmp_path)
    train = segmentation_source("pascal_voc", "train", data_dir=str(tmp_path))
    ids = [n[:-4] for n in train.names]
    # VOC train + SBD train/val, minus VOC val (2007_000004 is in SBD val and VOC val).
    assert ids == ["2007_000001", "2007_000002", "2007_000003", "2008_000010",
                   "2008_000011"]
    assert train.labels[0].endswith("SegmentationClass/2007_000001.png")
    assert train.labels[3].endswith("cls/2008_000010.mat")
    assert "SBD" in train.description
    # Palette PNGs give class indices (not colours); .mat files their Segmentation.
    ds = train_dataset(train, global_batch=5, crop_size=(40, 48), seed=0, flip=False)
    _, batch = next(iter(ds))
    seen = {}
    for label in batch.numpy():
        for key in ("2007_000001", "2007_000002", "2007_000003", "2008_000010:sbd",
                    "2008_000011:sbd"):
            if np.array_equal(label, labels[key]):
                seen[key] = True
    assert len(seen) == 5
    val = segmentation_source("pascal_voc", "val", data_dir=str(tmp_path))
    ds, steps = eval_dataset(val, global_batch=2)
    images, batch = next(iter(ds))
    assert images.shape == (2, 512, 512, 3) and steps == 1  # padded to 512x512
    np.testing.assert_array_equal(batch.numpy()[0, :40, :48], labels["2007_000004"])
    assert (batch.numpy()[0, 40:] == 255).all()


def test_voc_without_sbd(tmp_path):
    make_voc(tmp_path, sbd=False)
    train = segmentation_source("pascal_voc", "train",
                                data_dir=str(tmp_path / "VOCdevkit"))
    assert len(train) == 3 and "SBD" not in train.description


def test_camvid_segnet_layout_remaps_to_the_reference_order(tmp_path):
    labels = make_camvid_segnet(tmp_path)
    source = segmentation_source("camvid", "val", data_dir=str(tmp_path))
    assert source.classes == 11 and len(source) == 2
    ds, _ = eval_dataset(source, global_batch=1)
    _, label = next(iter(ds))
    raw = labels[("val", "0001TP_000000.png")]
    # SegNet: 0 sky, 1 building, 2 pole, 3 road, 4 pavement, 5 tree, 6 sign, 7 fence,
    # 8 car, 9 pedestrian, 10 bicyclist, 11 unlabelled. fyu/dilation's camvid.json
    # order: building, tree, sky, car, sign, road, pedestrian, fence, pole, sidewalk,
    # bicyclist.
    expected = np.array([2, 0, 8, 5, 9, 1, 4, 7, 3, 6, 10, 255])[raw]
    np.testing.assert_array_equal(label.numpy()[0], expected)
