"""Make a keras-hub preset from the authors' weights, a Keras file or a training run.

    python export/make_preset.py SRC --arch drn_d_22 [--classes 19] [--dataset D] \
        [--head H] --output DIR [--no-parity]

The same program as the console script `keras-drn-preset` (keras_drn/cli/preset.py;
the library is keras_drn/presets_build.py); `--help` lists the options.
"""

import sys

from keras_drn.cli.preset import main

if __name__ == "__main__":
    sys.exit(main())
