"""One latency measurement in a fresh process (run by `keras_drn.export.latency`).

    python -m keras_drn.export.latency_worker SPEC_JSON

A LiteRT measurement imports only numpy and `ai_edge_litert`, as an app would: the
`keras_drn` and `keras_drn.export` packages import nothing on their own (their names
load lazily), and this module imports `keras_drn.models` (Keras, TensorFlow) only to
time the Keras model. Prints one JSON line: load time, first run, warm-up, per-run
times, resident memory.
"""

import json
import resource
import sys
import time

import numpy as np


def _status_mib(field: str) -> float | None:
    """A memory figure of /proc/self/status (Linux), in MiB; None elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _rss_mib() -> float:
    """Current resident set size (Linux /proc), MiB; NaN elsewhere."""
    current = _status_mib("VmRSS")
    return float("nan") if current is None else current


def peak_rss_mib() -> float:
    """Peak resident set size of this process, in MiB.

    On Linux VmHWM, which belongs to the address space and so starts afresh at exec;
    ru_maxrss would carry over the parent's peak (the worker is forked from a process
    that holds a whole model).
    """
    peak = _status_mib("VmHWM")
    if peak is not None:
        return peak
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _tflite(spec, image):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=spec["path"], num_threads=spec["threads"])
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    batch = image[None].astype(inp["dtype"])

    def run():
        interpreter.set_tensor(inp["index"], batch)
        interpreter.invoke()
        return interpreter.get_tensor(out["index"])

    return run


def _tensorflow(threads):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    return tf


def _saved_model(spec, image):
    tf = _tensorflow(spec["threads"])
    loaded = tf.saved_model.load(spec["path"])
    fn = loaded.signatures[spec.get("signature", "serving_logits")]
    batch = tf.constant(image[None])
    return lambda: fn(images=batch)


def _keras(spec, image):
    _tensorflow(spec["threads"])
    from keras_drn.models import build_drnseg

    height, width = image.shape[:2]
    # The segmenter as the parent described it, at this image's size (static shapes).
    model = build_drnseg(spec["arch"], spec["classes"], width=spec.get("width", 1.0),
                         head=spec["head"], activation=spec.get("activation"),
                         input_shape=(height, width, 3))
    model.load_weights(spec["path"])
    norm = spec.get("normalization")
    if norm is None:  # the segmenter's own statistics
        stats = model.normalization
        norm = {"mean": stats.mean, "std": stats.std, "scale": stats.scale}
    mean = np.asarray(norm["mean"], np.float32)
    inv_std = 1.0 / np.asarray(norm["std"], np.float32)
    # What a Keras user runs: normalise, then the compiled predict function.
    return lambda: model.predict_on_batch(
        (image[None].astype(np.float32) * np.float32(norm["scale"]) - mean) * inv_std
    )


RUNNERS = {"tflite": _tflite, "saved_model": _saved_model, "keras": _keras}


def main(argv) -> dict:
    spec = json.loads(argv[1])
    image = np.load(spec["image"])
    baseline = _rss_mib()
    start = time.perf_counter()
    run = RUNNERS[spec["kind"]](spec, image)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    run()
    first_s = time.perf_counter() - start
    for _ in range(spec["warmup"]):
        run()
    times = []
    for _ in range(spec["runs"]):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {
        "load_s": load_s, "first_s": first_s, "times_s": times,
        "baseline_rss_mib": baseline, "peak_rss_mib": peak_rss_mib(),
        "tensorflow_imported": "tensorflow" in sys.modules,
    }


if __name__ == "__main__":
    print("KERAS_DRN_LATENCY " + json.dumps(main(sys.argv)), flush=True)
