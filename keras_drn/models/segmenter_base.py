"""What keras_drn's two segmenters share: their record (classes, activation, dataset,
class names), `compile` / `fit` defaults for segmentation, label prediction, the
output activation layer and the pixel-accuracy metric.

`keras_drn.models.segmenter` builds `DRNImageSegmenter` and `DilationImageSegmenter`
on these.
"""

from __future__ import annotations

import keras

from keras_drn.meta import labels as label_tables

# A segmenter's output activations: None (logits), "softmax", "log_softmax".
ACTIVATIONS = (None, "softmax", "log_softmax")
IGNORE_LABEL = 255


def default_class_names(dataset: str | None, classes: int) -> tuple[str, ...] | None:
    """The class names of `dataset` when it has `classes` of them.

    Args:
        dataset: a dataset name of `keras_drn.meta.class_names`, or None.
        classes: the model's number of classes.

    Returns:
        A tuple of names, or None (no dataset, an unknown one, or another count).
    """
    if dataset is None:
        return None
    try:
        names = label_tables.class_names(dataset)
    except ValueError:
        return None
    return names if len(names) == classes else None


def output_activation(x, activation, *, softmax_name: str = "probabilities"):
    """A segmenter's last layer, in float32 whatever the dtype policy.

    Args:
        x: the logits tensor.
        activation: one of `ACTIVATIONS`.
        softmax_name: the name of the softmax layer (the Dilation models keep Caffe's
            "prob").

    Returns:
        The output tensor: logits (a linear layer "logits"), probabilities or
        log-probabilities ("log_probabilities").
    """
    if activation == "softmax":
        return keras.layers.Softmax(axis=-1, dtype="float32", name=softmax_name)(x)
    if activation == "log_softmax":
        return keras.layers.Activation(
            "log_softmax", dtype="float32", name="log_probabilities"
        )(x)
    return keras.layers.Activation("linear", dtype="float32", name="logits")(x)


