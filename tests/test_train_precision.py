"""Mixed precision against float32: the same few steps (same initial weights, same
batches) in float16 with loss scaling and in bfloat16 give losses close to float32's.

Stated tolerances (relative to float32's loss at the same step): the first step's loss
(a forward pass at identical weights) within 1e-3 for float16 and 1e-2 for bfloat16;
the later steps within 5e-2 and 1e-1, because this tiny model amplifies any rounding
over steps (tests/test_train_distributed.py measures 0.3% by step 3 from thread
counts alone in float32)."""

import io

import numpy as np
import pytest

from keras_drn.data.pipeline import SyntheticSource
from keras_drn.training import SegmentationTrainer
from keras_drn.training import TrainConfig

TOLERANCE = {"float16": (1e-3, 5e-2), "bfloat16": (1e-2, 1e-1)}


def _losses(tmp_path, precision):
    config = TrainConfig(arch="drn_d_22", width=0.5, crop_size=(48, 48), batch_size=4,
                         strategy="default", weight_decay=1e-4, momentum=0.9, epochs=1,
                         steps_per_epoch=3, lr=0.003, mixed_precision=precision,
                         eval_every=0, output_dir=str(tmp_path / str(precision)))
    trainer = SegmentationTrainer(config, SyntheticSource(image_size=(48, 96)), None,
                                  stream=io.StringIO())
    first = trainer.model.trainable_variables[0].numpy()
    trainer.run()
    return first, np.array([loss for _, loss in trainer.history["loss"]]), trainer


@pytest.fixture(scope="module")
def float32_run(tmp_path_factory):
    first, losses, _ = _losses(tmp_path_factory.mktemp("f32"), None)
    return first, losses


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["float16", "bfloat16"])
def test_mixed_precision_losses_follow_float32(tmp_path, float32_run, precision):
    first32, losses32 = float32_run
    first, losses, trainer = _losses(tmp_path, precision)
    np.testing.assert_array_equal(first, first32)  # the same starting point
    assert losses32[0] - losses32[-1] > 0.3  # float32 learns: the steps are real
    relative = np.abs(losses - losses32) / losses32
    print(f"{precision}: losses {np.round(losses, 4).tolist()} vs float32 "
          f"{np.round(losses32, 4).tolist()}, relative {np.round(relative, 5).tolist()}")
    first_tol, later_tol = TOLERANCE[precision]
    assert relative[0] <= first_tol, relative
    assert relative[1:].max() <= later_tol, relative
    if precision == "float16":
        # No step was skipped for overflow: the loss scale never dropped.
        assert float(trainer.optimizer.dynamic_scale.numpy()) >= 2.0 ** 10
