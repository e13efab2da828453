"""The gridding study: feature maps of DRN-A and DRN-C on the same image.

The DRN paper (Sec. 4, its figure of activation maps) shows that dilation makes
grid-like artifacts: a dilated 3x3 convolution with dilation d reads every d-th pixel,
so its output can alternate with period d. DRN-A (a ResNet with dilated levels 3-4)
shows them; DRN-B/C add levels 7-8 with dilation 2 and 1 and (C) drop their residual
connections, which removes them ("degridding").

This script writes, for every model and every level at stride 8, the channel-averaged
activation as a PNG (each feature cell a block of 8x8 pixels, so a grid stays visible),
and one figure `gridding.png` with a row per model. It also measures the artifacts:
`gridding_energy` is the share of a map's spectral energy (mean removed) at the
frequencies of period-2 and period-4 patterns, where a smooth image puts little.

    python -m keras_drn.visualize.gridding --output DIR [--image PATH]
        [--models drn_a_50,drn_c_26] [--weights imagenet|none] [--size 224]

With --weights none the networks are random: the pictures then show the structure
dilation imposes, not learned features. The paper compares DRN-A-18, DRN-B-26 and
DRN-C-26; the released ImageNet weights cover DRN-A-50 and DRN-C-26, the default here.
"""

from __future__ import annotations

from keras_drn.cli.quiet import import_tensorflow

# This command imports TensorFlow (through keras_drn.inference and friends);
# import it first with its start-up lines kept off the terminal.
import_tensorflow()

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from keras_drn.models.drn import normalize_arch
from keras_drn.visualize.colormap import apply_colormap
from keras_drn.visualize.colormap import normalize_map
from keras_drn.visualize.colormap import resize_map
from keras_drn.visualize.features import demo_image
from keras_drn.visualize.features import gridding_energy
from keras_drn.visualize.features import level_features
from keras_drn.visualize.features import stride8_levels

DEFAULT_MODELS = ("drn_a_50", "drn_c_26")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m keras_drn.visualize.gridding",
        description="Feature maps of DRN-A vs DRN-C on one image (gridding artifacts).",
    )
    parser.add_argument("--output", required=True, help="output folder")
    parser.add_argument("--image", help="an image (default: a synthetic scene)")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS),
                        help="comma-separated DRN archs (default drn_a_50,drn_c_26)")
    parser.add_argument("--weights", default="imagenet",
                        help="imagenet or none (random weights)")
    parser.add_argument("--size", type=int, default=224,
                        help="the image is resized to SIZE x SIZE (default 224)")
    return parser


def run(models: Sequence[str], image: np.ndarray, output, *, weights=None
        ) -> dict[str, dict[str, float]]:
    """Writes the pictures for `models` on `image` (square, RGB uint8); returns
    {arch: {level: gridding energy}}."""
    from keras_drn.applications import DRN
    from keras_drn.evaluation.report import write_text_atomic
    from keras_drn.inference.outputs import save_png
    from keras_drn.visualize.plots import new_figure
    from keras_drn.visualize.plots import save_figure

    output = Path(output)
    size = image.shape[0]
    rows = []
    scores: dict[str, dict[str, float]] = {}
    for arch in models:
        arch = normalize_arch(arch)
        model = DRN(arch, include_top=False, weights=weights, input_shape=(size, size, 3))
        features = level_features(model, arch, image)
        levels = stride8_levels(features, size)
        pictures = []
        scores[arch] = {}
        for level in levels:
            mean_map = features[level].mean(-1)
            scores[arch][level] = gridding_energy(features[level])
            picture = apply_colormap(normalize_map(
                resize_map(mean_map, (size, size), nearest=True)), "viridis")
            save_png(picture, output / f"{arch}_{level}.png")
            pictures.append((level, picture))
        rows.append((arch, pictures))
        keras.backend.clear_session()
    columns = 1 + max(len(p) for _, p in rows)
    figure = new_figure(2.2 * columns, 2.4 * len(rows))
    for r, (arch, pictures) in enumerate(rows):
        axes = figure.add_subplot(len(rows), columns, r * columns + 1)
        axes.imshow(image)
        axes.set_title(arch, fontsize=9)
        axes.axis("off")
        for c, (level, picture) in enumerate(pictures, start=2):
            axes = figure.add_subplot(len(rows), columns, r * columns + c)
            axes.imshow(picture)
            axes.set_title(f"{level}: {100 * scores[arch][level]:.1f}%", fontsize=8)
            axes.axis("off")
    figure.suptitle("Mean activation per level (stride 8); % = gridding energy",
                    fontsize=9)
    figure.tight_layout()
    save_figure(figure, output / "gridding.png")
    write_text_atomic(output / "gridding_energy.json", json.dumps(scores, indent=2) + "\n")
    return scores


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from PIL import Image

    from keras_drn.inference.outputs import read_image

    try:
        if args.image:
            image = read_image(args.image)
            image = np.asarray(Image.fromarray(image).resize((args.size, args.size),
                                                             Image.BICUBIC))
        else:
            image = demo_image(args.size)
        weights = None if str(args.weights).lower() == "none" else args.weights
        models = [m for m in args.models.split(",") if m.strip()]
        scores = run(models, image, args.output, weights=weights)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for arch, levels in scores.items():
        cells = ", ".join(f"{k} {100 * v:.1f}%" for k, v in levels.items())
        print(f"{arch}: gridding energy {cells}")
    print(f"wrote {Path(args.output) / 'gridding.png'} and one PNG per level")
    return 0


if __name__ == "__main__":
    sys.exit(main())
