"""`test` mode of the segmentation command lines (segment.py test_seg, 613-677).

Every image of `--phase` is predicted at full resolution, one at a time, through
`keras_drn.inference` (single scale, or the reference's scales with `--ms`), and
written as class-id PNGs to `<output>/<arch>_<epoch>_<phase>[_suffix][_ms]/<listed
path>.png` and in colour to the same directory + `_color` (segment.py:462-488,
663-667). With labels (`--phase val`, or `--with-gt`) the per-class IoU table is
printed and saved as CSV and Markdown beside the predictions.
"""

from __future__ import annotations

import json
import os

import numpy as np

from keras_drn.data.pipeline import SyntheticSource
from keras_drn.data.pipeline import TfdsSource
from keras_drn.data.sources import DataError
from keras_drn.data.sources import SegmentationSource
from keras_drn.data.sources import check_label_array
from keras_drn.data.sources import read_label_file
from keras_drn.files import read_image
from keras_drn.meta.normalization import NORMALIZATION
from keras_drn.training.errors import ParameterError


def load_model_for_test(config, resume: str | None):
    """The model of `config` with the weights to test.

    Weights files, presets and names are interpreted by `keras_drn.weights.resolve`, as
    everywhere in keras_drn; only a checkpoint tells the epoch.

    Args:
        config: the `TrainConfig` of the model (its `pretrained` is used when `resume`
            is None).
        resume: a run directory, a checkpoint prefix, a weights file or a preset.

    Returns:
        (model, epoch): the loaded model, and the epoch of its checkpoint (0 for
        files, presets and names).

    Raises:
        ParameterError: neither `resume` nor `config.pretrained` is set, or they
            designate nothing loadable.
    """
    import tensorflow as tf

    from keras_drn.training.checkpoints import find_checkpoint
    from keras_drn.training.models import build_segmenter
    from keras_drn.training.weights import load_segmenter_weights
    from keras_drn.weights.resolve import is_preset_dir

    dilation = config.family == "dilation"
    if dilation:
        from keras_drn.training.dilation import create_dilation_model
        from keras_drn.training.dilation import dilation_dataset
        from keras_drn.training.dilation import load_partial

        model = create_dilation_model(config.replace(pretrained=None))
    else:
        model = build_segmenter(config.arch, config.classes, width=config.width,
                                head=config.head)

    def load(weights, field):
        if dilation:
            load_partial(model, weights, dilation_dataset(config.dataset), field=field)
        else:
            load_segmenter_weights(model, weights, arch=config.arch,
                                   width=config.width, field=field)

    if resume and (os.path.isfile(resume) or is_preset_dir(resume)):
        load(resume, "resume")
        return model, 0
    if resume:
        prefix = find_checkpoint(resume)
        step = tf.Variable(0, dtype=tf.int64)
        tf.train.Checkpoint(model=model, step=step).restore(prefix).expect_partial()
        run = _run_settings(prefix)
        spe = run.get("steps_per_epoch") or 0
        return model, int(step.numpy()) // spe if spe else 0
    if config.pretrained:
        load(config.pretrained, "pretrained")
        return model, 0
    raise ParameterError(
        "Testing needs weights: pretrained=<a name, preset or file> or resume=<a run "
        "directory, checkpoint, weights file or preset>.", "pretrained", "resume")


def _run_settings(prefix: str) -> dict:
    from keras_drn.training.checkpoints import find_run_file

    path = find_run_file(prefix)
    if path is None:
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def iterate_samples(source, *, with_labels: bool):
    """(name, image uint8 (H, W, 3), label uint8 train ids or None) for every example
    of a source, in order.

    Raises:
        DataError: an image or label file is unreadable or does not fit (named).
    """
    if isinstance(source, SyntheticSource):
        from keras_drn.data.pipeline import _SCENE_BASES
        from keras_drn.data.synthetic import render_scene

        h, w = source.image_size
        for i, name in enumerate(source.names):
            image, label = render_scene(_SCENE_BASES[source.split] + i, h, w)
            yield name + ".png", image, label if with_labels else None
        return
    if isinstance(source, TfdsSource):
        import tensorflow as tf

        from keras_drn.data.pipeline import _decode_tfds

        for example in source.dataset_fn():
            image, label = _decode_tfds(source, example)
            name = example[source.id_key].numpy().decode() + ".png"
            yield name, image.numpy(), label.numpy() if with_labels else None
        del tf
        return
    assert isinstance(source, SegmentationSource)
    for i, name in enumerate(source.names):
        try:
            image = read_image(source.images[i])
        except ValueError as error:
            raise DataError(str(error)) from None
        label = None
        if with_labels and source.labels is not None:
            raw = read_label_file(source.labels[i], source.label_encoding)
            check_label_array(raw, source, source.labels[i],
                              image_size=(image.shape[1], image.shape[0]))
            label = source.label_map[raw] if source.label_map is not None else raw
            label = label.astype(np.uint8)
        yield name, image, label


