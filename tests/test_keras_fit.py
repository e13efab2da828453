"""A keras_drn segmenter trains with plain Keras: `compile()` with its defaults and
`fit()` on synthetic street scenes lower the loss and raise the mean IoU; off a
terminal, the progress Keras writes (keras-drn-keras-fit's `verbose=`) is plain lines
without escape codes."""

from __future__ import annotations

import numpy as np
import pytest

from keras_drn.data.synthetic import render_scene
from keras_drn.models import build_drnseg
from keras_drn.presets import attach_preprocessor

SIZE = 48


def _scenes(first, count):
    pairs = [render_scene(first + i, SIZE, SIZE) for i in range(count)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


@pytest.mark.slow
def test_compile_and_fit_learn_the_synthetic_streets(capsys):
    from keras_drn.cli.quiet import keras_verbosity

    x, y = _scenes(0, 16)
    assert x.dtype == np.uint8 and set(np.unique(y)) <= set(range(19)) | {255}
    segmenter = build_drnseg("drn_d_22", 19, width=0.5, dataset="cityscapes",
                             input_shape=(SIZE, SIZE, 3))
    attach_preprocessor(segmenter)  # uint8 images in
    segmenter.compile()  # the defaults: SGD 0.01, momentum 0.9, CE ignoring 255
    # keras-hub batches numpy inputs itself and cannot shuffle them: say so.
    verbose = keras_verbosity()  # what train/keras_fit.py passes: 2 off a terminal
    assert verbose == 2
    history = segmenter.fit(x, y, batch_size=8, epochs=4, shuffle=False,
                            verbose=verbose).history
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out, repr(out[:300])
    assert "Epoch 4/4" in out and "2/2 - " in out and "mean_iou:" in out, out
    assert set(history) >= {"loss", "mean_iou", "pixel_accuracy"}
    loss, miou, accuracy = (history[k] for k in ("loss", "mean_iou", "pixel_accuracy"))
    assert np.all(np.isfinite(loss))
    assert loss[-1] < 0.8 * loss[0], loss
    assert miou[-1] > miou[0] + 0.02, miou
    assert accuracy[-1] > accuracy[0], accuracy
    # What fit measured is what the model predicts: the pixel accuracy of the labels.
    labels = segmenter.predict_labels(x, batch_size=8, verbose=0)
    valid = y != 255
    assert labels.shape == y.shape
    assert (labels == y)[valid].mean() > 0.4

