"""Stopping a run cleanly: preemption signals, agreed stops, time-based checkpoints and
the exit statuses a scheduler can act on.

    SIGTERM, or a first Ctrl-C (SIGINT)   finish the step in flight, checkpoint at that
                                          step, print how to resume, exit EXIT_PREEMPTED
    a second Ctrl-C                       stop at once (no checkpoint), exit 130

Under MultiWorkerMirroredStrategy a signal may reach one worker only, or the workers at
different steps. Every compiled training call therefore all-reduces a small vector of
requests, [stop, checkpoint now], together with the step: every worker sees the same
sum after the same step and so stops (or checkpoints, a collective operation) at the
same step. The time-based checkpoint (`--checkpoint-minutes`) is decided the same way,
since the workers' clocks disagree.

Exit statuses of the training commands (keras-drn-train, keras-drn-cityscapes,
keras-drn-camvid, keras-drn-pascal-voc, keras-drn-imagenet and their train/*.py
wrappers); docs/training.md lists them too:
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import numpy as np

EXIT_OK = 0
EXIT_DATA_ERROR = 2  # a data file is unreadable or does not fit; the message names it
EXIT_USAGE = 2  # a flag's value is invalid (argparse's status too); the message names it
EXIT_DIVERGED = 3  # NaN/Inf loss or weights; the last good checkpoint is named
EXIT_LOST_WORKER = 4  # another worker stopped answering; resume every worker
EXIT_INTERRUPTED = 130  # a second Ctrl-C: stopped at once, nothing saved
EXIT_PREEMPTED = 143  # SIGTERM or a first Ctrl-C: checkpointed, requeue with --resume

EXIT_STATUSES = {
    EXIT_OK: "finished",
    EXIT_DATA_ERROR: "bad data or a bad flag (the message names the file or flag)",
    EXIT_DIVERGED: "the loss became NaN/Inf (the last good checkpoint is named)",
    EXIT_LOST_WORKER: "a worker was lost (the resume command is printed)",
    EXIT_INTERRUPTED: "a second Ctrl-C: stopped at once without a checkpoint",
    EXIT_PREEMPTED: "SIGTERM or Ctrl-C: checkpointed at the step reached, requeue with "
                    "--resume",
}
__doc__ += "".join(f"\n    {code:3d}  {text}" for code, text in EXIT_STATUSES.items())

# The requests vector all-reduced with each training call.
STOP, SAVE = 0, 1
REQUESTS = 2


class Preempted(Exception):
    """The run stopped on request after checkpointing at `step`."""

    def __init__(self, step: int, checkpoint: str | None, signal_name: str):
        self.step, self.checkpoint, self.signal_name = step, checkpoint, signal_name
        super().__init__(f"stopped at step {step} on {signal_name}")


class WorkerLost(Exception):
    """A collective operation failed or timed out: a worker is gone."""

    def __init__(self, message: str, step: int, log_path: str | None = None):
        self.step, self.log_path = step, log_path
        super().__init__(message)


def exit_status_help() -> str:
    """The exit statuses, for --help."""
    return "exit status: " + "; ".join(
        f"{code} {text}" for code, text in EXIT_STATUSES.items())


class StopSignals:
    """Catches SIGTERM and SIGINT while training (in the main thread; elsewhere it does
    nothing). The first signal only records the request; a second SIGINT ends the
    process at once with EXIT_INTERRUPTED. Use as a context manager: the previous
    handlers come back on exit."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.received: str | None = None
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}
        return False

    def _handle(self, signum, frame):
        name = signal.Signals(signum).name
        if self.received is not None and signum == signal.SIGINT:
            self.stream.write("\nSecond interrupt: stopping now, without a checkpoint.\n")
            self.stream.flush()
            os._exit(EXIT_INTERRUPTED)
        if self.received is None:
            self.received = name
            self.stream.write(
                f"\n{name} received: finishing the current step, then checkpointing "
                f"and stopping (Ctrl-C again to stop at once).\n")
            self.stream.flush()


