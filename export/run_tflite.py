"""Segment an image with an exported TFLite model on LiteRT and write the colourised
labels.

    python export/run_tflite.py IMAGE --model F.tflite --output OUT.png

Runs on `ai_edge_litert` (the LiteRT interpreter, XNNPACK on CPU). The image must have
the model's input size and three channels (RGB); --resize scales it to the model's size
and the labels back to the image's (nearest neighbour), --convert-rgb turns grey or RGBA
images into RGB. Colours come from the model's dataset (stored in the .tflite: a
generic palette when the model names none) or --dataset.
"""

import sys

from keras_drn.cli.run_tflite import main

if __name__ == "__main__":
    sys.exit(main())
