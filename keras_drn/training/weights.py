"""The training package's weights arguments, interpreted by `keras_drn.weights.resolve`.

`TrainConfig.pretrained` and `TrainConfig.backbone_weights` (and test mode's
`--resume` file) mean what `weights=` means everywhere in keras_drn: a registry name, a
keras-hub preset, or a weights file. Errors name the TrainConfig field and, for the
command lines, the flag that sets it.
"""

from __future__ import annotations

from keras_drn.weights.resolve import ResolvedWeights
from keras_drn.weights.resolve import resolve_weights

# TrainConfig field (or test-mode argument) -> the command lines' flag.
FLAGS = {
    "pretrained": "--pretrained",
    "backbone_weights": "--backbone-weights",
    "resume": "--resume",
}


def resolve_training_weights(weights, model_key: str, *, what: str,
                             field: str) -> ResolvedWeights:
    """`resolve_weights` for the setting `field` ("pretrained", "backbone_weights",
    "resume"); an error message names the field and its command-line flag.

    Raises:
        ValueError: `weights` is no registry name of `model_key`, no preset and no
            existing file.
    """
    try:
        return resolve_weights(weights, model_key, what=what, argument=field)
    except ValueError as error:
        flag = FLAGS.get(field)
        if flag is None:
            raise
        raise ValueError(f"{error} (On the command line: {flag}.)") from None


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
        ValueError: the weights are unknown, missing, of width 1 for a narrower model,
            or of another architecture.
    """
    from keras_drn.models.drn import normalize_arch
    from keras_drn.weights.resolve import load_resolved

    key = normalize_arch(arch)
    model_key = f"drnseg_{key}"
    resolved = resolve_training_weights(weights, model_key, what=model.name,
                                        field=field)
    if resolved.kind == "named" and width != 1.0:
        raise ValueError(
            f"Invalid {field}={weights!r} with width={width:g}: the released weights "
            f"are of width 1. Use width 1 (--width 1), or pass a file or preset of a "
            f"width-{width:g} run."
        )
    load_resolved(model, resolved, arch=key, kind="segmentation", model_key=model_key)
