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
import tempfile

import tensorflow as tf

from keras_drn.weights.load import save_atomic

RUN_FILE = "run.json"
# Settings a resumed run must share with the original to continue it exactly.
RESUME_KEYS = ("arch", "width", "classes", "global_batch", "seed", "crop_size",
               "steps_per_epoch", "dataset", "head", "family", "dilation_stage")


def write_json_atomic(path: str, data) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_weights_atomic(model, path: str) -> None:
    """`model.save_weights(path)` through a temporary file and a rename."""
    save_atomic(model, path)


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
        path = self.manager.save(checkpoint_number=int(self.step.numpy()))
        self._clean_scratch()
        return path if self.chief else None

    def save_best(self, miou: float) -> str | None:
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
                tmp = os.path.join(target_dir, f".tmp-epoch-{epoch:03d}{suffix}")
                tf.io.gfile.copy(os.path.join(os.path.dirname(latest), name), tmp,
                                 overwrite=True)
                os.replace(tmp, os.path.join(target_dir, f"epoch-{epoch:03d}{suffix}"))

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
    raise FileNotFoundError(
        f"--resume {path}: no checkpoint there. Pass a run's --output-dir, its "
        f"checkpoints/ directory, or a checkpoint prefix such as "
        f"<output-dir>/checkpoints/ckpt-1000 (the part before .index)."
    )


def check_resume_settings(output_dir: str, settings: dict, resume_from: str) -> None:
    """Refuses to resume when settings that define the step's meaning changed."""
    run_dir = resume_from
    for _ in range(3):  # the prefix's directory, checkpoints/, or the output dir
        if os.path.isfile(os.path.join(run_dir, RUN_FILE)):
            break
        run_dir = os.path.dirname(os.path.abspath(run_dir))
    path = os.path.join(run_dir, RUN_FILE)
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as f:
        saved = json.load(f)
    changed = [
        f"{key}: {saved.get(key)!r} -> {settings.get(key)!r}"
        for key in RESUME_KEYS
        if key in saved and saved.get(key) != settings.get(key)
    ]
    if changed:
        raise ValueError(
            f"Cannot resume from {resume_from}: these settings differ from the run "
            f"that wrote it ({path}): {'; '.join(changed)}. Resume with the original "
            f"settings, or load the weights with --pretrained and start a new run."
        )
