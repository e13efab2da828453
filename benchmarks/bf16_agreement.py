"""bfloat16 inference against float32 on trained weights: argmax agreement.

    python benchmarks/bf16_agreement.py RUN_OR_PRESET [--scenes 20] [--size 256x512]

Measured on the main job's run (runs/drn_d_22_synthetic, 28.1% mIoU):
benchmarks/results/bf16_agreement.md.

RUN_OR_PRESET: a preset directory, or a training run's folder holding `preset/` (what
`python train/cityscapes.py train` leaves in runs/drn_d_22_synthetic/). The segmenter
is loaded from it; `keras_drn.export.precision.bfloat16_segmenter` makes its bfloat16
copies: the default split (the dilated stages' convolutions in bfloat16, the rest
float32) and,
for comparison, every convolution in bfloat16 (`stride=1`). All label the same
synthetic validation scenes (seeds from keras_drn.export.calibration.VALIDATION_SEED,
which training never sees). Prints, for each copy, the share of pixels with the
float32 labels (over all pixels, and per scene: min, median), the median and 99th
percentile of the absolute logit difference, and the median time of --runs calls
beside float32's (interleaved, one process), and writes it to --output.
"""

import argparse
import os
import sys
import time

from keras_drn.cli.quiet import import_tensorflow


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("preset")
    parser.add_argument("--scenes", type=int, default=20)
    parser.add_argument("--size", default="256x512")
    parser.add_argument("--runs", type=int, default=7, help="timed calls per model.")
    parser.add_argument("--first-scene", type=int, default=0,
                        help="skip this many validation scenes (a held-out set).")
    parser.add_argument("--output", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results", "bf16_agreement.md"))
    args = parser.parse_args(argv)
    import_tensorflow()
    import numpy as np

    import keras_drn
    from keras_drn.export.calibration import representative_images
    from keras_drn.export.precision import bfloat16_segmenter
    from keras_drn.export.precision import cpu_has_bfloat16

    preset = args.preset
    if os.path.isdir(os.path.join(preset, "preset")):
        preset = os.path.join(preset, "preset")
    model = keras_drn.DRNImageSegmenter.from_preset(preset)
    copies = {"bfloat16 in the dilated stages (default)": bfloat16_segmenter(model),
              "bfloat16, every convolution": bfloat16_segmenter(model, stride=1)}
    h, w = (int(v) for v in args.size.split("x"))
    images = list(representative_images((h, w), count=args.scenes, purpose="validation",
                                        seed=args.first_scene)())
    reference = [np.asarray(model.predict(image[None], verbose=0)) for image in images]
    lines = [
        f"bfloat16 vs float32, {model.name} from {args.preset}, {args.scenes} synthetic "
        f"validation scenes (from number {args.first_scene}) of {h}x{w}, CPU bfloat16: "
        f"{cpu_has_bfloat16()}",
        "",
        "| model | labels equal, all pixels | per scene min / median | logit diff "
        "median / p99 | median ms (spread) | speed vs float32 |",
        "|---|---|---|---|---|---|",
    ]
    times = {name: [] for name in ["float32", *copies]}
    runners = {"float32": model, **copies}
    x = images[0][None]
    for runner in runners.values():
        runner.predict(x, verbose=0)  # trace
    for _ in range(args.runs):  # interleaved, so that load changes hit all alike
        for name, runner in runners.items():
            start = time.perf_counter()
            runner.predict(x, verbose=0)
            times[name].append(1000 * (time.perf_counter() - start))
    base = float(np.median(times["float32"]))
    lines.append(f"| float32 | 100% | | | {base:.0f} ({min(times['float32']):.0f}-"
                 f"{max(times['float32']):.0f}) | 1.00x |")
    for name, fast in copies.items():
        shares, diffs, equal, total = [], [], 0, 0
        for image, ref in zip(images, reference):
            out = np.asarray(fast.predict(image[None], verbose=0))
            same = int((out.argmax(-1) == ref.argmax(-1)).sum())
            shares.append(same / ref[..., 0].size)
            diffs.append(np.abs(out - ref).ravel())
            equal += same
            total += ref[..., 0].size
        diffs = np.concatenate(diffs)
        median = float(np.median(times[name]))
        lines.append(
            f"| {name} | {100 * equal / total:.3f}% | {100 * min(shares):.3f}% / "
            f"{100 * float(np.median(shares)):.3f}% | {np.median(diffs):.4f} / "
            f"{np.quantile(diffs, 0.99):.4f} | {median:.0f} ({min(times[name]):.0f}-"
            f"{max(times[name]):.0f}) | {base / median:.2f}x |")
    command = " ".join(argv or sys.argv[1:])
    lines += ["", f"Command: python benchmarks/bf16_agreement.py {command}", ""]
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
