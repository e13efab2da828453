"""SGD with PyTorch's momentum rule, as the reference trains with torch.optim.SGD.

Keras folds the learning rate into the velocity (v = m v - lr g; w += v), PyTorch
applies it after (b = m b + g; w -= lr b). The two agree while the rate is constant and
differ after every change of the schedule (fyu/drn changes it each epoch), so
reproducing the reference's recipes step for step needs PyTorch's rule.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_drn.training.errors import ParameterError


@keras.saving.register_keras_serializable(package="keras_drn")
class TorchSGD(keras.optimizers.Optimizer):
    """`torch.optim.SGD(params, lr, momentum, dampening=0, nesterov=False)`.

    Weight decay is left to the caller (the trainer adds the reference's coupled L2 to
    the loss, which gives the same gradient as torch's `weight_decay`).
    """

    def __init__(self, learning_rate=0.01, momentum=0.9, name="torch_sgd", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0.0 <= momentum < 1.0:
            raise ParameterError(
                f"Invalid momentum={momentum!r}: expected 0 <= momentum < 1.", "momentum")
        self.momentum = float(momentum)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.buffers = [
            self.add_variable_from_reference(v, name="momentum_buffer") for v in variables
        ]

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        if self.momentum:
            buffer = self.buffers[self._get_variable_index(variable)]
            self.assign(buffer, ops.add(ops.multiply(buffer, self.momentum), gradient))
            gradient = buffer
        self.assign_sub(variable, ops.multiply(gradient, lr))

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum)
        return config
