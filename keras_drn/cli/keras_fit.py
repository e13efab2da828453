"""Train a small DRNSeg with plain Keras: `compile()` and `fit()` on synthetic streets.

    keras-drn-keras-fit [--arch drn_d_22] [--width 0.5] [--size 96] [--images 64] \
        [--epochs 8] [--batch-size 8] [--lr 0.01]

The segmenter takes uint8 images (its preprocessor normalises them with the Cityscapes
statistics) and Cityscapes train ids (255 ignored), as `keras_drn.DRNImageSegmenter`'s
`compile()` defaults expect: SGD with momentum, a cross-entropy that ignores 255, the
mean IoU and the pixel accuracy. Scenes come from `keras_drn.data.synthetic`; the
validation scenes are others than the training ones. Keras' progress bar shows on a
terminal; in a log file each epoch is one plain line. For the full training loop
(distribution, checkpoints, recipes) see keras-drn-cityscapes and docs/training.md.
"""

from __future__ import annotations

import argparse
import sys
import time

from keras_drn.cli.quiet import HelpFormatter
from keras_drn.cli.quiet import import_tensorflow
from keras_drn.cli.quiet import keras_verbosity


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The flags of keras-drn-keras-fit."""
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__.split("\n\n")[0],
        formatter_class=HelpFormatter)
    parser.add_argument("--arch", default="drn_d_22", help="the DRN architecture")
    parser.add_argument("--width", type=float, default=0.5,
                        help="channel multiplier of the backbone")
    parser.add_argument("--size", type=int, default=96, help="square image side")
    parser.add_argument("--images", type=int, default=64, help="training scenes")
    parser.add_argument("--val-images", type=int, default=16, help="validation scenes")
    parser.add_argument("--epochs", type=int, default=8, help="epochs")
    parser.add_argument("--batch-size", type=int, default=8, help="batch size")
    parser.add_argument("--lr", type=float, default=None,
                        help="SGD learning rate (default: compile()'s, 0.01)")
    parser.add_argument("--seed", type=int, default=0, help="the random seed")
    return parser


def scenes(first: int, count: int, size: int):
    """(uint8 images, uint8 train ids) of `count` synthetic scenes from `first` on."""
    import numpy as np

    from keras_drn.data.synthetic import render_scene

    pairs = [render_scene(first + i, size, size) for i in range(count)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def main(argv=None, *, prog: str | None = None) -> int:
    """Trains with `fit()` and prints each epoch's metrics.

    Args:
        argv: the arguments (default: sys.argv[1:]).
        prog: the program name in --help.

    Returns:
        0.
    """
    args = build_parser(prog).parse_args(argv)
    tf = import_tensorflow()
    import keras

    from keras_drn.models import build_drnseg
    from keras_drn.presets import attach_preprocessor

    keras.utils.set_random_seed(args.seed)
    x, y = scenes(0, args.images, args.size)
    val = scenes(10_000, args.val_images, args.size)
    segmenter = build_drnseg(args.arch, 19, width=args.width, dataset="cityscapes",
                             input_shape=(args.size, args.size, 3))
    attach_preprocessor(segmenter)  # uint8 in
    optimizer = "auto" if args.lr is None else keras.optimizers.SGD(
        args.lr, momentum=0.9, weight_decay=1e-4)
    segmenter.compile(optimizer=optimizer)
    print(f"{segmenter.name}: {segmenter.count_params():,} parameters; "
          f"{args.images} training and {args.val_images} validation scenes of "
          f"{args.size}x{args.size}; batch {args.batch_size}; "
          f"lr {args.lr if args.lr is not None else 'compile() default (0.01)'}",
          flush=True)
    # A dataset shuffled every epoch: keras-hub models batch numpy inputs themselves
    # and ignore fit's `shuffle=True` for them.
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(
        len(x), seed=args.seed, reshuffle_each_iteration=True).batch(args.batch_size)
    validation = tf.data.Dataset.from_tensor_slices(val).batch(args.batch_size)
    start = time.perf_counter()
    # verbose=2 off a terminal: one line an epoch, no escape codes (Keras 3.15).
    history = segmenter.fit(train, epochs=args.epochs, validation_data=validation,
                            shuffle=False, verbose=keras_verbosity())
    print(f"{'epoch':>5} {'loss':>8} {'mean_iou':>9} {'pixel_acc':>9} "
          f"{'val_loss':>9} {'val_miou':>9} {'val_acc':>8}")
    h = history.history
    for i in range(args.epochs):
        print(f"{i + 1:>5} {h['loss'][i]:>8.4f} {h['mean_iou'][i]:>9.4f} "
              f"{h['pixel_accuracy'][i]:>9.4f} {h['val_loss'][i]:>9.4f} "
              f"{h['val_mean_iou'][i]:>9.4f} {h['val_pixel_accuracy'][i]:>8.4f}")
    print(f"{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
