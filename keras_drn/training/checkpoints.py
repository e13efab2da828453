"""Training checkpoints: everything needed to continue a killed run exactly.

A checkpoint holds the model's variables (BN statistics included), the optimizer's
(momentum, iteration count, loss scale), the global step and the best validation mIoU.
The learning rate and the data position are functions of the step (the schedule is
stateless; the input stream is a function of (seed, example index), see
`keras_drn.data.pipeline`), so the step restores both. `run.json` beside the
checkpoints records the settings the step means something under (global batch, seed,
crop, steps per epoch ...); resuming with different ones is refused.

Files (in `<output_dir>/checkpoints`, `tf.train.CheckpointManager`):
  ckpt-<step>.index / .data-*   the last `keep` checkpoints (every N steps and at
                                every epoch end)
  checkpoint                    the pointer to the newest one
and `<output_dir>/best/` with the best by validation mIoU plus `best.json`.

Writes are atomic: TensorFlow writes the data, then the index, and the manager updates
its pointer file (written to a temporary file and renamed) only after both; a run
killed while saving leaves the previous checkpoint as the latest. Under
MultiWorkerMirroredStrategy every worker saves (the save is collective), the chief into
the real directory and the others into scratch directories that are deleted.
"""

from __future__ import annotations

import json
import os
import shutil

import tensorflow as tf

from keras_drn.files import atomic_path
from keras_drn.files import write_json_atomic
from keras_drn.training.errors import ParameterError

RUN_FILE = "run.json"
# Settings a resumed run must share with the original to continue it exactly.
RESUME_KEYS = ("arch", "width", "classes", "global_batch", "seed", "crop_size",
               "steps_per_epoch", "dataset", "head", "family", "dilation_stage")

__all__ = ["CheckpointKeeper", "check_resume_settings", "find_checkpoint",
           "find_run_file", "latest_checkpoint", "save_weights_atomic", "write_json_atomic"]


def save_weights_atomic(model, path: str) -> None:
    """`model.save_weights(path)` through a temporary file beside `path` (it keeps
    the `.weights.h5` suffix Keras requires) and a rename (`keras_drn.files`).

    Args:
        model: the Keras model.
        path: the target, ending in `.weights.h5`.
    """
    with atomic_path(path) as tmp:
        model.save_weights(tmp)


class CheckpointKeeper:
    """Saves and restores training state under `output_dir`.

    Args:
        output_dir: the run's directory.
        model, optimizer: the objects to track.
        step: a tf.Variable(int64) counting optimizer steps.
        best_miou: a tf.Variable(float32), the best validation mIoU so far.
        keep: how many recent checkpoints to keep.
        chief: whether this worker writes the real files.
        worker: this worker's index (for the scratch directory of non-chiefs).
    """

    def __init__(self, output_dir: str, *, model, optimizer, step, best_miou,
                 keep: int = 3, chief: bool = True, worker: int = 0):
        self.output_dir = output_dir
        self.chief = chief
        root = output_dir if chief else os.path.join(output_dir, f".worker-{worker}-tmp")
        self._scratch = None if chief else root
        self.checkpoint = tf.train.Checkpoint(
            model=model, optimizer=optimizer, step=step, best_miou=best_miou)
        self.step = step
        self.best_miou = best_miou
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, os.path.join(root, "checkpoints"), max_to_keep=max(keep, 1))
        self.best_manager = tf.train.CheckpointManager(
            self.checkpoint, os.path.join(root, "best"), max_to_keep=1)

    # -- saving ----------------------------------------------------------------------

    def save(self) -> str | None:
        """Checkpoints the current step (every worker: the save is collective); returns
        the checkpoint prefix on the chief, None elsewhere."""
        path = self.manager.save(checkpoint_number=int(self.step.numpy()))
        self._clean_scratch()
        return path if self.chief else None

    def save_best(self, miou: float) -> str | None:
        """Keeps the current state as the best, `best/`, with `best/best.json`
        recording `miou` and the step; returns the prefix on the chief."""
        path = self.best_manager.save(checkpoint_number=int(self.step.numpy()))
        if self.chief:
            write_json_atomic(os.path.join(self.output_dir, "best", "best.json"),
                              {"miou": miou, "step": int(self.step.numpy()),
                               "checkpoint": os.path.basename(path)})
        self._clean_scratch()
        return path if self.chief else None

    def save_history(self, epoch: int) -> None:
        """Keeps a copy of the newest checkpoint as checkpoints/history/epoch-NNN
        (segment.py's --save_iter copies, checkpoint_NNN.pth.tar)."""
        latest = self.manager.latest_checkpoint
        if not self.chief or not latest:
            return
        target_dir = os.path.join(os.path.dirname(latest), "history")
        os.makedirs(target_dir, exist_ok=True)
        prefix = os.path.basename(latest)
        for name in tf.io.gfile.listdir(os.path.dirname(latest)):
            if name.startswith(prefix + "."):
                suffix = name[len(prefix):]
                target = os.path.join(target_dir, f"epoch-{epoch:03d}{suffix}")
                with atomic_path(target) as tmp:
                    tf.io.gfile.copy(os.path.join(os.path.dirname(latest), name), tmp,
                                     overwrite=True)

    def _clean_scratch(self):
        if self._scratch and os.path.isdir(self._scratch):
            shutil.rmtree(self._scratch, ignore_errors=True)

    # -- restoring -------------------------------------------------------------------

    def restore(self, path: str) -> str:
        """Restores from `path`: a checkpoint prefix, a `checkpoints/` directory, or a
        run's output directory (its newest checkpoint). Returns the prefix used."""
        prefix = find_checkpoint(path)
        self.checkpoint.restore(prefix).expect_partial().assert_existing_objects_matched()
        return prefix


