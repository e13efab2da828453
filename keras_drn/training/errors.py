"""The training package's errors: a bad setting, and a run that diverged.

Library errors name parameters (`batch_size=6`), the way a Python caller passes them;
the command lines (`keras_drn.training.cli`) report the same errors with their own
flags (`--batch-size 6`), reading `ParameterError.parameters`.
"""

from __future__ import annotations


class ParameterError(ValueError):
    """A setting of a training run (a `TrainConfig` field or an argument) is invalid.

    The message names the setting as a parameter, preferably in the form
    `name=value`, which a command line rewrites as its flag.

    Args:
        message: what is wrong, what was expected and what to do.
        *parameters: the names of the settings concerned ("batch_size", ...).

    Example:
    ```python
    raise ParameterError("Invalid batch_size=6: expected a multiple of 4.",
                         "batch_size")
    ```
    """

    def __init__(self, message: str, *parameters: str):
        super().__init__(message)
        self.parameters = tuple(parameters)


class TrainingDiverged(RuntimeError):
    """The loss or the weights became NaN or Inf; the last good checkpoint was kept and
    nothing was saved after it."""
