"""Train a small DRNSeg with plain Keras: `compile()` and `fit()` on synthetic streets.

    python train/keras_fit.py [--arch drn_d_22] [--width 0.5] [--size 96] \
        [--images 64] [--epochs 8] [--batch-size 8] [--lr 0.01]

The segmenter takes uint8 images (its preprocessor normalises them with the Cityscapes
statistics) and Cityscapes train ids (255 ignored), as `keras_drn.DRNImageSegmenter`'s
`compile()` defaults expect: SGD with momentum, a cross-entropy that ignores 255, the
mean IoU and the pixel accuracy. Scenes come from `keras_drn.data.synthetic`; the
validation scenes are others than the training ones. For the full training loop
(distribution, checkpoints, recipes) see train/cityscapes.py and docs/training.md.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", default="drn_d_22")
    parser.add_argument("--width", type=float, default=0.5,
                        help="channel multiplier of the backbone (default 0.5)")
    parser.add_argument("--size", type=int, default=96, help="square image side")
    parser.add_argument("--images", type=int, default=64, help="training scenes")
    parser.add_argument("--val-images", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=None,
                        help="SGD learning rate (default: compile()'s, 0.01)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def scenes(first: int, count: int, size: int):
    """(uint8 images, uint8 train ids) of `count` synthetic scenes."""
    import numpy as np

    from keras_drn.data.synthetic import render_scene

    pairs = [render_scene(first + i, size, size) for i in range(count)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def main(argv=None) -> int:
    args = parse_args(argv)
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
          f"lr {args.lr if args.lr is not None else 'compile() default (0.01)'}")
    import tensorflow as tf

    # A dataset shuffled every epoch: keras-hub models batch numpy inputs themselves
    # and ignore fit's `shuffle=True` for them.
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(
        len(x), seed=args.seed, reshuffle_each_iteration=True).batch(args.batch_size)
    validation = tf.data.Dataset.from_tensor_slices(val).batch(args.batch_size)
    start = time.perf_counter()
    history = segmenter.fit(train, epochs=args.epochs, validation_data=validation,
                            shuffle=False, verbose=0)  # `train` shuffles itself
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
