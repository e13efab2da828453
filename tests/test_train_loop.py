"""The training loop on synthetic data: learning, the loss, the schedule, NaN guard,
checkpoints and outputs, and the command line's train and test modes."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_drn.data.pipeline import SyntheticSource
from keras_drn.training import SegmentationTrainer
from keras_drn.training import TrainConfig
from keras_drn.training import TrainingDiverged
from keras_drn.training.losses import global_mean
from keras_drn.training.losses import segmentation_loss_sum
from keras_drn.training.schedules import DRNSchedule

TINY = dict(arch="drn_d_22", width=0.5, crop_size=(64, 64), batch_size=4,
            strategy="default", weight_decay=1e-4, momentum=0.9)


def _sources(count=8):
    return (SyntheticSource(image_size=(64, 128)),
            SyntheticSource(image_size=(64, 128), split="val", eval_count=count))


def test_loss_ignores_255_and_averages_over_valid_pixels(rng):
    logits = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    labels = rng.integers(0, 5, (2, 3, 4))
    labels[0, 0, :3] = 255
    labels[1, 2, 1] = 255
    total, count = segmentation_loss_sum(labels, logits)
    # Brute force: log-softmax, pick the label's entry, skip 255.
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = [-log_p[n, i, j, labels[n, i, j]] for n in range(2) for i in range(3)
              for j in range(4) if labels[n, i, j] != 255]
    np.testing.assert_allclose(float(total), np.sum(picked), rtol=1e-5)
    assert float(count) == len(picked)
    np.testing.assert_allclose(float(global_mean(total, count)), np.mean(picked),
                               rtol=1e-5)


def _reference_lr(base, mode, epoch, epochs, step):
    # fyu/drn segment.py adjust_learning_rate (436-449).
    if mode == "step":
        return base * (0.1 ** (epoch // step))
    return base * (1 - epoch / epochs) ** 0.9


@pytest.mark.parametrize("mode", ["step", "poly"])
def test_schedule_follows_the_reference_per_epoch(mode):
    schedule = DRNSchedule(0.01, mode, steps_per_epoch=7, epochs=10, step=3)
    for iteration in range(0, 70, 5):
        expected = _reference_lr(0.01, mode, iteration // 7, 10, 3)
        np.testing.assert_allclose(float(schedule(iteration)), expected, rtol=1e-6)


def test_schedule_per_iteration_and_warmup():
    schedule = DRNSchedule(0.1, "poly", steps_per_epoch=10, epochs=4, per_iteration=True,
                           warmup_epochs=1.0)
    np.testing.assert_allclose(float(schedule(4)), 0.1 * 0.5 * (1 - 0.4 / 4) ** 0.9,
                               rtol=1e-6)
    np.testing.assert_allclose(float(schedule(25)), 0.1 * (1 - 2.5 / 4) ** 0.9,
                               rtol=1e-6)
    assert float(schedule(40)) == 0.0


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """40 steps that learn something; the reload test reuses the run's files."""
    run_dir = tmp_path_factory.mktemp("trained")
    train, val = _sources()
    config = TrainConfig(**TINY, epochs=2, steps_per_epoch=20, lr=0.05, lr_mode="poly",
                         lr_per_iteration=True, output_dir=str(run_dir), print_freq=100)
    trainer = SegmentationTrainer(config, train, val)
    before, _ = trainer.evaluate()
    return trainer, before, trainer.run(), run_dir


def test_loss_falls_and_miou_rises(trained):
    trainer, before, result, tmp_path = trained
    losses = [loss for _, loss in trainer.history["loss"]]
    assert len(losses) == 40
    assert np.mean(losses[-8:]) < 0.7 * np.mean(losses[:4])
    # Untrained: a few classes everywhere (mIoU ~0.01-0.03); after 40 steps the large
    # classes (road, building, sky, vegetation) are found.
    assert result["mean_iou"] > before.mean_iou + 0.03
    assert result["pixel_accuracy"] > before.pixel_accuracy + 0.15
    # What a run leaves behind.
    for name in ("final.weights.h5", "prediction.png", "run.json", "val_iou.csv",
                 "val_iou.md", "best/best.json"):
        assert (tmp_path / name).is_file(), name
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-40")
    best = json.loads((tmp_path / "best/best.json").read_text())
    assert best["miou"] == pytest.approx(max(m for _, m in trainer.history["val_miou"]))
    events = [f for _, _, files in os.walk(tmp_path / "logs") for f in files]
    assert any(f.startswith("events.out.tfevents") for f in events)
    _check_tensorboard(tmp_path / "logs")


