"""Train or test on PASCAL VOC 2012 (with SBD's augmented set when present): DRNSeg,
or the ICLR 2016 Dilation front end and context module (`--model dilation`).

    python train/pascal_voc.py train -d <VOCdevkit> -c 21 -s 512 --arch drn_d_38 \
        --batch-size 16 --epochs 50 --lr 0.01 --lr-mode poly
    # fyu/dilation docs/training.md, three stages (each has the recipe's defaults):
    python train/pascal_voc.py train -d <VOCdevkit> --model dilation --stage frontend \
        --pretrained vgg_conv.caffemodel --output-dir runs/frontend
    python train/pascal_voc.py train -d <VOCdevkit> --model dilation --stage context \
        --pretrained runs/frontend/final.weights.h5 --output-dir runs/context
    python train/pascal_voc.py train -d <VOCdevkit> --model dilation --stage joint \
        --pretrained runs/context/final.weights.h5 --output-dir runs/joint

The same program as `keras-drn-pascal-voc` (keras_drn.cli.train); flags: `--help` and
docs/training.md.
"""

import sys

from keras_drn.cli.train import pascal_voc

if __name__ == "__main__":
    sys.exit(pascal_voc(prog="train/pascal_voc.py"))
