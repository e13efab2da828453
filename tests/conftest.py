"""Shared test set-up: quiet TensorFlow, a fixed seed, and the torch reference."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed():
    import keras

    keras.utils.set_random_seed(0)


@pytest.fixture(autouse=True, scope="module")
def _fresh_keras_state():
    # clear_session runs a full garbage collection (~0.15 s): once per module, not per
    # test, keeps memory bounded without adding a minute to the suite.
    yield
    import keras

    keras.backend.clear_session()


@pytest.fixture
def torch_reference():
    """The PyTorch port of the reference networks (`keras_drn.reference`), seeded;
    the test is skipped where torch is not installed."""
    pytest.importorskip("torch")
    import torch

    from keras_drn import reference

    torch.manual_seed(0)
    torch.set_num_threads(2)
    return reference
