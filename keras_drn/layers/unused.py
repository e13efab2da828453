"""A pass-through layer that owns weights the reference builds but never uses."""

from __future__ import annotations

import keras

from keras_drn.layers.conv import BN_EPSILON
from keras_drn.layers.conv import BN_MOMENTUM
from keras_drn.layers.conv import he_fan_out


@keras.saving.register_keras_serializable(package="keras_drn")
class UnusedProjection(keras.layers.Layer):
    """Holds a 1x1 projection (conv + BN) whose output the reference discards.

    DRN-C-58's level 7 starts with a BasicBlock from 2048 to 512 channels, so
    `_make_layer` builds a downsample branch (`layer7.0.downsample`), but the block has
    `residual=False` and drops its result (drn.py:58-61). The weights are part of the
    official checkpoint and of the parameter count (41,591,608), so they must exist;
    computing a projection only to throw it away would waste a 2048x512 convolution.
    This layer returns its input unchanged and carries `conv` and `bn` as sublayers.
    """

    def __init__(self, filters, strides=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.strides = strides
        self.conv = keras.layers.Conv2D(
            filters,
            1,
            strides=strides,
            use_bias=False,
            kernel_initializer=he_fan_out(),
            name="conv",
        )
        self.bn = keras.layers.BatchNormalization(
            epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name="bn"
        )

    def build(self, input_shape):
        self.conv.build(input_shape)
        self.bn.build(tuple(input_shape[:-1]) + (self.filters,))

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, strides=self.strides)
        return config
