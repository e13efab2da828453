"""bfloat16 inference against float32 on trained weights: argmax agreement.

    python benchmarks/bf16_agreement.py RUN_OR_PRESET [--scenes 20] [--size 256x512]

Measured on the main job's run (runs/drn_d_22_synthetic, 28.1% mIoU):
benchmarks/results/bf16_agreement.md.

RUN_OR_PRESET: a preset directory, or a training run's folder holding `preset/` (what
`python train/cityscapes.py train` leaves in runs/drn_d_22_synthetic/). The segmenter
is loaded from it; `keras_drn.export.precision.bfloat16_segmenter` makes its
mixed_bfloat16 copy; both label the same synthetic validation scenes (seeds from
keras_drn.export.calibration.VALIDATION_SEED, which training never sees). Prints the
share of pixels with equal labels, per scene (min, median) and over all pixels, and
writes it to --output.
"""

import argparse
import os
import sys

from keras_drn.cli.quiet import import_tensorflow


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("preset")
    parser.add_argument("--scenes", type=int, default=20)
    parser.add_argument("--size", default="256x512")
    parser.add_argument("--output", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results", "bf16_agreement.md"))
    args = parser.parse_args(argv)
    import_tensorflow()
    import numpy as np

    import keras_drn
    from keras_drn.export.calibration import VALIDATION_SEED
    from keras_drn.export.calibration import synthetic_images
    from keras_drn.export.precision import bfloat16_segmenter
    from keras_drn.export.precision import cpu_has_bfloat16

    preset = args.preset
    if os.path.isdir(os.path.join(preset, "preset")):
        preset = os.path.join(preset, "preset")
    model = keras_drn.DRNImageSegmenter.from_preset(preset)
    fast = bfloat16_segmenter(model)
    h, w = (int(v) for v in args.size.split("x"))
    shares, equal, total = [], 0, 0
    for image in synthetic_images(args.scenes, (h, w), seed=VALIDATION_SEED):
        a = model.predict_labels(image[None], verbose=0)
        b = fast.predict_labels(image[None], verbose=0)
        same = int((np.asarray(a) == np.asarray(b)).sum())
        shares.append(same / a.size)
        equal += same
        total += a.size
    lines = [
        f"bfloat16 vs float32 labels, {model.name} from {args.preset}, "
        f"{args.scenes} synthetic validation scenes of {h}x{w}, CPU bfloat16: "
        f"{cpu_has_bfloat16()}",
        "",
        f"- all pixels: {100 * equal / total:.3f}% equal",
        f"- per scene: min {100 * min(shares):.3f}%, median "
        f"{100 * float(np.median(shares)):.3f}%, max {100 * max(shares):.3f}%",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
