import os

from setuptools import find_packages
from setuptools import setup

# The dependency lists are plain literals at module level so that tests/test_packaging.py
# can read them (with ast) without running setup(); requirements.txt and
# requirements-test.txt repeat them with the same specifiers, and that test checks it.

# What `import keras_drn`, the models, presets, weights conversion, training (every
# dataset layout, TensorBoard logs), evaluation and prediction need.
INSTALL_REQUIRES = [
    "tensorflow==2.21.*",  # the default Keras backend; training, data, SavedModel export
    "keras>=3.15,<4",
    "keras-hub>=0.32",  # segmenters, preprocessors and presets (0.32 pins TF 2.21)
    "numpy>=1.26",
    "pillow>=10",
    "h5py>=3.11",  # strict loading reads the layer names of .weights.h5 files
    "tensorflow-datasets>=4.9",  # Cityscapes and ImageNet from tfds
    # tensorflow-datasets imports importlib_resources but declares it only for Python
    # < 3.9.
    "importlib_resources>=6",
    "tensorboard>=2.21",  # to read the training logs (TensorFlow 2.21 no longer brings it)
    "scipy>=1.11",  # SBD's .mat labels (PASCAL VOC augmented set)
]

EXTRAS_REQUIRE = {
    # TFLite export (TensorFlow's converter) and LiteRT inference; metadata.py writes
    # the TFLite metadata with flatbuffers.
    "export": ["ai-edge-litert>=2.0", "flatbuffers>=25.9"],
    # Confusion-matrix and IoU figures, colour maps of CAM pictures.
    "plots": ["matplotlib>=3.8"],
    # The standard TFLite Model Metadata (MediaPipe's image-segmenter schema) in every
    # TFLite export, read by MediaPipe, the Android Task Library and Android Studio;
    # without it the exports carry keras_drn's JSON entry only.
    "edge": ["mediapipe>=0.10.14"],
    # The test suite: PyTorch (CPU) as the reference to compare against, Cityscapes'
    # own scripts, jax for the multi-backend test, the protobuf runtime for the caffemodel
    # writer tests, and the linter.
    "test": [
        "pytest>=8",
        "pytest-xdist>=3.5",  # the suite runs on every core (-n auto)
        "packaging>=22",  # tests/test_packaging.py reads the requirements with it
        "torch==2.13.0",
        "cityscapesscripts>=2.2",
        "jax>=0.5",
        "protobuf>=6.31.1,<8",
        "mediapipe>=0.10.14",  # the real client that reads the TFLite exports
        "ruff>=0.6",
    ],
}
EXTRAS_REQUIRE["all"] = sorted(
    {r for name in ("export", "plots", "edge", "test") for r in EXTRAS_REQUIRE[name]}
)

here = os.path.dirname(os.path.abspath(__file__))
version = {}
with open(os.path.join(here, "keras_drn", "version.py")) as f:
    exec(f.read(), version)
with open(os.path.join(here, "README.md"), encoding="utf-8") as f:
    long_description = f.read()

setup(
    name="keras-drn",
    version=version["__version__"],
    description=(
        "Dilated convolutional networks (DRN-A/B/C/D, the ICLR 2016 front end and "
        "context module) for Keras 3, keras-hub and TensorFlow"
    ),
    long_description=long_description,
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    packages=find_packages(include=["keras_drn", "keras_drn.*"]),
    python_requires=">=3.10",
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    entry_points={
        "console_scripts": [
            "keras-drn-train=keras_drn.cli.train:main",
            "keras-drn-cityscapes=keras_drn.cli.train:cityscapes",
            "keras-drn-camvid=keras_drn.cli.train:camvid",
            "keras-drn-pascal-voc=keras_drn.cli.train:pascal_voc",
            "keras-drn-imagenet=keras_drn.cli.train:imagenet",
            "keras-drn-keras-fit=keras_drn.cli.keras_fit:main",
            "keras-drn-export-tflite=keras_drn.cli.export_tflite:main",
            "keras-drn-export-saved-model=keras_drn.cli.export_saved_model:main",
            "keras-drn-report=keras_drn.cli.report:main",
            "keras-drn-run-tflite=keras_drn.cli.run_tflite:main",
            "keras-drn-convert=keras_drn.cli.convert:main",
            "keras-drn-preset=keras_drn.cli.preset:main",
            "keras-drn-predict=keras_drn.predict:main",
            "keras-drn-evaluate=keras_drn.evaluate:main",
            "keras-drn-visualize-cam=keras_drn.visualize.cam:main",
            "keras-drn-visualize-gridding=keras_drn.visualize.gridding:main",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Image Recognition",
    ],
)
