"""A progress bar for training: epoch, steps, ETA, loss, learning rate, images/s.

On a terminal the line is redrawn in place; in a log file (not a tty) one line is
written every `every` steps and at the end of each epoch, so logs stay readable.
"""

from __future__ import annotations

import sys
import time

from keras_drn.cli.quiet import interactive as is_terminal


def format_duration(seconds: float) -> str:
    """`seconds` as H:MM:SS."""
    seconds = max(int(round(seconds)), 0)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


class Progress:
    """The progress of one epoch: "Epoch e/E [====>...] done/steps ETA - loss - lr -
    img/s".

    On a terminal the line is redrawn with a carriage return; elsewhere (a log file, a
    pipe) a plain line is written every `every` steps, at the first and at the last
    step, without any escape code.

    Args:
        steps: steps in this epoch.
        epoch, epochs: for the "Epoch e/E" prefix (epoch counted from 1).
        stream: where to write (default stdout).
        every: steps between lines when not on a terminal.
        width: characters of the bar.
        enabled: False on non-chief workers.
        interactive: redraw in place; default: whether `stream` is a terminal.
    """

    def __init__(self, steps: int, *, epoch: int, epochs: int, stream=None,
                 every: int = 10, width: int = 24, enabled: bool = True,
                 interactive: bool | None = None):
        self.steps, self.epoch, self.epochs = steps, epoch, epochs
        self.stream = stream or sys.stdout
        self.every, self.width, self.enabled = max(every, 1), width, enabled
        if interactive is None:
            interactive = is_terminal(self.stream)
        self.interactive = interactive
        self.start = time.monotonic()
        self.done_at_start = None

    def update(self, done: int, *, loss: float, lr: float, images_per_sec: float,
               final: bool = False) -> None:
        """`done`: steps finished in this epoch (resumed runs start above 0)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if self.done_at_start is None:
            # The first call's steps include tracing and start-up: time from here on.
            self.done_at_start, self.start = done, now
        elapsed = now - self.start
        rate = (done - self.done_at_start) / elapsed if elapsed > 0 else 0.0
        eta = (self.steps - done) / rate if rate > 0 else float("nan")
        filled = int(self.width * done / max(self.steps, 1))
        bar = "=" * max(filled - 1, 0) + (">" if filled < self.width else "=") \
            if filled else ""
        bar = bar.ljust(self.width, ".")
        timing = (f"{format_duration(elapsed)}" if final
                  else f"ETA {format_duration(eta) if eta == eta else '?'}")
        text = (f"Epoch {self.epoch}/{self.epochs} [{bar}] {done}/{self.steps} {timing} "
                f"- loss {loss:.4f} - lr {lr:.3g} - {images_per_sec:.1f} img/s")
        if self.interactive:
            self.stream.write("\r" + text + ("\n" if final else ""))
            self.stream.flush()
        elif final or done % self.every == 0 or done == 1:
            self.stream.write(text + "\n")
            self.stream.flush()
