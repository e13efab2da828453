"""One entry point for every segmentation data set: `segmentation_source(name, split)`."""

from __future__ import annotations

from keras_drn.data.sources import SyntheticSource

DATASETS = ("synthetic", "cityscapes", "cityscapes_tfds", "camvid", "pascal_voc")
DEFAULT_CLASSES = {"synthetic": 19, "cityscapes": 19, "cityscapes_tfds": 19,
                   "camvid": 11, "pascal_voc": 21}


def segmentation_source(dataset: str, split: str = "train", *, data_dir=None,
                        list_dir=None, classes: int | None = None, manual_dir=None,
                        tfds_data_dir=None, synthetic_size=(128, 256),
                        eval_count: int = 100, sbd_dir=None, require_labels=None):
    """Returns the source of `split` ("train", "val", "test") of `dataset`.

    Args:
        dataset: one of DATASETS.
        data_dir, list_dir: the data directory (and where its list files are).
        classes: number of classes (default: the dataset's).
        manual_dir, tfds_data_dir: for "cityscapes_tfds", where the zips are and where
            tensorflow-datasets keeps the prepared files.
        synthetic_size, eval_count: for "synthetic", the scene size and how many
            validation scenes.
        sbd_dir: for "pascal_voc", where SBD's `dataset/` is, if not found beside VOC.
    """
    if dataset not in DATASETS:
        raise ValueError(f"Invalid --dataset {dataset!r}; expected one of {DATASETS}.")
    classes = DEFAULT_CLASSES[dataset] if classes is None else int(classes)
    if dataset == "synthetic":
        if classes != 19:
            raise ValueError(
                f"The synthetic scenes have Cityscapes' 19 classes; received "
                f"--classes {classes}.")
        return SyntheticSource(image_size=tuple(synthetic_size), split=split,
                               eval_count=eval_count)
    if dataset == "cityscapes":
        from keras_drn.data.cityscapes import cityscapes_source

        return cityscapes_source(data_dir, split, list_dir=list_dir, classes=classes,
                                 require_labels=require_labels)
    if dataset == "cityscapes_tfds":
        from keras_drn.data.cityscapes import cityscapes_tfds_source

        return cityscapes_tfds_source(split, manual_dir=manual_dir,
                                      data_dir=tfds_data_dir, classes=classes)
    if dataset == "camvid":
        from keras_drn.data.camvid import camvid_source

        return camvid_source(data_dir, split, list_dir=list_dir, classes=classes,
                             require_labels=require_labels)
    from keras_drn.data.pascal_voc import pascal_voc_source

    return pascal_voc_source(data_dir, split, list_dir=list_dir, classes=classes,
                             sbd_dir=sbd_dir, require_labels=require_labels)
