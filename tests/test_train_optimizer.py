"""TorchSGD against torch.optim.SGD, through learning-rate changes."""

import keras
import numpy as np
import pytest

from keras_drn.training.optimizers import TorchSGD


@pytest.mark.parametrize("momentum", [0.9, 0.0])
def test_matches_torch_sgd_when_the_rate_changes(momentum, rng):
    torch = pytest.importorskip("torch")
    w0 = rng.standard_normal((5, 3)).astype("float32")
    grads = rng.standard_normal((6, 5, 3)).astype("float32")
    rates = [0.1, 0.1, 0.01, 0.01, 0.5, 0.001]  # the schedule jumps twice

    tw = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    topt = torch.optim.SGD([tw], lr=rates[0], momentum=momentum)
    kw = keras.Variable(w0.copy())
    lr = keras.Variable(rates[0])
    kopt = TorchSGD(learning_rate=lambda: lr.value, momentum=momentum)
    for g, rate in zip(grads, rates):
        for group in topt.param_groups:
            group["lr"] = rate
        tw.grad = torch.from_numpy(g.copy())
        topt.step()
        lr.assign(rate)
        kopt.apply([keras.ops.convert_to_tensor(g)], [kw])
    np.testing.assert_allclose(np.asarray(kw), tw.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_differs_from_keras_sgd_after_a_rate_change(rng):
    # The reason this optimizer exists: Keras' rule gives another trajectory.
    w0 = rng.standard_normal((4,)).astype("float32")
    g = np.ones(4, "float32")
    results = []
    for cls in (TorchSGD, keras.optimizers.SGD):
        w = keras.Variable(w0.copy())
        lr = keras.Variable(0.1)
        opt = cls(learning_rate=lambda lr=lr: lr.value, momentum=0.9)
        for rate in (0.1, 0.01):
            lr.assign(rate)
            opt.apply([keras.ops.convert_to_tensor(g)], [w])
        results.append(np.asarray(w))
    assert np.abs(results[0] - results[1]).max() > 1e-3


def test_invalid_momentum():
    with pytest.raises(ValueError, match="momentum=1.5"):
        TorchSGD(momentum=1.5)
