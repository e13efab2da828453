import os

from setuptools import find_packages
from setuptools import setup

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
        "context module) for Keras 3 and TensorFlow"
    ),
    long_description=long_description,
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    packages=find_packages(include=["keras_drn", "keras_drn.*"]),
    python_requires=">=3.10",
    install_requires=[
        "keras>=3.15,<4",
        "numpy>=1.26",
        "pillow>=10",
        "protobuf>=4",
    ],
    extras_require={
        # The models alone run on any Keras backend; training, data and export use
        # TensorFlow.
        "tf": ["tensorflow>=2.21", "tensorboard>=2.21", "tensorflow-datasets>=4.9",
               "importlib_resources>=6", "scipy>=1.11"],
        "export": ["tensorflow>=2.21", "ai-edge-litert>=2.0"],
        "plots": ["matplotlib>=3.8"],
        "test": ["pytest>=8", "torch==2.13.0", "cityscapesscripts>=2.2", "ruff>=0.6"],
    },
    entry_points={
        "console_scripts": [
            "keras-drn-evaluate=keras_drn.evaluate:main",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Image Recognition",
        "License :: OSI Approved :: BSD License",
    ],
)
