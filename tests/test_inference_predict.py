"""The predict command line and `predict_images` on a few small images."""

import keras
import numpy as np
import pytest
from PIL import Image

from keras_drn.evaluation import evaluate_folder
from keras_drn.inference import list_images
from keras_drn.inference import predict_images
from keras_drn.inference import predict_labels
from keras_drn.layers import BilinearUpsampling
from keras_drn.layers import CropToReference
from keras_drn.meta import palette
from keras_drn.models.configs import DRNConfig
from keras_drn.models.drn import drn_features
from keras_drn.predict import main as predict_main

cs_labels = pytest.importorskip("cityscapesscripts.helpers.labels")
KEYS = ["aachen_000000_000019", "aachen_000001_000019", "bonn_000000_000019"]
SHAPE = (40, 56)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A small DRN-D segmentation model with 19 classes, saved as .keras."""
    keras.utils.set_random_seed(11)
    config = DRNConfig("D", "basic", (1, 1, 1, 1, 1, 1, 1, 1), channels=(4, 4, 8, 8, 8,
                                                                         8, 8, 8))
    image = keras.Input((None, None, 3))
    x, _ = drn_features(image, config)
    x = keras.layers.Conv2D(19, 1, name="seg",
                            kernel_initializer=keras.initializers.RandomNormal(0, 3))(x)
    x = BilinearUpsampling(8, name="up")(x)
    x = CropToReference(name="crop")([x, image])
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    keras.Model(image, x).save(path)
    return path


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("leftImg8bit") / "val"
    rng = np.random.default_rng(2)
    for key in KEYS:
        city = key.split("_")[0]
        (root / city).mkdir(parents=True, exist_ok=True)
        array = rng.integers(0, 256, size=(*SHAPE, 3)).astype(np.uint8)
        Image.fromarray(array).save(root / city / f"{key}_leftImg8bit.png")
    return root


def test_predict_cli_writes_every_output(saved_model, images, tmp_path, capsys):
    out = tmp_path / "out"
    code = predict_main([str(images), "-o", str(out), "--model", str(saved_model)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "3/3" in printed and "segmented 3 images" in printed  # the progress bar
    model = keras.saving.load_model(saved_model)
    id_of_train = np.array([cs_labels.trainId2label[t].id for t in range(19)])
    for key in KEYS:
        rel = f"{key.split('_')[0]}/{key}_leftImg8bit.png"
        image = np.asarray(Image.open(images / rel))
        with Image.open(out / "train_ids" / rel) as f:
            assert f.mode == "L" and f.size == SHAPE[::-1]
            train = np.asarray(f)
        np.testing.assert_array_equal(train, predict_labels(model, image))
        assert len(np.unique(train)) > 1
        label = np.asarray(Image.open(out / "label_ids" / rel))
        np.testing.assert_array_equal(label, id_of_train[train])
        color = np.asarray(Image.open(out / "color" / rel))
        np.testing.assert_array_equal(color, palette("cityscapes")[train])
        over = np.asarray(Image.open(out / "overlay" / rel)).astype(int)
        assert over.shape == (*SHAPE, 3)
        assert np.abs(over - (image + color.astype(int)) / 2).max() <= 1

    # The label-id PNGs are what the benchmark scores: the same scores as train ids.
    gt = tmp_path / "gt"
    rng = np.random.default_rng(0)
    for key in KEYS:
        gt_ids = np.where(rng.random(SHAPE) < 0.5, id_of_train[train],
                          rng.integers(0, 34, SHAPE)).astype(np.uint8)
        (gt / key[:6]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(gt_ids).save(gt / key[:6] / f"{key}_gtFine_labelIds.png")
    by_train = evaluate_folder(out / "train_ids", gt, ids="train")
    by_label = evaluate_folder(out / "label_ids", gt, ids="label")
    np.testing.assert_array_equal(by_train.matrix, by_label.matrix)


def test_predict_options_and_inputs(saved_model, images, tmp_path):
    out = tmp_path / "out"
    listing = tmp_path / "list.txt"
    listing.write_text(f"{images / 'bonn' / (KEYS[2] + '_leftImg8bit.png')}\n")
    code = predict_main([str(images / "aachen" / "*.png"), str(listing), "-o", str(out),
                         "--model", str(saved_model), "--ms", "--flip", "--quiet",
                         "--outputs", "train_ids,color"])
    assert code == 0
    assert sorted(p.name for p in (out / "train_ids").iterdir()) == [
        f"{k}_leftImg8bit.png" for k in KEYS]
    assert not (out / "label_ids").exists() and (out / "color").is_dir()


def test_predict_images_api(saved_model, images, tmp_path):
    model = keras.saving.load_model(saved_model)
    records = predict_images(model, images, tmp_path, outputs=["train_ids"],
                             progress=False, window=32, margin=8)
    assert len(records) == 3 and all(r["outputs"]["train_ids"].is_file() for r in records)
    with pytest.raises(ValueError, match="label_ids are Cityscapes label ids"):
        predict_images(model, images, tmp_path, dataset="camvid",
                       outputs=["label_ids"], progress=False)


def test_input_errors(saved_model, images, tmp_path, capsys):
    with pytest.raises(ValueError, match="matches no image"):
        list_images(str(tmp_path / "*.png"))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / d / "x.png")
    with pytest.raises(ValueError, match="would both be written as x.png"):
        list_images([tmp_path / "a" / "x.png", tmp_path / "b" / "x.png"])
    code = predict_main([str(tmp_path / "missing"), "-o", str(tmp_path / "o"),
                         "--model", str(saved_model), "--quiet"])
    assert code == 2
    assert "missing is neither a folder" in capsys.readouterr().err


def test_score_model_counts_predictions_against_labels(saved_model, images, rng):
    from keras_drn.inference import score_model

    model = keras.saving.load_model(saved_model)
    samples = []
    for path in sorted(images.rglob("*.png")):
        image = np.asarray(Image.open(path))
        label = rng.integers(0, 19, size=SHAPE).astype(np.uint8)
        label[:5] = 255
        samples.append((image, label))
    seen = []
    scores = score_model(model, samples, flip=True,
                         on_prediction=lambda i, image, labels: seen.append(labels))
    expected = np.zeros((19, 20), dtype=np.int64)
    for (image, label), prediction in zip(samples, seen):
        np.testing.assert_array_equal(prediction,
                                      predict_labels(model, image, flip=True))
        valid = label != 255
        np.add.at(expected, (label[valid], prediction[valid]), 1)
    np.testing.assert_array_equal(scores.matrix, expected)
    assert scores.num_images == 3 and scores.category_iou is not None


TINY = DRNConfig("D", "basic", (1, 1, 1, 1, 1, 1, 1, 1), channels=(4, 4, 8, 8, 8, 8, 8, 8))


def test_predictions_follow_the_segmenters_dataset(images, tmp_path):
    """A DRNSeg that records CamVid: its statistics (ImageNet's), its palette, its class
    names, and no Cityscapes label ids; a segmenter naming no dataset gets generic
    colours; an explicit dataset still wins."""
    from keras_drn import preprocess_input
    from keras_drn.inference import Predictor
    from keras_drn.inference import score_model
    from keras_drn.inference.outputs import generic_palette
    from keras_drn.meta import class_names
    from keras_drn.models import build_drnseg

    keras.utils.set_random_seed(12)
    model = build_drnseg(TINY, 11, dataset="camvid")
    predictor = Predictor(model)
    assert predictor.dataset == "camvid"
    assert predictor.class_names == class_names("camvid")
    records = predict_images(predictor, images, tmp_path / "camvid", progress=False)
    assert sorted(records[0]["outputs"]) == ["color", "overlay", "train_ids"]
    train = np.asarray(Image.open(records[0]["outputs"]["train_ids"]))
    image = np.asarray(Image.open(records[0]["input"]))
    direct = model(preprocess_input(image, dataset="imagenet")[None], training=False)
    np.testing.assert_array_equal(train, np.argmax(np.asarray(direct)[0], -1))
    colors = np.asarray(Image.open(records[0]["outputs"]["color"]))
    np.testing.assert_array_equal(colors, palette("camvid")[train])
    samples = [(image, train)]
    assert score_model(model, samples).class_names == class_names("camvid")
    assert Predictor(model, dataset="cityscapes").dataset == "cityscapes"

    anonymous = build_drnseg(TINY, 4)  # 4 classes: no dataset
    records = predict_images(anonymous, images, tmp_path / "anonymous",
                             outputs=["train_ids", "color"], progress=False)
    train = np.asarray(Image.open(records[0]["outputs"]["train_ids"]))
    colors = np.asarray(Image.open(records[0]["outputs"]["color"]))
    np.testing.assert_array_equal(colors, generic_palette()[train])
    scores = score_model(anonymous, [(image, train)])
    assert scores.class_names == ("class_0", "class_1", "class_2", "class_3")
