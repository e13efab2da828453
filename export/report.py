"""Export a DRNSeg model to every format and print parity and latency side by side.

    python export/report.py --arch drn_d_22 --classes 19 --weights W \
        --input-size 512x1024 --output-dir exported/

Writes the SavedModel and the TFLite models (--quantize, default all four) into
--output-dir, then measures, against the Keras model:
- parity on --validation-images images (synthetic by default, --data-dir for real ones):
  max abs logit difference, argmax agreement (targets: float32 >= 99.99%, float16
  >= 99.9%, dynamic and int8 >= 98%), mIoU against Keras' labels;
- latency, each artifact in a fresh process with the same image and threads: warm-up,
  --runs timed runs, median and p90, load time, peak memory;
- for every TFLite model, whether TFLite's GPU delegate takes it
  (tf.lite.experimental.Analyzer, gpu_compatibility=True), and its standard metadata
  (MediaPipe's image segmenter schema, the label file).
Tables are printed in Markdown; --json writes every figure.
"""

import sys

from keras_drn.cli.report import main

if __name__ == "__main__":
    sys.exit(main())