class StopControl:
    """What the trainer all-reduces before each compiled call: this worker's stop request
    (a signal arrived) and whether its clock says a time-based checkpoint is due.

    Args:
        signals: a StopSignals (or anything with `.received`).
        checkpoint_minutes: minutes of training between checkpoints (0: none).
        clock: time.monotonic, replaceable in tests.
    """

    def __init__(self, signals, checkpoint_minutes: float = 0.0, clock=time.monotonic):
        self.signals = signals
        self.interval = float(checkpoint_minutes or 0) * 60.0
        self.clock = clock
        self.last_save = clock()

    def requests(self) -> np.ndarray:
        """This worker's [stop, checkpoint now] requests, as float32 (0 or 1)."""
        values = np.zeros([REQUESTS], np.float32)
        values[STOP] = float(self.signals.received is not None)
        values[SAVE] = float(bool(self.interval) and
                             self.clock() - self.last_save >= self.interval)
        return values

    def saved(self) -> None:
        """Restarts the checkpoint interval (a checkpoint was just written)."""
        self.last_save = self.clock()


def is_collective_failure(error: BaseException) -> bool:
    """Whether a TensorFlow error means that a peer is gone (not that the data is bad)."""
    import tensorflow as tf

    kinds = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
             tf.errors.AbortedError, tf.errors.CancelledError)
    if isinstance(error, kinds):
        return True
    text = str(getattr(error, "message", "") or error)
    return any(mark in text for mark in (
        "heartbeat", "Collective ops is aborted", "collective ops is aborted",
        "coordination service", "Coordination service", "timed out", "Socket closed",
        "Connection reset", "failed to connect"))


def lost_worker_name(error: BaseException, cluster: dict | None) -> str:
    """The worker an error message names (/job:worker/task:N or host:port), or
    "another worker" when it names none."""
    import re

    text = str(getattr(error, "message", "") or error)
    match = re.search(r"/job:(\w+)/(?:replica:\d+/)?task:(\d+)", text)
    addresses = {}
    for job, hosts in (cluster or {}).items():
        for index, host in enumerate(hosts):
            addresses[host] = f"{job} {index}"
    if match:
        job, index = match.group(1), int(match.group(2))
        hosts = (cluster or {}).get(job, [])
        where = f" ({hosts[index]})" if index < len(hosts) else ""
        return f"{job} {index}{where}"
    for host, name in addresses.items():
        if host in text:
            return f"{name} ({host})"
    return "another worker"


def error_summary(error: BaseException) -> str:
    """The informative line of a TensorFlow error (the one saying what failed)."""
    text = str(getattr(error, "message", "") or error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if any(mark in line for mark in ("unhealthy", "heartbeat", "aborted", "timed out",
                                         "Timeout", "Socket closed", "Connection")):
            if line.endswith(":") and i + 1 < len(lines):  # the list of tasks follows
                line = f"{line} {lines[i + 1]}"
            return line[:300]
    return (lines[-1] if lines else type(error).__name__)[:300]


def write_traceback(run_dir: str, worker: int, error: BaseException) -> str:
    """Writes the full traceback of `error` to <run_dir>/logs/error-worker<N>.log and
    returns the path."""
    import traceback

    directory = os.path.join(run_dir, "logs")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"error-worker{worker}.log")
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} pid {os.getpid()}\n")
        f.write("".join(traceback.format_exception(type(error), error,
                                                   error.__traceback__)))
    return path


def resume_command(argv: list[str], run_dir: str | None) -> str:
    """`argv` (the command that was run) with --resume <run_dir> (replacing any given;
    None: without --resume)."""
    import shlex

    args, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--resume":
            skip = True
            continue
        if arg.startswith("--resume="):
            continue
        args.append(arg)
    if args and args[0].endswith(".py"):
        args = ["python"] + args
    return shlex.join(args + (["--resume", run_dir] if run_dir else []))
