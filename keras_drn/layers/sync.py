"""A scope in which the builders make synchronised batch normalisation.

`keras_drn.training.models.with_synchronized_batchnorm` rebuilds a model from its config
inside `synchronized_batchnorm()`, so that every BatchNormalization the builders create
(also inside a nested backbone) computes its statistics over all replicas.
"""

from __future__ import annotations

import contextlib
import threading

_STATE = threading.local()


def synchronized() -> bool:
    """Whether builders called now should make synchronised BatchNormalization."""
    return getattr(_STATE, "synchronized", False)


@contextlib.contextmanager
def synchronized_batchnorm(enabled: bool = True):
    """Builders called inside make `BatchNormalization(synchronized=enabled)`."""
    previous = synchronized()
    _STATE.synchronized = enabled
    try:
        yield
    finally:
        _STATE.synchronized = previous
