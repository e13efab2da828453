"""A command line's output a person can read: TensorFlow imported without its start-up
noise, progress without terminal escape codes when the output is a file.

TensorFlow 2.21's C++ runtime writes lines to the process's standard error while it is
imported and while it first looks for devices (absl's "All log messages before
absl::InitializeLog()", oneDNN's notice, "failed call to cuInit"); TF_CPP_MIN_LOG_LEVEL
does not silence all of them. `import_tensorflow` points file descriptor 2 at a
temporary file for that time; if the import fails, what was written there is shown
after all, with the error.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile


def import_tensorflow():
    """Imports TensorFlow (and Keras) with TensorFlow's start-up lines hidden.

    Returns:
        The `tensorflow` module.

    Raises:
        Whatever the import raises; TensorFlow's captured output is written to
        standard error first, so a broken install still explains itself.
    """
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real descriptor 2 (embedded)
        import keras  # noqa: F401
        import tensorflow as tf

        return tf
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import keras  # noqa: F401
            import tensorflow as tf

            # Looking for devices is what prints the CUDA lines; do it now, silenced.
            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode("utf-8", "replace"))
            sys.stderr.flush()
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return tf


def interactive(stream=None) -> bool:
    """Whether `stream` (standard output by default) is a terminal, where progress
    may redraw a line; elsewhere progress is plain lines without escape codes."""
    stream = sys.stdout if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def keras_verbosity(stream=None) -> int | str:
    """The `verbose=` for Keras' fit/evaluate/predict: the progress bar on a terminal,
    one line an epoch (2) otherwise."""
    return "auto" if interactive(stream) else 2


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default once: argparse's own "(default: X)" is added only
    where the help text does not already say what the default is, and never for a
    default of None (which only means "not given")."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.default in (None, argparse.SUPPRESS, False):
            return text
        return super()._get_help_string(action)
