"""Training the ICLR 2016 networks (fyu/dilation): the dilated VGG-16 front end, the
context module, or both jointly, with the recipe of fyu/dilation docs/training.md and
train.py (drn-facts §5.7).

    stage     batch  crop  lr     initialised from
    frontend  14     500   1e-4   VGG-16 (vgg_conv.caffemodel)
    context   60     900   1e-3   identity (+ the trained front end, frozen)
    joint     14     500   1e-5   the front end and the context module

All stages: SGD momentum 0.9, weight decay 5e-4, "step" policy x0.1 every 100k
iterations, 400k iterations (here 40 epochs of 10,000 steps, decayed every 10);
cross-entropy over valid labels ("normalization: VALID"); inputs reflect-padded by 186,
labels taken at offset 186 and stride 8 (`keras_drn.data.augment.dilation_crop`).

The reference trains the context module on front-end features saved to disk (test.py
--bin); here the front end runs on the fly, frozen and without dropout, which gives the
context layers the same inputs and gradients.
"""

from __future__ import annotations

import os

import keras

from keras_drn.models import build_dilation

STAGES = ("frontend", "context", "joint")
DATASETS = ("pascal_voc", "camvid", "kitti", "cityscapes")

# Per-stage recipe (TrainConfig fields).
RECIPES = {
    "frontend": dict(batch_size=14, crop_size=(500, 500), lr=1e-4),
    "context": dict(batch_size=60, crop_size=(900, 900), lr=1e-3),
    "joint": dict(batch_size=14, crop_size=(500, 500), lr=1e-5),
}
COMMON = dict(momentum=0.9, weight_decay=5e-4, lr_mode="step", epochs=40,
              steps_per_epoch=10_000, step=10)


def dilation_dataset(dataset: str) -> str:
    """The DILATION_CONFIGS row used for a data set's network."""
    name = {"cityscapes_tfds": "cityscapes", "synthetic": "cityscapes"}.get(dataset,
                                                                           dataset)
    if name not in DATASETS:
        raise ValueError(f"No Dilation network for dataset {dataset!r}; expected one of "
                         f"{DATASETS}.")
    return name


def is_frontend_layer(layer) -> bool:
    return not layer.name.startswith(("ctx_", "ct_"))


def create_dilation_model(config) -> keras.Model:
    """The network of `config.dilation_stage`, with `config.pretrained` loaded (a
    `.caffemodel`, `.weights.h5` or `.keras` file of the whole network or of the front
    end only: layers are matched by name)."""
    stage = config.dilation_stage
    if stage not in STAGES:
        raise ValueError(f"Invalid --stage {stage!r}; expected one of {STAGES}.")
    dataset = dilation_dataset(config.dataset)
    # The context stage sees the front end as fixed features: no dropout, no updates.
    model = build_dilation(dataset, classes=config.classes,
                           include_context=stage != "frontend",
                           dropout=0.0 if stage == "context" else 0.5)
    if config.pretrained:
        load_partial(model, config.pretrained, dataset)
    if stage == "context":
        for layer in model.layers:
            if is_frontend_layer(layer) and layer.weights:
                layer.trainable = False
    return model


def load_partial(model: keras.Model, path: str, dataset: str) -> None:
    """Loads the whole network if the file has it, else the front end (by name)."""
    from keras_drn.models import DILATION_CONFIGS
    from keras_drn.weights import load_weights
    from keras_drn.weights import transfer_weights

    key = f"{DILATION_CONFIGS[dataset].name}_{dataset}"
    if not os.path.exists(path):
        raise FileNotFoundError(f"--pretrained {path}: no such file.")
    try:
        load_weights(model, path, arch=key, kind="caffe")
        return
    except Exception as whole_error:  # noqa: BLE001 - fall back to the front end
        frontend = build_dilation(dataset, classes=model.output_shape[-1],
                                  include_context=False)
        try:
            load_weights(frontend, path, arch=key, kind="caffe")
        except Exception as frontend_error:  # noqa: BLE001
            raise ValueError(
                f"--pretrained {path} fits neither the whole network ({whole_error}) "
                f"nor its front end ({frontend_error})."
            ) from None
        transfer_weights(frontend, model, strict=False)
