"""Convert the authors' weights into a Keras weights file, and show parity with PyTorch.

    python export/convert_weights.py SRC --arch drn_d_22 [--classes 19] \
        --output F.weights.h5

The same program as the console script `keras-drn-convert` (keras_drn/cli/convert.py);
`--help` lists the options.
"""

import sys

from keras_drn.cli.convert import main

if __name__ == "__main__":
    sys.exit(main())
