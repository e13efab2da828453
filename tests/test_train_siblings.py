"""The sibling command lines on tiny fabricated data: CamVid, PASCAL VOC (DRNSeg and
the Dilation front end), ImageNet classification."""

import json

import numpy as np
import tensorflow as tf
from data_fixtures import make_camvid_segnet
from data_fixtures import make_voc
from PIL import Image

TINY = ["--arch", "drn_d_22", "--width", "0.5", "--strategy", "default",
        "--batch-size", "2", "--epochs", "1", "--steps-per-epoch", "2", "--lr", "0.01"]


def _segmentation_main(argv, dataset, dilation=False):
    """keras-drn-camvid / keras-drn-pascal-voc, in this process."""
    from keras_drn.cli import train

    return {"camvid": train.camvid, "pascal_voc": train.pascal_voc}[dataset](argv)


def test_camvid_train_and_test(tmp_path, capsys):
    make_camvid_segnet(tmp_path / "camvid")
    out = tmp_path / "run"
    assert _segmentation_main(["train", "-d", str(tmp_path / "camvid"), "-s", "32",
                               *TINY, "--output-dir", str(out)], "camvid") == 0
    text = capsys.readouterr().out
    assert "bicyclist" in text or "cyclist" in text  # CamVid's 11-class table
    assert _segmentation_main(["test", "-d", str(tmp_path / "camvid"), "--phase", "test",
                               "--with-gt", "--resume", str(out), *TINY,
                               "--output-dir", str(out)], "camvid") == 0
    pred = np.asarray(Image.open(out / "drn_d_22_001_test/test/0001TP_000000.png"))
    assert pred.shape == (36, 48) and pred.max() < 11


def test_pascal_voc_drn(tmp_path):
    make_voc(tmp_path / "voc")
    out = tmp_path / "run"
    assert _segmentation_main(["train", "-d", str(tmp_path / "voc"), "-s", "32", *TINY,
                               "--output-dir", str(out)], "pascal_voc", True) == 0
    assert (out / "final.weights.h5").is_file() and (out / "prediction.png").is_file()


def test_pascal_voc_dilation_frontend_recipe_geometry(tmp_path):
    """One step of the ICLR front end: 380-pixel crops (186 of context on each side)
    give 1x1 labels at stride 8; validation pads whole images the same way."""
    make_voc(tmp_path / "voc", size=(16, 16))
    out = tmp_path / "run"
    argv = ["train", "-d", str(tmp_path / "voc"), "--model", "dilation", "--stage",
            "frontend", "-s", "380", "--batch-size", "1", "--epochs", "1",
            "--steps-per-epoch", "1", "--strategy", "default", "--eval-size", "16,16",
            "--eval-batch-size", "1", "--output-dir", str(out)]
    assert _segmentation_main(argv, "pascal_voc", True) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["lr"] == 1e-4 and run["config"]["momentum"] == 0.9
    assert run["config"]["weight_decay"] == 5e-4 and run["family"] == "dilation"


def _make_image_folders(root, classes=3, per_class=4, seed=0):
    rng = np.random.default_rng(seed)
    for split in ("train", "val"):
        for c in range(classes):
            folder = root / split / f"n0000{c}"
            folder.mkdir(parents=True)
            for i in range(per_class):
                # Each class its own colour, so that a few steps can learn something.
                base = np.zeros((40, 48, 3), np.uint8) + np.uint8(60 * c + 30)
                noise = rng.integers(0, 40, (40, 48, 3), dtype=np.uint8)
                Image.fromarray(base + noise).save(folder / f"img{i}.JPEG")


def test_imagenet_folders(tmp_path, capsys):
    from keras_drn.cli.train import imagenet

    _make_image_folders(tmp_path / "data")
    out = tmp_path / "run"
    code = imagenet(["train", "-d", str(tmp_path / "data"), "--arch", "drn_d_22",
                     "--width", "0.5", "--crop-size", "32", "-b", "4", "--epochs", "1",
                     "--steps-per-epoch", "3", "--strategy", "default", "--output-dir",
                     str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "top-1 error" in text and "over 12 images" in text
    assert (out / "final.weights.h5").is_file()


def test_random_resized_crop_and_center_crop():
    from keras_drn.data.imagenet import random_resized_crop
    from keras_drn.data.imagenet import resize_center_crop

    image = tf.cast(tf.reshape(tf.range(60 * 80 * 3) % 255, (60, 80, 3)), tf.uint8)
    for i in range(5):
        out = random_resized_crop(image, 32, tf.constant([i, 1], tf.int64))
        assert out.shape == (32, 32, 3)
    # A 1x100 strip admits no 3/4..4/3 window of 8%+ area: the centred fallback.
    strip = tf.zeros((1, 100, 3), tf.uint8)
    assert random_resized_crop(strip, 8, tf.constant([0, 0], tf.int64)).shape == (8, 8, 3)
    center = resize_center_crop(image, 64, 56).numpy()
    assert center.shape == (56, 56, 3)
