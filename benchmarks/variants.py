"""Loaders for the variants the benchmarks compare. Each `*_variant` function runs in
its own worker process (see harness.py) and returns `(run, info)`.

All variants start from the same uint8 RGB image and the same weights: a DRNSeg
state dict in the reference's layout, loaded into the PyTorch port of the reference
(`keras_drn.reference`) directly and into Keras through keras_drn's converter. The
PyTorch variants run segment.py's forward as it is, log-softmax included.
"""

from __future__ import annotations

import os

import numpy as np


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

    from keras_drn import reference

    torch.set_num_threads(threads)
    model = reference.TorchDRNSeg(reference.build(arch), classes).eval()
    model.load_state_dict(torch.load(state_path, map_location="cpu"))
    x = torch.from_numpy(np.ascontiguousarray(
        np.load(os.path.join(input_dir, "input.npy")).transpose(0, 3, 1, 2)))

    def run():
        with torch.inference_mode():
            return model(x)

    with torch.inference_mode():
        log_probabilities, _ = model(x)  # segment.py's (log-softmax, stride-8 logits)
        labels = log_probabilities.argmax(1)[0].numpy().astype(np.uint8)
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


def keras_variant(*, threads, arch, classes, height, width, state_path, input_dir, mode,
                  precision="float32"):
    """mode: "eager" (model(x)), "predict" (model.predict), "function"
    (tf.function), "xla" (tf.function(jit_compile=True)); precision: "float32" or
    "bfloat16" (keras_drn.export.precision: mixed_bfloat16, float32 classifier)."""
    tf = _tf_threads(threads)
    from keras_drn.export.precision import with_precision

    model = with_precision(keras_model(arch, classes, height, width, state_path),
                           precision)
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


# ---------------------------------------------------------------------------- training
def write_batch(directory, batch, crop, classes=19, dataset="cityscapes"):
    """A training batch (normalised images, uint8 labels) from synthetic scenes."""
    from keras_drn.data.synthetic import render_scene
    from keras_drn.preprocessing import preprocess_input

    scenes = [render_scene(1000 + i, crop, crop) for i in range(batch)]
    images = preprocess_input(np.stack([s[0] for s in scenes]), dataset=dataset)
    labels = np.stack([s[1] for s in scenes]).astype(np.uint8)
    labels[labels >= classes] = 255
    np.save(os.path.join(directory, "train_images.npy"), images)
    np.save(os.path.join(directory, "train_labels.npy"), labels)


def torch_train_variant(*, threads, arch, classes, batch_dir, lr=0.01, momentum=0.9,
                        weight_decay=1e-4):
    """segment.py's step: SGD over base + seg (the frozen `up` excluded), NLL of the
    log-softmax with ignore index 255, averaged over valid pixels."""
    import torch

    from keras_drn import reference

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = reference.TorchDRNSeg(reference.build(arch), classes).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=lr, momentum=momentum,
                                weight_decay=weight_decay)
    images = torch.from_numpy(np.ascontiguousarray(
        np.load(os.path.join(batch_dir, "train_images.npy")).transpose(0, 3, 1, 2)))
    labels = torch.from_numpy(np.load(os.path.join(batch_dir, "train_labels.npy"))).long()
    loss_fn = torch.nn.NLLLoss(ignore_index=255)

    def run():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(images)[0], labels)  # the forward's log-softmax
        loss.backward()
        optimizer.step()
        return float(loss)

    return run, {}


def keras_train_variant(*, threads, arch, classes, batch_dir, mixed_precision=None,
                        jit_compile=False, replicas=1, lr=0.01, momentum=0.9,
                        weight_decay=1e-4):
    """keras_drn's own training step (keras_drn.training.trainer, through
    strategy.run), fed a constant in-memory batch so that only the step is timed."""
    import io
    import tempfile

    tf = _tf_threads(threads)
    if replicas > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
    from keras_drn.data.pipeline import SyntheticSource
    from keras_drn.training.config import TrainConfig
    from keras_drn.training.trainer import SegmentationTrainer

    images = np.load(os.path.join(batch_dir, "train_images.npy"))
    labels = np.load(os.path.join(batch_dir, "train_labels.npy"))
    batch, crop = images.shape[0], images.shape[1]
    config = TrainConfig(
        arch=arch, classes=classes, crop_size=(crop, crop), batch_size=batch, epochs=1,
        steps_per_epoch=10**6, lr=lr, momentum=momentum, weight_decay=weight_decay,
        mixed_precision=mixed_precision, jit_compile=jit_compile, eval_every=0,
        strategy="mirrored" if replicas > 1 else "default",
        output_dir=tempfile.mkdtemp(prefix="keras_drn_bench_"))
    trainer = SegmentationTrainer(config, SyntheticSource(image_size=(crop, crop)), None,
                                  stream=io.StringIO())

    def constant_batches(context, start_step):
        per_replica = context.get_per_replica_batch_size(batch)
        first = context.input_pipeline_id * per_replica
        pair = (images[first:first + per_replica], labels[first:first + per_replica])
        return tf.data.Dataset.from_tensors(pair).repeat()

    trainer.train_dataset_fn = constant_batches
    step = trainer._make_train_fn()
    iterator = trainer._train_iterator(0)

    def run():
        return float(step(iterator, 1)[0])

    return run, {}