def latest_checkpoint(output_dir: str) -> str | None:
    """The newest checkpoint prefix of the run in `output_dir`, or None."""
    return tf.train.latest_checkpoint(os.path.join(output_dir, "checkpoints"))


def find_checkpoint(path: str) -> str:
    """The checkpoint prefix `path` designates (see CheckpointKeeper.restore)."""
    candidates = [path, os.path.join(path, "checkpoints")]
    for candidate in candidates:
        if os.path.isdir(candidate):
            latest = tf.train.latest_checkpoint(candidate)
            if latest:
                return latest
    if tf.io.gfile.exists(path + ".index"):
        return path
    raise ParameterError(
        f"Invalid resume={path!r}: no checkpoint there. Pass a run's output "
        f"directory, its checkpoints/ directory, or a checkpoint prefix such as "
        f"<run>/checkpoints/ckpt-1000 (the part before .index).",
        "resume")


def find_run_file(path: str) -> str | None:
    """The run.json of the run `path` belongs to: in `path` itself, or up to two
    folders above it (a run directory, its checkpoints/, or a checkpoint prefix);
    None when there is none."""
    directory = path
    for _ in range(3):
        candidate = os.path.join(directory, RUN_FILE)
        if os.path.isfile(candidate):
            return candidate
        directory = os.path.dirname(os.path.abspath(directory))
    return None


def check_resume_settings(output_dir: str, settings: dict, resume_from: str) -> None:
    """Refuses to resume when settings that define the step's meaning changed.

    Args:
        output_dir: the new run's directory (unused: the settings are read from the
            run that wrote `resume_from`).
        settings: `TrainConfig.resume_settings()` of the new run.
        resume_from: the `resume` setting (a run directory or a checkpoint).

    Raises:
        ParameterError: a setting of `RESUME_KEYS` differs; the message lists each
            one with its old and new value.
    """
    path = find_run_file(resume_from)
    if path is None:
        return
    with open(path, encoding="utf-8") as f:
        saved = json.load(f)
    changed = [
        f"{key}: {saved.get(key)!r} -> {settings.get(key)!r}"
        for key in RESUME_KEYS
        if key in saved and saved.get(key) != settings.get(key)
    ]
    if changed:
        raise ParameterError(
            f"Cannot resume from {resume_from}: these settings differ from the run "
            f"that wrote it ({path}): {'; '.join(changed)}. Resume with the original "
            f"settings, or start a new run that loads these weights with "
            f"pretrained=<a weights file of that run>.",
            *[key for key in RESUME_KEYS
              if key in saved and saved.get(key) != settings.get(key)], "pretrained")
