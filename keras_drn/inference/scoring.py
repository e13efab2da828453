"""Scoring a model on (image, label) samples: prediction and evaluation in one loop.

Stable interface (train/cityscapes.py `test --phase val` calls it):

    scores = score_model(model, samples, dataset=None, scales=MS_SCALES,
                         flip=False, on_prediction=None, progress=True)
    print(format_iou_table({"drn_d_22": scores}, scores.class_names))

`samples` yields (image, label): an (H, W, 3) RGB image on 0..255 (not normalised) and
its (H, W) ground truth in train ids (255 ignored), as fyu/drn segment.py `test` scores
them (full images, one at a time). For Cityscapes the scores are the benchmark's (void
column, category IoU); `on_prediction(index, image, labels)` can save each prediction.
Other datasets are scored over the model's classes, named by its `class_names`.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable

import numpy as np

from keras_drn.evaluation.cityscapes import CityscapesScorer
from keras_drn.evaluation.scores import Scorer
from keras_drn.evaluation.scores import SegmentationScores
from keras_drn.inference.predictor import Predictor
from keras_drn.meta.labels import class_names


def score_model(model_or_predictor, samples: Iterable, *, dataset: str | None = None,
                on_prediction: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
                progress: bool | int = False, **options) -> SegmentationScores:
    """Predicts every sample and accumulates the scores.

    Args:
        model_or_predictor: a Keras model or a `Predictor` (then no options).
        samples: (image, label) pairs; labels in train ids with 255 ignored.
        dataset: None for the model's own dataset (or the Predictor's); a name
            overrides it (class names and normalisation). "cityscapes" scores as the
            benchmark.
        on_prediction: called with (index, image, predicted train ids).
        progress: show a progress bar; an int gives the number of samples.
        **options: `Predictor` arguments (scales, flip, merge, window, ...).

    Returns:
        SegmentationScores.
    """
    predictor = model_or_predictor
    if not isinstance(predictor, Predictor):
        predictor = Predictor(model_or_predictor, dataset=dataset, **options)
    elif options:
        raise ValueError("Pass options to the Predictor, not with one.")
    dataset = dataset if dataset is not None else predictor.dataset
    if dataset == "cityscapes":
        scorer = CityscapesScorer()
    else:
        # A segmenter always names its classes (its dataset's, or "class_<i>").
        names = (predictor.class_names if dataset == predictor.dataset else None) or (
            class_names(dataset))
        scorer = Scorer(names, dataset=dataset or "")
    bar = None
    if progress:
        import keras

        total = progress if isinstance(progress, int) and progress is not True else None
        bar = keras.utils.Progbar(total, unit_name="image")
    for index, (image, label) in enumerate(samples):
        image, label = np.asarray(image), np.asarray(label)
        if label.shape != image.shape[:2]:
            raise ValueError(
                f"Sample {index}: the label is {label.shape} but the image "
                f"{image.shape[:2]}; they must have the same height and width."
            )
        prediction = predictor.predict(image)
        scorer.update(label, prediction)
        if on_prediction is not None:
            on_prediction(index, image, prediction)
        if bar is not None:
            bar.update(index + 1)
    return scorer.result()