class _SegmenterMixin:
    """What both segmenters share: metadata, compile defaults, label prediction."""

    def _init_segmenter(self, backbone, inputs, logits, *, num_classes, activation,
                        dataset, class_names, preprocessor,
                        softmax_name="probabilities", **kwargs):
        """Ends a segmenter's `__init__`: the output activation on `logits`, the
        record, the functional model (keras-hub's `ImageSegmenter`), the backbone and
        the preprocessor."""
        outputs = output_activation(logits, activation, softmax_name=softmax_name)
        # Set before the Task's __init__, which compiles with the defaults.
        self._set_metadata(num_classes, activation, dataset, class_names)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor

    def _set_metadata(self, num_classes, activation, dataset, class_names):
        self.num_classes = num_classes
        self.activation = activation
        self.dataset = dataset
        if class_names is not None:
            class_names = tuple(str(n) for n in class_names)
            if len(class_names) != num_classes:
                raise ValueError(
                    f"Invalid class_names: {len(class_names)} names for "
                    f"num_classes={num_classes}. Pass one name per class."
                )
        self._explicit_class_names = class_names

    @property
    def classes(self) -> int:
        """The number of classes (an alias of `num_classes`)."""
        return self.num_classes

    @property
    def class_names(self) -> tuple[str, ...]:
        """One name per class: given, the dataset's, or "class_0", "class_1", ..."""
        names = self._explicit_class_names or default_class_names(
            self.dataset, self.num_classes)
        return names or tuple(f"class_{i}" for i in range(self.num_classes))

    def _metadata_config(self) -> dict:
        return {
            "num_classes": self.num_classes,
            "activation": self.activation,
            "dataset": self.dataset,
            "class_names": None if self._explicit_class_names is None
            else list(self._explicit_class_names),
        }

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto", **kwargs):
        """Configures the segmenter for `fit` with defaults for segmentation.

        Args:
            optimizer: "auto" gives SGD with momentum 0.9, learning rate 0.01 and
                weight decay 1e-4 (segment.py's recipe), or any Keras optimizer.
            loss: "auto" gives a sparse categorical cross-entropy on the model's output
                (logits, log-probabilities or probabilities) that ignores label 255,
                as segment.py's `NLLLoss2d(ignore_index=255)`.
            metrics: "auto" gives the mean IoU over the classes (label 255 ignored)
                and the pixel accuracy on labelled pixels.
            **kwargs: see `keras.Model.compile`.

        Labels are integer maps (batch, height, width) or (batch, height, width, 1) of
        train ids at the output's resolution, 255 where unlabelled.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.SGD(0.01, momentum=0.9, weight_decay=1e-4)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(
                from_logits=self.activation != "softmax", ignore_class=IGNORE_LABEL
            )
        if metrics == "auto":
            metrics = [
                keras.metrics.MeanIoU(self.num_classes, name="mean_iou",
                                      ignore_class=IGNORE_LABEL, sparse_y_pred=False),
                MaskedAccuracy(name="pixel_accuracy"),
            ]
        keras.Model.compile(self, optimizer=optimizer, loss=loss, metrics=metrics,
                            **kwargs)

    def fit(self, x=None, y=None, batch_size=None, shuffle=True, **kwargs):
        """`keras.Model.fit`, with numpy images and labels shuffled each epoch.

        keras-hub's `Task.fit` turns numpy inputs into an unshuffled dataset (it warns
        that `shuffle=True` is ignored); here numpy `x` and `y` (without
        `sample_weight` or `validation_split`) become a `tf.data.Dataset` shuffled
        anew every epoch and batched by `batch_size` (32 by default). Datasets and
        generators are passed through: shuffle them yourself.
        """
        import numpy as np

        arrays = isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
        plain = not any(kwargs.get(k) is not None
                        for k in ("sample_weight", "validation_split"))
        if shuffle and arrays and plain:
            import tensorflow as tf

            x = (tf.data.Dataset.from_tensor_slices((x, y))
                 .shuffle(len(x), reshuffle_each_iteration=True)
                 .batch(batch_size or 32))
            return super().fit(x, **kwargs)
        return super().fit(x, y, batch_size=batch_size, shuffle=shuffle, **kwargs)

    def get_layer(self, name=None, index=None):
        """A layer of the segmenter or, by name, of its backbone ("layer5_1_conv2")."""
        try:
            return super().get_layer(name, index)
        except ValueError:
            if name is None:
                raise
            return self.backbone.get_layer(name)

    def compile_from_config(self, config):
        """Restores the compiled state of a saved model (Keras calls this on load)."""
        self.compile(**keras.saving.deserialize_keras_object(config))

    def predict_labels(self, images, batch_size=None, **kwargs):
        """Per-pixel class ids (uint8 numpy) for `images` (run through the
        preprocessor when there is one, as `predict` does)."""
        import numpy as np

        outputs = self.predict(images, batch_size=batch_size, **kwargs)
        return np.argmax(outputs, axis=-1).astype(np.uint8)


@keras.saving.register_keras_serializable(package="keras_drn")
class MaskedAccuracy(keras.metrics.Mean):
    """Pixel accuracy over the pixels whose label is not 255."""

    def __init__(self, name="pixel_accuracy", ignore_class=IGNORE_LABEL, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.ignore_class = ignore_class

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = keras.ops.cast(y_true, "int32")
        if len(y_true.shape) == len(y_pred.shape):
            y_true = keras.ops.squeeze(y_true, -1)
        predicted = keras.ops.cast(keras.ops.argmax(y_pred, axis=-1), "int32")
        valid = keras.ops.cast(keras.ops.not_equal(y_true, self.ignore_class), "float32")
        correct = keras.ops.cast(keras.ops.equal(predicted, y_true), "float32") * valid
        return super().update_state(correct, sample_weight=valid)

    def get_config(self):
        return {**super().get_config(), "ignore_class": self.ignore_class}
