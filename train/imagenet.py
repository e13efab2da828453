"""Train or evaluate a DRN classifier on ImageNet, with fyu/drn classify.py's recipe
(SGD 0.1, momentum 0.9, weight decay 1e-4, batch 256, x0.1 every 30 epochs,
RandomSizedCrop 224 + flip; validation: resize 256, centre crop 224).

    python train/imagenet.py train -d <imagenet> --arch drn_d_22 --epochs 120
    python train/imagenet.py train --dataset imagenet_tfds --manual-dir <tars> ...
    python train/imagenet.py test -d <imagenet> --arch drn_d_22 --pretrained imagenet

<imagenet> holds train/<class>/*.JPEG and val/<class>/*.JPEG (ImageFolder). The same
program as `keras-drn-imagenet` (keras_drn.cli.train), with the segmentation commands'
system and output flags; see `--help`.
"""

import sys

from keras_drn.cli.train import imagenet

if __name__ == "__main__":
    sys.exit(imagenet(prog="train/imagenet.py"))
