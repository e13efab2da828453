"""Mixed precision against float32: the same few steps (same initial weights, same
batches) in float16 with loss scaling and in bfloat16 give losses close to float32's;
the layers compute in the reduced type with float32 outputs, validation works, and
Keras' global dtype policy is left as it was (`mixed_precision_policy`).

Stated tolerances (relative to float32's loss at the same step): the first step's loss
(a forward pass at identical weights) within 1e-3 for float16 and 1e-2 for bfloat16;
the later steps within 5e-2 and 1e-1, because this tiny model amplifies any rounding
over steps (tests/test_train_distributed.py measures 0.3% by step 3 from thread
counts alone in float32)."""

import io

import keras
import numpy as np
import pytest

from keras_drn.data.pipeline import SyntheticSource
from keras_drn.models.walk import find_layer
from keras_drn.training import SegmentationTrainer
from keras_drn.training import TrainConfig
from keras_drn.training.errors import ParameterError
from keras_drn.training.precision import mixed_precision_policy

TOLERANCE = {"float16": (1e-3, 5e-2), "bfloat16": (1e-2, 1e-1)}


def _trainer(tmp_path, precision):
    # float16 steps are slow on CPUs (about 20 s at crop 48): a small crop.
    config = TrainConfig(arch="drn_d_22", width=0.5, crop_size=(32, 32), batch_size=4,
                         strategy="default", weight_decay=1e-4, momentum=0.9, epochs=1,
                         steps_per_epoch=3, lr=0.003, mixed_precision=precision,
                         output_dir=str(tmp_path / str(precision)))
    val = SyntheticSource(image_size=(32, 48), split="val", eval_count=1)
    return SegmentationTrainer(config, SyntheticSource(image_size=(32, 64)), val,
                               stream=io.StringIO())


def _run(trainer):
    first = trainer.model.trainable_variables[0].numpy()
    result = trainer.run()
    return first, np.array([loss for _, loss in trainer.history["loss"]]), result


@pytest.fixture(scope="module")
def float32_run(tmp_path_factory):
    first, losses, _ = _run(_trainer(tmp_path_factory.mktemp("f32"), None))
    return first, losses


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["float16", "bfloat16"])
def test_mixed_precision_losses_follow_float32(tmp_path, float32_run, precision):
    trainer = _trainer(tmp_path, precision)
    # The layers keep the policy they were built with; the global one is unchanged.
    assert keras.config.dtype_policy().name == "float32"
    assert find_layer(trainer.model, "layer0_0").compute_dtype == precision
    assert trainer.model.output.dtype == "float32"  # logits and softmax in float32
    first32, losses32 = float32_run
    first, losses, result = _run(trainer)
    assert np.isfinite(result["mean_iou"])  # validation ran in the reduced type
    assert keras.config.dtype_policy().name == "float32"
    np.testing.assert_array_equal(first, first32)  # the same starting point
    assert losses32[0] - losses32[-1] > 0.3  # float32 learns: the steps are real
    relative = np.abs(losses - losses32) / losses32
    print(f"{precision}: losses {np.round(losses, 4).tolist()} vs float32 "
          f"{np.round(losses32, 4).tolist()}, relative {np.round(relative, 5).tolist()}")
    first_tol, later_tol = TOLERANCE[precision]
    assert relative[0] <= first_tol, relative
    assert relative[1:].max() <= later_tol, relative
    if precision == "float16":
        assert isinstance(trainer.optimizer, keras.optimizers.LossScaleOptimizer)
        # No step was skipped for overflow: the loss scale never dropped.
        assert float(trainer.optimizer.dynamic_scale.numpy()) >= 2.0 ** 10


def test_policy_context_restores_the_previous_policy_even_on_error():
    before = keras.config.dtype_policy().name
    with mixed_precision_policy("mixed_float16") as policy:
        assert policy.name == keras.config.dtype_policy().name == "mixed_float16"
        assert keras.layers.Dense(2).compute_dtype == "float16"
    assert keras.config.dtype_policy().name == before
    with pytest.raises(RuntimeError, match="boom"):
        with mixed_precision_policy("mixed_bfloat16"):
            raise RuntimeError("boom")
    assert keras.config.dtype_policy().name == before


def test_invalid_mixed_precision_names_the_parameter(tmp_path):
    with pytest.raises(ParameterError, match="mixed_precision='float8'") as info:
        _trainer(tmp_path, "float8")
    assert info.value.parameters == ("mixed_precision",)
    assert keras.config.dtype_policy().name == "float32"