def renormalizing_model(model, source_norm, dataset: str):
    """Wraps `model` so that inputs normalised with `dataset`'s statistics (what
    keras_drn.inference applies) reach it normalised with the source's (info.json)."""
    import keras

    target = NORMALIZATION[dataset]
    if tuple(target.mean) == tuple(source_norm.mean) and \
            tuple(target.std) == tuple(source_norm.std):
        return model
    scale = np.asarray(target.std, np.float32) / np.asarray(source_norm.std, np.float32)
    shift = (np.asarray(target.mean, np.float32) - np.asarray(source_norm.mean,
                                                                np.float32)) / \
        np.asarray(source_norm.std, np.float32)
    inputs = keras.Input((None, None, 3), name="image")
    x = keras.layers.Rescaling(scale, offset=shift, name="renormalize")(inputs)
    return keras.Model(inputs, model(x), name=model.name)


def run_test(args, dataset: str, config) -> int:
    """Runs test mode (see the module docstring) for the parsed flags `args`;
    returns the exit status."""
    from keras_drn.data.datasets import segmentation_source
    from keras_drn.evaluation.report import format_iou_table
    from keras_drn.evaluation.report import write_iou_table
    from keras_drn.inference import MS_SCALES
    from keras_drn.inference import Predictor
    from keras_drn.inference.outputs import save_png
    from keras_drn.inference.scoring import score_model
    from keras_drn.meta import colorize

    phase = args.phase
    has_gt = phase != "test" or args.with_gt
    source = segmentation_source(
        dataset, phase, data_dir=args.data_dir, list_dir=args.list_dir,
        classes=config.classes, manual_dir=args.manual_dir,
        tfds_data_dir=args.tfds_data_dir, synthetic_size=args.synthetic_size,
        eval_count=args.val_count, sbd_dir=args.sbd_dir, require_labels=has_gt)
    if hasattr(source, "check_files_exist"):
        source.check_files_exist()
    model, epoch = load_model_for_test(config, args.resume)
    norm_name = "cityscapes" if dataset == "cityscapes_tfds" else dataset
    model = renormalizing_model(model, source.normalization, norm_name)
    out_dir = f"{config.arch}_{epoch:03d}_{phase}"
    if args.test_suffix:
        out_dir += f"_{args.test_suffix}"
    if args.ms:
        out_dir += "_ms"
    out_dir = os.path.join(config.output_dir, out_dir)
    palette_name = "cityscapes" if norm_name == "synthetic" else norm_name
    predictor = Predictor(model, dataset=norm_name,
                          scales=MS_SCALES if args.ms else (1.0,))
    names = []
    samples = iterate_samples(source, with_labels=has_gt)

    def save(index, image, prediction):
        stem = os.path.splitext(names[index])[0]
        save_png(prediction, os.path.join(out_dir, stem + ".png"))
        save_png(colorize(prediction, palette_name),
                 os.path.join(out_dir + "_color", stem + ".png"))

    def pairs():
        for name, image, label in samples:
            names.append(name)
            yield image, label

    print(f"Testing {model.name} on {getattr(source, 'description', dataset)} "
          f"({len(source)} images{', multi-scale' if args.ms else ''}) -> {out_dir}",
          flush=True)
    if has_gt:
        scores = score_model(predictor, pairs(), dataset=norm_name, on_prediction=save,
                             progress=len(source))
        title = f"{config.arch}{' (ms)' if args.ms else ''}"
        print(format_iou_table({title: scores.per_class_iou}, scores.class_names))
        print(f"mIoU {100 * scores.mean_iou:.2f} over {scores.num_images} images")
        write_iou_table({title: scores.per_class_iou}, scores.class_names,
                        os.path.join(out_dir, f"{phase}_iou"))
    else:
        for index, image in enumerate(image for image, _ in pairs()):
            save(index, image, predictor.predict(image))
        print(f"Wrote {len(names)} predictions.")
    return 0