def _check_tensorboard(logdir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = set()
    for split in ("train", "validation"):
        acc = EventAccumulator(str(logdir / split), size_guidance={"tensors": 0})
        acc.Reload()
        tags |= set(acc.Tags()["tensors"])
    for tag in ("loss", "learning_rate", "images_per_second", "mean_iou",
                "iou/road", "input", "ground_truth", "prediction"):
        assert tag in tags, (tag, sorted(tags))


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    train, _ = _sources()
    config = TrainConfig(**{**TINY, "weight_decay": 0.0}, epochs=1, steps_per_epoch=20,
                         lr=1e6, checkpoint_steps=1, output_dir=str(tmp_path))
    trainer = SegmentationTrainer(config, train, None)
    with pytest.raises(TrainingDiverged) as info:
        trainer.run()
    steps = [s for s, loss in trainer.history["loss"]]
    bad_step = int(trainer.step.numpy())
    assert 1 < bad_step < 20 and steps == list(range(1, bad_step))
    latest = tf.train.latest_checkpoint(str(tmp_path / "checkpoints"))
    assert latest.endswith(f"ckpt-{bad_step - 1}")  # nothing saved after it
    assert f"step {bad_step}" in str(info.value) and latest in str(info.value)
    assert not (tmp_path / "final.weights.h5").exists()
    assert "diverged" in capsys.readouterr().out
    # The kept checkpoint holds finite weights.
    reader = tf.train.load_checkpoint(latest)
    for name in reader.get_variable_to_shape_map():
        value = reader.get_tensor(name)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            assert np.isfinite(value).all(), name


def test_command_line_train_then_test(tmp_path, capsys):
    from keras_drn.cli.train import cityscapes

    common = ["--arch", "drn_d_22", "--width", "0.5", "--synthetic-size", "64,128",
              "--val-count", "3", "--output-dir", str(tmp_path), "--strategy", "default"]
    code = cityscapes(["train", "-s", "64", "--batch-size", "2", "--epochs", "1",
                       "--steps-per-epoch", "3", "--lr", "0.01", *common])
    assert code == 0
    out = capsys.readouterr().out
    assert "Per-class IoU" in out and "mean IoU" in out and "sidewk" in out
    assert "\x1b" not in out  # plain progress lines off a terminal
    code = cityscapes(["test", "--resume", str(tmp_path), "--phase", "val", *common])
    assert code == 0
    out = capsys.readouterr().out
    assert "mIoU" in out
    pred_dir = tmp_path / "drn_d_22_001_val"
    pngs = sorted(p.name for p in (pred_dir / "val").iterdir())
    assert pngs == ["scene_000000.png", "scene_000001.png", "scene_000002.png"]
    assert (tmp_path / "drn_d_22_001_val_color/val/scene_000000.png").is_file()
    assert (pred_dir / "val_iou.csv").is_file()


def test_xla(tmp_path):
    """XLA-compiled steps train too (mixed precision: tests/test_train_precision.py)."""
    config = TrainConfig(**{**TINY, "crop_size": (32, 32)}, epochs=1, steps_per_epoch=2,
                         lr=0.01, jit_compile=True, output_dir=str(tmp_path),
                         print_freq=100)
    trainer = SegmentationTrainer(config, _sources()[0], None)
    assert trainer.run()["steps"] == 2
    assert all(np.isfinite(loss) for _, loss in trainer.history["loss"])


RELOAD_SCRIPT = """
import json, sys
import numpy as np
import keras_hub
import keras_drn
from keras_drn.meta.normalization import NORMALIZATION
from keras_drn.training.models import build_segmenter

run_dir, out = sys.argv[1], sys.argv[2]
segmenter = keras_hub.models.ImageSegmenter.from_preset(run_dir + "/preset")
settings = json.load(open(run_dir + "/run.json"))
fresh = build_segmenter(settings["arch"], settings["classes"], width=settings["width"],
                        head=settings["head"])
images = np.random.default_rng(0).integers(0, 256, (2, 40, 56, 3)).astype("uint8")
norm = NORMALIZATION["synthetic"]
x = ((images * norm.scale - np.array(norm.mean)) / np.array(norm.std)).astype("float32")
untrained = np.asarray(fresh(x))
fresh.load_weights(run_dir + "/final.weights.h5")
np.savez(out, preset=np.asarray(segmenter(x)), fresh=np.asarray(fresh(x)),
         untrained=untrained, predicted=segmenter.predict(images, verbose=0),
         kind=type(segmenter).__name__, width=segmenter.backbone.width,
         names=np.array(segmenter.class_names), dataset=segmenter.dataset)
"""


@pytest.mark.slow
def test_run_preset_reloads_in_a_fresh_process(tmp_path, trained):
    import subprocess
    import sys

    from train_helpers import env

    _, _, result, run_dir = trained
    assert result["preset"] == str(run_dir / "preset")
    meta = json.loads((run_dir / "preset/keras_drn.json").read_text())
    assert meta["source"] == {"run_dir": str(run_dir), "step": 40}
    assert meta["parity"] is None
    run = json.loads((run_dir / "run.json").read_text())
    assert (run["arch"], run["classes"], run["width"], run["head"]) == (
        "drn_d_22", 19, 0.5, "reference")
    assert run["class_names"][:2] == ["road", "sidewalk"] and run["dataset"] == "synthetic"
    out = tmp_path / "logits.npz"
    done = subprocess.run([sys.executable, "-c", RELOAD_SCRIPT, str(run_dir), str(out)],
                          env=env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    got = np.load(out)
    assert str(got["kind"]) == "DRNImageSegmenter" and float(got["width"]) == 0.5
    assert list(got["names"]) == run["class_names"] and str(got["dataset"]) == "synthetic"
    assert got["preset"].shape == (2, 40, 56, 19)
    # The loaded weights matter (a fresh model gives other logits) ...
    assert np.abs(got["fresh"] - got["untrained"]).max() > 1e-2
    # ... and the preset holds the same ones as final.weights.h5.
    assert np.abs(got["preset"] - got["fresh"]).max() <= 1e-5
    # The preset's preprocessor applies the training data's statistics to uint8 images.
    np.testing.assert_allclose(got["predicted"], got["fresh"], atol=1e-4)
