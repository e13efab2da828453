"""Train or test DRNSeg on Cityscapes, or on the synthetic street scenes (default).

    python train/cityscapes.py train                   # synthetic: a few CPU minutes
    python train/cityscapes.py train -d <cityscapes> -c 19 -s 896 --arch drn_d_22 \
        --batch-size 32 --epochs 250 --lr 0.01 --momentum 0.9 --step 100
    python train/cityscapes.py test -d <cityscapes> -c 19 --arch drn_d_22 \
        --pretrained cityscapes --phase val --ms

The flags are fyu/drn segment.py's (same meanings) plus --dataset, --strategy,
--mixed-precision, --jit-compile, --steps-per-epoch, --output-dir, --logdir, --seed;
see docs/training.md and `--help`.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_drn.training.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(
        prog="train/cityscapes.py",
        datasets=("synthetic", "cityscapes", "cityscapes_tfds"),
        default_dataset="synthetic", real_dataset="cityscapes",
        description="Train or test DRNSeg on Cityscapes (or synthetic street scenes).",
    ))
