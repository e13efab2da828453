"""Layers of a model with nested models (a segmenter's backbone) flattened.

keras-hub segmenters hold their backbone as one nested layer; weight maps, FLOP counts
and graph checks want the leaf layers, whose names are unique across the whole model.
"""

from __future__ import annotations

import keras


def leaf_layers(model):
    """Every non-model layer of `model`, depth first, nested models expanded."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer)
        else:
            yield layer


def find_layer(model, name: str):
    """The leaf layer called `name` anywhere in `model` (nested models included).

    Args:
        model: a Keras model.
        name: the layer's name.

    Returns:
        The layer.

    Raises:
        ValueError: no such layer; the message names the model.
    """
    for layer in leaf_layers(model):
        if layer.name == name:
            return layer
    raise ValueError(f"No layer named {name!r} in {model.name}.")


def has_layer(model, name: str) -> bool:
    """Whether any leaf layer of `model` (nested models included) is called `name`."""
    return any(layer.name == name for layer in leaf_layers(model))
