"""Export a DRNSeg model to TFLite (LiteRT).

    python export/tflite.py --arch drn_d_22 --classes 19 --weights W \
        --input-size 512x1024 --quantize int8 --output drn_d_22_int8.tflite

The model takes uint8 RGB [1, H, W, 3] and normalises inside; it returns float32 logits
[1, H, W, C] (--outputs logits) or a uint8 label map [1, H, W] (--outputs labels: argmax
and upsampling inside). --quantize: none (float32), float16, dynamic (int8 weights), int8
(full integer, calibrated on synthetic scenes or --data-dir). Every dilated convolution
is a native dilated CONV_2D; the script checks the op list and fails otherwise. With
mediapipe installed the model also carries the standard TFLite metadata (image input,
segmentation output, the class names as labels.txt), which MediaPipe's ImageSegmenter
reads. --report adds parity against Keras and latency beside Keras' (see
export/report.py for every artifact at once).
"""

import sys

from keras_drn.cli.export_tflite import main

if __name__ == "__main__":
    sys.exit(main())
