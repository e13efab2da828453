"""Train or test DRNSeg on Cityscapes, or on the synthetic street scenes (default).

    python train/cityscapes.py train                   # synthetic: a few CPU minutes
    python train/cityscapes.py train -d <cityscapes> -c 19 -s 896 --arch drn_d_22 \
        --batch-size 32 --epochs 250 --lr 0.01 --momentum 0.9 --step 100
    python train/cityscapes.py test -d <cityscapes> -c 19 --arch drn_d_22 \
        --pretrained cityscapes --phase val --ms

The same program as `keras-drn-cityscapes` (keras_drn.cli.train). The flags are fyu/drn
segment.py's (same meanings) plus ours; see docs/training.md and `--help`.
"""

import sys

from keras_drn.cli.train import cityscapes

if __name__ == "__main__":
    sys.exit(cityscapes(prog="train/cityscapes.py"))
