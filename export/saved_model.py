"""Export a DRNSeg model as a TensorFlow SavedModel (TensorFlow Serving, tf.saved_model).

    python export/saved_model.py --arch drn_d_22 --classes 19 --weights W --output DIR

Signatures: `serving_default` (uint8 RGB `images` [N, H, W, 3] of any size -> int32
`labels` [N, H, W] and float32 `probabilities` [N, H, W, C]), `serving_bytes` (encoded
PNG/JPEG `image_bytes` [N] -> the same) and `serving_logits` (`images` -> `logits`). The
model's dataset's mean/std (the weights' dataset unless --dataset) are applied inside;
`assets.extra/keras_drn.json` records the classes, class names, head and normalisation.
Check it with `saved_model_cli show --dir DIR --all`. `--precision bfloat16` computes
the convolutions in bfloat16 (for CPUs with AVX512_BF16 or AMX; float32 variables and
outputs).
"""

import sys

from keras_drn.cli.export_saved_model import main

if __name__ == "__main__":
    sys.exit(main())
