"""Loaders for the variants the benchmarks compare. Each `*_variant` function runs in
its own worker process (see harness.py) and returns `(run, info)`.

All variants start from the same uint8 RGB image and the same weights: a DRNSeg
state dict in the reference's layout, loaded into the PyTorch reference directly and
into Keras through keras_drn's converter.
"""

from __future__ import annotations

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for path in (ROOT, os.path.join(ROOT, "tests")):
    if path not in sys.path:
        sys.path.insert(0, path)


def image(height, width, seed=0):
    """The benchmark image: a synthetic street scene (seeded)."""
    try:
        from keras_drn.data.synthetic import render_scene

        return render_scene(seed, height, width)[0]
    except ImportError:  # data package absent: a seeded random image
        return np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)


def write_inputs(directory, height, width, dataset="cityscapes"):
    """Writes `image.npy` (uint8, [1, H, W, 3]) and `input.npy` (normalised float32)
    so that workers load arrays and import nothing but their own framework."""
    from keras_drn.preprocessing import preprocess_input

    raw = image(height, width)[None]
    np.save(os.path.join(directory, "image.npy"), raw)
    np.save(os.path.join(directory, "input.npy"), preprocess_input(raw, dataset=dataset))


def torch_variant(*, threads, arch, classes, height, width, state_path, input_dir):
    import torch
    import torch_reference

    torch.set_num_threads(threads)
    model = torch_reference.TorchDRNSeg(torch_reference.build(arch), classes).eval()
    model.load_state_dict(torch.load(state_path, map_location="cpu"))
    x = torch.from_numpy(np.ascontiguousarray(
        np.load(os.path.join(input_dir, "input.npy")).transpose(0, 3, 1, 2)))

    def run():
        with torch.inference_mode():
            return model(x)

    with torch.inference_mode():
        labels = model(x).argmax(1)[0].numpy().astype(np.uint8)
    return run, {"labels": labels}


def _tf_threads(threads):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return tf


def keras_model(arch, classes, height, width, state_path):
    """DRNSeg with the benchmark's weights (the .npz twin of the .pth state dict)."""
    from keras_drn.models import build_drnseg
    from keras_drn.weights import assign_state_dict

    with np.load(state_path.replace(".pth", ".npz")) as npz:
        state = dict(npz)
    model = build_drnseg(arch, classes, input_shape=(height, width, 3))
    assign_state_dict(model, state, arch=arch, kind="segmentation")
    return model


def keras_variant(*, threads, arch, classes, height, width, state_path, input_dir, mode):
    """mode: "eager" (model(x)), "predict" (model.predict), "function"
    (tf.function), "xla" (tf.function(jit_compile=True))."""
    tf = _tf_threads(threads)
    model = keras_model(arch, classes, height, width, state_path)
    x = tf.constant(np.load(os.path.join(input_dir, "input.npy")))
    if mode == "eager":
        call = lambda: model(x, training=False)  # noqa: E731
    elif mode == "predict":
        call = lambda: model.predict(x, verbose=0)  # noqa: E731
    else:
        fn = tf.function(lambda a: model(a, training=False),
                         jit_compile=(mode == "xla"), reduce_retracing=True)
        call = lambda: fn(x)  # noqa: E731

    def run():
        out = call()
        return out.numpy() if hasattr(out, "numpy") else out

    labels = np.asarray(run()).argmax(-1)[0].astype(np.uint8)
    return run, {"labels": labels}
