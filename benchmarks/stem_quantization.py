"""Does the space-to-depth stem change what quantisation does? Argmax agreement of the
int8 and dynamic TFLite exports with the float32 export, with the stem in
space-to-depth form (the default) and left direct (`lean_stem=False`).

    python benchmarks/stem_quantization.py ARCH WEIGHTS [--size 256x512] [--scenes 4]

WEIGHTS: DRNSeg weights (e.g. W/drn_c_26/final.weights.h5 from the README's benchmark
commands). Scenes: synthetic validation scenes (keras_drn.export.calibration).
Writes benchmarks/results/stem_quantization_ARCH.md.
"""

import argparse
import os
import sys

from keras_drn.cli.quiet import import_tensorflow

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("arch")
    parser.add_argument("weights")
    parser.add_argument("--size", default="256x512")
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--calibration", type=int, default=8)
    args = parser.parse_args(argv)
    import_tensorflow()
    import numpy as np

    from keras_drn.export import convert_to_tflite
    from keras_drn.export import representative_images
    from keras_drn.export.runtime import LiteRTSegmenter
    from keras_drn.models import build_drnseg
    from keras_drn.weights.resolve import load_resolved
    from keras_drn.weights.resolve import resolve_weights

    size = tuple(int(v) for v in args.size.split("x"))
    model = build_drnseg(args.arch, 19, dataset="cityscapes")
    load_resolved(model, resolve_weights(args.weights, f"drnseg_{args.arch}"),
                  arch=args.arch, kind="segmentation", model_key=f"drnseg_{args.arch}")
    images = list(representative_images(size, count=args.scenes, purpose="validation")())

    def labels(content):
        runner = LiteRTSegmenter(content, num_threads=2)
        return np.stack([runner(image).argmax(-1) for image in images])

    reference = labels(convert_to_tflite(model, size, quantize="none", lean_stem=False))
    lines = [f"{args.arch} from {args.weights}, {args.scenes} synthetic validation "
             f"scenes of {size[0]}x{size[1]}, {args.calibration} calibration images; "
             "argmax agreement with the float32 export (stem left direct)", "",
             "| export | space-to-depth stem | direct stem |", "|---|---|---|"]
    calibration_images = representative_images(size, count=args.calibration)
    for quantize in ("int8", "dynamic"):
        cells = []
        calibration = calibration_images if quantize == "int8" else None
        for lean in (True, False):
            content = convert_to_tflite(model, size, quantize=quantize, lean_stem=lean,
                                        representative_images=calibration)
            cells.append(f"{100 * float(np.mean(labels(content) == reference)):.2f}%")
        lines.append(f"| {quantize} | {cells[0]} | {cells[1]} |")
    lines += ["", "Command: python benchmarks/stem_quantization.py "
              + " ".join(argv or sys.argv[1:]), ""]
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(HERE, "results", f"stem_quantization_{args.arch}.md"),
              "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
