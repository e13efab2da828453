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

import keras

from keras_drn.models import build_dilation
from keras_drn.models.walk import leaf_layers
from keras_drn.training.weights import FLAGS
from keras_drn.training.weights import resolve_training_weights
from keras_drn.weights.resolve import load_resolved

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
    """Whether `layer` (a leaf layer) belongs to the front end: the backbone's layers
    and its classifier `final`, not the context module's ctx_* / ct_* layers."""
    return not layer.name.startswith(("ctx_", "ct_"))


def model_key(dataset: str) -> str:
    """The registry key of a data set's network ("dilation8_camvid")."""
    from keras_drn.models import DILATION_CONFIGS

    return f"{DILATION_CONFIGS[dataset].name}_{dataset}"


def create_dilation_model(config) -> keras.Model:
    """The network of `config.dilation_stage` (a `keras_drn.DilationImageSegmenter`),
    with `config.pretrained` loaded: a registry name, a preset, or a `.caffemodel`,
    `.weights.h5` or `.keras` file of the whole network or of the front end only
    (layers are matched by name, `load_partial`)."""
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
        freeze_frontend(model)
    return model


def freeze_frontend(model) -> list[str]:
    """Makes the front end's weighted layers (inside the nested backbone, and
    `final`) untrainable; returns their names."""
    frozen = []
    for layer in leaf_layers(model):
        if is_frontend_layer(layer) and layer.weights:
            layer.trainable = False
            frozen.append(layer.name)
    return frozen


def load_partial(model: keras.Model, weights, dataset: str, *,
                 field: str = "pretrained") -> None:
    """Loads `weights` (resolved by `keras_drn.weights.resolve`: a registry name, a
    preset or a file) into `model`: the whole network when the weights hold it, else
    the part they hold (the front end alone, or the front end of a whole network),
    matched by layer name.

    Raises:
        ValueError: `weights` fits neither the model, nor the front end, nor the whole
            network; the message names `field` and each reason.
    """
    from keras_drn.weights import WeightsDownloadError
    from keras_drn.weights import WeightsHashError
    from keras_drn.weights import transfer_weights

    key = model_key(dataset)
    resolved = resolve_training_weights(weights, key, what=model.name, field=field)
    try:
        load_resolved(model, resolved, arch=key, kind="caffe", model_key=key)
        return
    except (WeightsDownloadError, WeightsHashError):
        raise  # named weights that could not be fetched: no other variant helps
    except Exception as error:  # noqa: BLE001 - try the other variant
        model_error = error
    # The other variant: the front end alone for a whole network, else the whole one.
    other = build_dilation(dataset, classes=model.num_classes,
                           include_context=not model.include_context, dropout=0.0)
    try:
        load_resolved(other, resolved, arch=key, kind="caffe", model_key=key)
    except Exception as other_error:  # noqa: BLE001
        what = "the whole network" if other.include_context else "its front end"
        raise ValueError(
            f"Invalid {field}={weights!r}: the weights fit neither {model.name} "
            f"({model_error}) nor {what} ({other_error}). Pass weights of this "
            f"network or of its front end (on the command line: "
            f"{FLAGS.get(field, field)})."
        ) from None
    transfer_weights(other, model, strict=False)
