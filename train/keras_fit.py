"""Train a small DRNSeg with plain Keras: `compile()` and `fit()` on synthetic streets.

    python train/keras_fit.py [--arch drn_d_22] [--width 0.5] [--size 96] \
        [--images 64] [--epochs 8] [--batch-size 8] [--lr 0.01]

The same program as `keras-drn-keras-fit` (keras_drn.cli.keras_fit). For the full
training loop (distribution, checkpoints, recipes) see train/cityscapes.py and
docs/training.md.
"""

import sys

from keras_drn.cli.keras_fit import main

if __name__ == "__main__":
    sys.exit(main(prog="train/keras_fit.py"))