# ------------------------------------------------------------------------ deployment
def savedmodel_variant(*, threads, input_dir, artifact, **_):
    """The exported SavedModel's `serving_logits`: uint8 in, normalised inside."""
    _tf_threads(threads)
    from keras_drn.export.runtime import SavedModelSegmenter

    segmenter = SavedModelSegmenter(artifact, outputs="logits")
    image = np.load(os.path.join(input_dir, "image.npy"))[0]
    labels = segmenter(image).argmax(-1).astype(np.uint8)
    return (lambda: segmenter(image)), {"labels": labels}


def tflite_variant(*, threads, input_dir, artifact, **_):
    """A .tflite export on the LiteRT interpreter (XNNPACK), `threads` threads. This
    process imports numpy and LiteRT only."""
    from keras_drn.export.runtime import LiteRTSegmenter

    segmenter = LiteRTSegmenter(artifact, num_threads=threads)
    image = np.load(os.path.join(input_dir, "image.npy"))[0]
    labels = segmenter(image).argmax(-1).astype(np.uint8)
    return (lambda: segmenter(image)), {"labels": labels}


# ---------------------------------------------------------------------- input pipeline
def write_cityscapes_layout(root, count, height, width, split="train"):
    """`count` synthetic scenes as a Cityscapes directory: leftImg8bit PNGs and gtFine
    *_labelIds.png (train ids mapped back to label ids), as the real dataset is read."""
    from PIL import Image

    from keras_drn.data.synthetic import render_scene
    from keras_drn.meta import CITYSCAPES_LABELS

    to_label_id = np.zeros(256, np.uint8)  # 255 (void) -> 0 "unlabeled"
    for label in CITYSCAPES_LABELS:
        if label.train_id != 255:
            to_label_id[label.train_id] = label.id
    images = os.path.join(root, "leftImg8bit", split, "synth")
    labels = os.path.join(root, "gtFine", split, "synth")
    os.makedirs(images, exist_ok=True)
    os.makedirs(labels, exist_ok=True)
    for i in range(count):
        image, train_ids = render_scene(5000 + i, height, width)
        stem = f"synth_{i:06d}_000019"
        Image.fromarray(image).save(os.path.join(images, f"{stem}_leftImg8bit.png"))
        Image.fromarray(to_label_id[train_ids]).save(
            os.path.join(labels, f"{stem}_gtFine_labelIds.png"))


def pipeline_variant(*, threads, data_dir, batch, crop, random_scale, random_rotate,
                     batches=8):
    """keras_drn's tf.data training pipeline on Cityscapes-layout PNGs: parallel
    decode, label-id mapping, random scale / rotation / crop / flip, normalisation.

    One `run()` opens a fresh iterator and pulls `batches` global batches. A fresh
    iterator matters: the harness interleaves variants, and a long-lived iterator would
    fill its prefetch buffers while the other variants are being timed, so that `next`
    measured only a dequeue. Opening the iterator is counted (slightly pessimistic)."""
    tf = _tf_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    from keras_drn.data.cityscapes import cityscapes_source
    from keras_drn.data.pipeline import train_dataset

    source = cityscapes_source(data_dir, "train")
    dataset = train_dataset(source, global_batch=batch, crop_size=(crop, crop),
                            random_scale=random_scale, random_rotate=random_rotate)

    def run():
        iterator = iter(dataset)
        for _ in range(batches):
            images, labels = next(iterator)
        del iterator
        return images.shape

    return run, {}


def litert_compiled_variant(*, threads, input_dir, artifact, xnnpack_flags=None, **_):
    """A .tflite export on LiteRT's CompiledModel API, which (unlike the Interpreter)
    takes XNNPACK flags: 0x20 makes the convolutions' indirection buffers transient
    (rebuilt on every run in a shared workspace instead of kept per operator)."""
    from ai_edge_litert.interpreter import Interpreter

    from keras_drn.export.runtime import CompiledRunner

    with open(artifact, "rb") as f:
        content = f.read()
    output = Interpreter(model_content=content).get_output_details()[0]  # not allocated
    if len(output["shape"]) != 4:
        raise ValueError(f"expected a logits export, got output shape {output['shape']}")
    runner = CompiledRunner(content, threads, xnnpack_flags)
    image = np.load(os.path.join(input_dir, "image.npy"))

    def run():
        return runner(image, output["shape"], output["dtype"])

    labels = run()[0].argmax(-1).astype(np.uint8)
    return run, {"labels": labels}
