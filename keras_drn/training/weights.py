"""The training package's weights arguments, interpreted by `keras_drn.weights.resolve`.

`TrainConfig.pretrained` and `TrainConfig.backbone_weights` (and test mode's
`resume` file) mean what `weights=` means everywhere in keras_drn: a registry name, a
keras-hub preset, or a weights file. Errors are `ParameterError`s naming the setting
(`pretrained=...`); the command lines report them with their flags.
"""

from __future__ import annotations

from keras_drn.training.errors import ParameterError
from keras_drn.weights.resolve import ResolvedWeights
from keras_drn.weights.resolve import resolve_weights


def resolve_training_weights(weights, model_key: str, *, what: str,
                             field: str) -> ResolvedWeights:
    """`resolve_weights` for the setting `field` ("pretrained", "backbone_weights",
    "resume").

    Args:
        weights: the setting's value.
        model_key: the registry key of the model ("drnseg_drn_d_22", ...).
        what: the model, for messages.
        field: the setting's name, for messages.

    Returns:
        A `keras_drn.weights.resolve.ResolvedWeights`.

    Raises:
        ParameterError: `weights` is no registry name of `model_key`, no preset and
            no existing file; the message names `field`.
    """
    try:
        return resolve_weights(weights, model_key, what=what, argument=field)
    except ParameterError:
        raise
    except ValueError as error:
        raise ParameterError(str(error), field) from None


def load_segmenter_weights(model, weights, *, arch: str, width: float = 1.0,
                           field: str = "pretrained") -> None:
    """Loads `weights` for the whole DRNSeg `model` (all or nothing, by layer name and
    shape): a released name of `arch` ("cityscapes"), a preset, or a file.

    Args:
        model: the `DRNImageSegmenter` to load.
        weights: the setting's value.
        arch: the DRN architecture ("drn_d_22").
        width: the model's width (released weights are of width 1).
        field: the setting, for messages ("pretrained", "resume").

    Raises:
        ParameterError: the weights are unknown, missing, or of width 1 for a
            narrower model; the message names `field`.
        ValueError: the weights are of another architecture (the first differing
            layer is named).
    """
    from keras_drn.models.drn import normalize_arch
    from keras_drn.weights.resolve import load_resolved

    key = normalize_arch(arch)
    model_key = f"drnseg_{key}"
    resolved = resolve_training_weights(weights, model_key, what=model.name,
                                        field=field)
    if resolved.kind == "named" and width != 1.0:
        raise ParameterError(
            f"Invalid {field}={weights!r} with width={width:g}: the released weights "
            f"are of width 1. Use width=1, or pass a file or preset of a width-"
            f"{width:g} run.", field, "width")
    load_resolved(model, resolved, arch=key, kind="segmentation", model_key=model_key)
