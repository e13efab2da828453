"""Export every artifact of a segmenter and report parity and latency side by side.

Used by `export/report.py` (all artifacts) and `export/tflite.py --report` (one). The
segmenter's own dataset and normalisation are used throughout unless `dataset=` names
another (then for every artifact and for the Keras reference alike).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass

import keras
import numpy as np

from keras_drn.export import latency as latency_lib
from keras_drn.export import parity as parity_lib
from keras_drn.export.runtime import LiteRTSegmenter
from keras_drn.export.runtime import SavedModelSegmenter
from keras_drn.export.saved_model import export_saved_model
from keras_drn.export.tflite import convert_to_tflite
from keras_drn.export.tflite import write_tflite


@dataclass
class Artifact:
    name: str
    kind: str  # "saved_model" or "tflite"
    quantize: str  # "saved_model" for the SavedModel, else the TFLite mode
    path: str
    outputs: str = "logits"
    seconds: float = 0.0  # export time


def tflite_name(quantize: str, outputs: str, integer_io: bool = False) -> str:
    suffix = "" if outputs == "logits" else f"_{outputs}"
    io = "_integer_io" if integer_io else ""
    return f"{'float32' if quantize == 'none' else quantize}{suffix}{io}"


def export_all(model: keras.Model, output_dir: str, *, input_size, quantize_modes,
               outputs: str = "logits", dataset: str | None = None,
               calibration=None, integer_io: bool = False, saved_model: bool = True,
               reuse: bool = False, log=print) -> list[Artifact]:
    """Writes the SavedModel (`saved_model/`) and one `.tflite` per quantize mode into
    `output_dir`; returns what was written. With `reuse`, artifacts already there are
    kept as they are (they must come from the same model)."""
    os.makedirs(output_dir, exist_ok=True)
    artifacts = []
    if saved_model:
        path = os.path.join(output_dir, "saved_model")
        start = time.perf_counter()
        if reuse and os.path.isdir(path):
            log(f"reusing {path}")
        else:
            export_saved_model(model, path, dataset=dataset, overwrite=True)
            log(f"wrote {path} ({time.perf_counter() - start:.1f} s)")
        artifacts.append(Artifact("SavedModel", "saved_model", "saved_model", path,
                                  seconds=time.perf_counter() - start))
    for mode in quantize_modes:
        io = integer_io and mode == "int8"
        name = tflite_name(mode, outputs, io)
        path = os.path.join(output_dir, f"{model.name}_{name}.tflite")
        start = time.perf_counter()
        if reuse and os.path.isfile(path):
            log(f"reusing {path}")
        else:
            content = convert_to_tflite(
                model, input_size, quantize=mode, outputs=outputs, dataset=dataset,
                representative_images=calibration if mode == "int8" else None,
                integer_io=io,
            )
            write_tflite(content, path)
            log(f"wrote {path} ({len(content) / 2**20:.1f} MiB, "
                f"{time.perf_counter() - start:.1f} s)")
        artifacts.append(Artifact(f"TFLite {name}", "tflite", mode, path, outputs,
                                  seconds=time.perf_counter() - start))
    return artifacts


def parity(model: keras.Model, artifacts: list[Artifact], images: list[np.ndarray], *,
           dataset: str | None = None, threads: int | None = None
           ) -> list[parity_lib.ParityResult]:
    """Parity of every artifact against `model` on `images` (uint8, export size);
    `dataset` as given to `export_all`."""
    reference = parity_lib.keras_logits(model, images, dataset)
    results = []
    for artifact in artifacts:
        diff_reference = None
        if artifact.kind == "saved_model":
            runner = SavedModelSegmenter(artifact.path, outputs="logits")
        else:
            runner = LiteRTSegmenter(artifact.path, num_threads=threads)
            logits_range = runner.metadata.get("logits_range")
            if logits_range is not None and runner.outputs == "logits":
                diff_reference = parity_lib.keras_logits(
                    model, images, dataset, logits_range=logits_range)
        results.append(parity_lib.measure(
            artifact.name, artifact.quantize, runner, images, reference,
            diff_reference=diff_reference,
        ))
    return results


def edge_checks(artifacts: list[Artifact]) -> list[dict]:
    """Per TFLite artifact: the GPU delegate's verdict (tf.lite.experimental.Analyzer,
    `keras_drn.export.gpu`), the ops that edge runtimes care about, and whether the
    standard metadata (MediaPipe's schema) and its label file are there."""
    from keras_drn.export import edge_metadata
    from keras_drn.export.gpu import gpu_compatibility
    from keras_drn.export.graph import inspect_tflite

    rows = []
    for artifact in artifacts:
        if artifact.kind != "tflite":
            continue
        with open(artifact.path, "rb") as f:
            content = f.read()
        gpu = gpu_compatibility(content)
        ops = inspect_tflite(content).op_counts
        standard = (edge_metadata.available()
                    and edge_metadata.read_standard_metadata(content) is not None)
        rows.append({
            "name": artifact.name, "gpu_compatible": gpu.compatible,
            "gpu_problems": gpu.problems,
            "tile_ops": ops.get("TILE", 0), "pad_ops": ops.get("PAD", 0),
            "standard_metadata": bool(standard),
            "labels": edge_metadata.read_labels(content),
        })
    return rows


def format_edge_table(rows: list[dict]) -> str:
    lines = ["| artifact | GPU delegate (Analyzer) | TILE | PAD | standard metadata "
             "| label file |", "|---|---|---|---|---|---|"]
    for row in rows:
        gpu = "compatible" if row["gpu_compatible"] else (
            "NOT compatible: " + "; ".join(row["gpu_problems"]))
        labels = f"{len(row['labels'])} names" if row["labels"] else "none"
        lines.append(
            f"| {row['name']} | {gpu} | {row['tile_ops']} | {row['pad_ops']} | "
            f"{'yes' if row['standard_metadata'] else 'no'} | "
            f"{labels} |")
    return "\n".join(lines)


def latency(model: keras.Model, artifacts: list[Artifact], image: np.ndarray, *,
            threads: int, dataset: str | None = None, runs: int = 20, warmup: int = 3,
            include_keras: bool = True, log=print) -> list[latency_lib.LatencyResult]:
    """Latency of Keras (the segmenter rebuilt in the worker from its configuration at
    the image's size, with its saved weights) and of every artifact, each in a fresh
    process, on the same image and threads. `dataset`: as given to `export_all` (the
    Keras side normalises alike)."""
    from keras_drn.export.serving import check_segmenter
    from keras_drn.inference.model_info import model_normalization

    results = []
    with tempfile.TemporaryDirectory(prefix="keras_drn_report_") as workdir:
        specs = []
        if include_keras:
            segmenter = check_segmenter(model)
            weights = os.path.join(workdir, "model.weights.h5")
            segmenter.save_weights(weights)
            norm = model_normalization(segmenter, dataset, "drn")
            specs.append(("Keras (predict_on_batch)", {
                "kind": "keras", "path": weights,
                "arch": segmenter.backbone.get_config()["arch"],
                "width": segmenter.backbone.width, "classes": segmenter.num_classes,
                "head": segmenter.head, "activation": segmenter.activation,
                "normalization": {"mean": list(norm.mean), "std": list(norm.std),
                                  "scale": norm.scale},
            }))
        for artifact in artifacts:
            specs.append((artifact.name, {"kind": artifact.kind, "path": artifact.path}))
        for name, spec in specs:
            result = latency_lib.measure(name, spec, image, threads=threads, runs=runs,
                                         warmup=warmup)
            log(f"timed {name}: median {result.median_ms:.1f} ms")
            results.append(result)
    return results
