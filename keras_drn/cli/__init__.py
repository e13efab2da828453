"""keras_drn's command lines, one module a command, each with `main(argv=None) -> int`.

They are installed as console scripts (see setup.py) and wrapped by the checkout's
train/*.py and export/*.py, so `keras-drn-export-tflite ...` and
`python export/tflite.py ...` are the same program. Each parses its arguments before
TensorFlow is imported (so `--help` is immediate) and imports TensorFlow through
`keras_drn.cli.quiet`, which keeps TensorFlow's start-up lines off the terminal.
"""
