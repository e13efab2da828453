"""Class activation map of a DRN classifier for an image, from the command line.

    python -m keras_drn.visualize.cam IMAGE --arch drn_c_26 [--weights imagenet|none]
        [--class 281] [--size 224] [--threshold 0.5] [--output DIR]

Writes <name>_cam.png (the map at the image's size) and <name>_cam_overlay.png (the map
over the image, with the localisation box). See `keras_drn.visualize.localization`.
"""

from __future__ import annotations

from keras_drn.cli.quiet import import_tensorflow

# This command imports TensorFlow (through keras_drn.inference and friends);
# import it first with its start-up lines kept off the terminal.
import_tensorflow()

import argparse
import sys
from pathlib import Path

import numpy as np

from keras_drn.visualize.localization import cam_bounding_box
from keras_drn.visualize.localization import cam_pictures
from keras_drn.visualize.localization import class_activation_map


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m keras_drn.visualize.cam",
        description="Class activation map of a DRN classifier (DRN paper, Sec. 5).",
    )
    parser.add_argument("image", help="an image file")
    parser.add_argument("--arch", default="drn_c_26", help="DRN classifier (drn_c_26)")
    parser.add_argument("--weights", default="imagenet",
                        help="imagenet, a checkpoint path, or none (random)")
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--class", dest="class_index", type=int,
                        help="class index (default: the top-scoring class)")
    parser.add_argument("--size", type=int,
                        help="resize the image's shorter side to SIZE first")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="box threshold, a fraction of the peak")
    parser.add_argument("--output", default=".", help="output folder")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from PIL import Image

    from keras_drn.applications import DRN
    from keras_drn.inference.outputs import read_image
    from keras_drn.inference.outputs import save_png

    try:
        image = read_image(args.image)
        if args.size:
            h, w = image.shape[:2]
            s = args.size / min(h, w)
            image = np.asarray(Image.fromarray(image).resize(
                (max(8, round(w * s)), max(8, round(h * s))), Image.BICUBIC))
        weights = None if str(args.weights).lower() == "none" else args.weights
        model = DRN(args.arch, weights=weights, classes=args.classes,
                    classifier_activation=None)
        cam, index = class_activation_map(model, image, args.class_index)
        box = cam_bounding_box(cam, args.threshold, image_size=image.shape[:2])
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    heat, over = cam_pictures(image, cam, box=box)
    out = Path(args.output)
    name = Path(args.image).stem
    save_png(heat, out / f"{name}_cam.png")
    save_png(over, out / f"{name}_cam_overlay.png")
    print(f"class {index}: map {cam.shape[0]}x{cam.shape[1]}, box {box}; wrote "
          f"{out / (name + '_cam.png')}, {out / (name + '_cam_overlay.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
