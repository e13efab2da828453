"""Make a keras-hub preset from the authors' weights, a Keras file or a training run.

    python export/make_preset.py SRC --arch drn_d_22 [--classes 19] [--dataset D] \
        [--head H] --output DIR [--no-parity]

SRC: a .pth/.pth.tar (DRNSeg, or an ImageNet classifier: a DRNBackbone preset), a
.caffemodel (--arch dilation8_camvid, ...), a .weights.h5/.keras file, or a training run
directory (run.json + final.weights.h5). The preset records the source's SHA-256, the
parity with PyTorch and a round-trip check in keras_drn.json, and the command prints how
to upload it (keras_hub.upload_preset). See keras_drn/export/make_preset.py.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# This folder (sys.path[0] when run by path) holds scripts named like packages; the
# checkout root takes its place.
_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0]) == _HERE:
    sys.path[0] = os.path.dirname(_HERE)


def main(argv=None) -> int:
    from keras_drn.export.make_preset import main as make_preset

    return make_preset(argv)


if __name__ == "__main__":
    sys.exit(main())
