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
import numpy as np

from keras_drn.models import build_dilation
from keras_drn.models.walk import leaf_layers
from keras_drn.training.config import DILATION_COMMON as COMMON  # noqa: F401
from keras_drn.training.config import DILATION_RECIPES as RECIPES  # noqa: F401
from keras_drn.training.config import DILATION_STAGES as STAGES  # noqa: F401
from keras_drn.training.config import dilation_recipe
from keras_drn.training.errors import ParameterError
from keras_drn.training.trainer import SegmentationTrainer
from keras_drn.training.weights import resolve_training_weights
from keras_drn.weights.resolve import load_resolved

# The data sets with a Dilation network (their recipes: config.DILATION_RECIPES).
DATASETS = ("pascal_voc", "camvid", "kitti", "cityscapes")
CONTEXT_PADDING = 186  # pixels of reflected context on each side of an input
LABEL_STRIDE = 8  # the networks' output stride: one label per 8x8 input pixels


class DilationTrainer(SegmentationTrainer):
    """Trains an ICLR 2016 network (`TrainConfig.family == "dilation"`): the front
    end, the context module on the frozen front end, or both jointly
    (`config.dilation_stage`), with the Dilation geometry (reflect-padded inputs,
    labels at stride 8) and fyu/dilation's mean subtraction.

    `config.pretrained` is resolved by `keras_drn.weights.resolve` (a registry name, a
    preset or a file) and loaded whole or as the front end (`load_partial`).

    Args: see `keras_drn.training.base.Trainer`.

    Example:
    ```python
    config = TrainConfig(family="dilation", dilation_stage="frontend",
                         dataset="pascal_voc", classes=21, **RECIPES["frontend"])
    DilationTrainer(config, train_source, val_source).run()
    ```
    """

    family = "dilation"
    dilation_geometry = True

    @property
    def normalization(self):
        """fyu/dilation's mean (0..255 inputs, no scaling) of the data set."""
        from keras_drn.meta.normalization import dilation_normalization

        return dilation_normalization(self.dataset_name)

    def create_model(self) -> keras.Model:
        return create_dilation_model(self.config)

    def attach_preprocessor(self, model) -> None:
        """Keeps the preset's default preprocessor: the dataset's mean, as in
        training."""

    def display_batch(self, images, labels, predictions):
        """Removes the context padding of the inputs and brings the stride-8 labels
        and predictions to the input's resolution."""
        pad = CONTEXT_PADDING
        labels = np.repeat(np.repeat(labels, LABEL_STRIDE, axis=1), LABEL_STRIDE, axis=2)
        predictions = np.repeat(np.repeat(predictions, LABEL_STRIDE, axis=1),
                                LABEL_STRIDE, axis=2)
        images = images[:, pad:-pad, pad:-pad][:, :labels.shape[1], :labels.shape[2]]
        return images, labels, predictions


def dilation_dataset(dataset: str) -> str:
    """The DILATION_CONFIGS row used for a data set's network."""
    name = {"cityscapes_tfds": "cityscapes", "synthetic": "cityscapes"}.get(dataset,
                                                                           dataset)
    if name not in DATASETS:
        raise ParameterError(f"Invalid dataset={dataset!r}: no Dilation network for it; "
                             f"expected one of {DATASETS}.", "dataset")
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
    dilation_recipe(stage)  # checks the stage
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
        ParameterError: `weights` fits neither the model, nor the front end, nor the
            whole network; the message names `field` and each reason.
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
        raise ParameterError(
            f"Invalid {field}={weights!r}: the weights fit neither {model.name} "
            f"({model_error}) nor {what} ({other_error}). Pass weights of this "
            f"network or of its front end.", field) from None
    transfer_weights(other, model, strict=False)
