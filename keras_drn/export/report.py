"""Export every artifact of a segmenter and report parity and latency side by side.

Used by `keras-drn-report` (all artifacts) and `keras-drn-export-tflite --report` (one;
`keras_drn.cli`). The
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
    """One exported model of a report.

    Attributes:
        name: its name in the tables ("SavedModel", "TFLite int8").
        kind: "saved_model" or "tflite".
        quantize: "saved_model" for the SavedModel, else the TFLite mode.
        path: the file or directory.
        outputs: "logits" or "labels".
        seconds: how long the export took.
    """

    name: str
    kind: str
    quantize: str
    path: str
    outputs: str = "logits"
    seconds: float = 0.0


def tflite_name(quantize: str, outputs: str, integer_io: bool = False) -> str:
    """The name of a TFLite variant in tables and file names.

    Args:
        quantize: the mode ("none" is called "float32").
        outputs: "logits" or "labels".
        integer_io: whether the int8 model has int8 logits.

    Returns:
        e.g. "float32", "int8_labels", "int8_integer_io".
    """
    suffix = "" if outputs == "logits" else f"_{outputs}"
    io = "_integer_io" if integer_io else ""
    return f"{'float32' if quantize == 'none' else quantize}{suffix}{io}"


def _export(path: str, present: bool, write, log) -> float:
    """Runs `write()` unless `present` (reuse); returns the seconds it took."""
    start = time.perf_counter()
    if present:
        log(f"reusing {path}")
    else:
        details = write()
        log(f"wrote {path} ({details}{time.perf_counter() - start:.1f} s)")
    return time.perf_counter() - start


def export_all(model: keras.Model, output_dir: str, *, input_size, quantize_modes,
               outputs: str = "logits", dataset: str | None = None,
               calibration=None, integer_io: bool = False, saved_model: bool = True,
               reuse: bool = False, log=print) -> list[Artifact]:
    """Writes the SavedModel and the TFLite models of a segmenter into one folder.

    Args:
        model: a `keras_drn.DRNImageSegmenter`.
        output_dir: the folder: `saved_model/` and `{model.name}_{variant}.tflite`.
        input_size: (height, width) of the TFLite models.
        quantize_modes: the TFLite modes to write (`QUANTIZE_MODES`).
        outputs: "logits" or "labels" for the TFLite models.
        dataset: None for the segmenter's own normalisation, or a dataset name.
        calibration: the int8 calibration images (`representative_images`).
        integer_io: int8 logits out of the int8 model.
        saved_model: whether to write the SavedModel.
        reuse: keep artifacts already there as they are (they must come from the
            same model).
        log: called with a line for each artifact.

    Returns:
        The `Artifact`s, SavedModel first.
    """
    os.makedirs(output_dir, exist_ok=True)
    artifacts = []
    if saved_model:
        path = os.path.join(output_dir, "saved_model")

        def write_saved_model():
            export_saved_model(model, path, dataset=dataset, overwrite=True)
            return ""

        seconds = _export(path, reuse and os.path.isdir(path), write_saved_model, log)
        artifacts.append(Artifact("SavedModel", "saved_model", "saved_model", path,
                                  seconds=seconds))
    for mode in quantize_modes:
        io = integer_io and mode == "int8"
        name = tflite_name(mode, outputs, io)
        path = os.path.join(output_dir, f"{model.name}_{name}.tflite")

        def write_tflite_model(mode=mode, io=io, path=path):
            content = convert_to_tflite(
                model, input_size, quantize=mode, outputs=outputs, dataset=dataset,
                representative_images=calibration if mode == "int8" else None,
                integer_io=io,
            )
            write_tflite(content, path)
            return f"{len(content) / 2**20:.1f} MiB, "

        seconds = _export(path, reuse and os.path.isfile(path), write_tflite_model, log)
        artifacts.append(Artifact(f"TFLite {name}", "tflite", mode, path, outputs,
                                  seconds=seconds))
    return artifacts


def parity(model: keras.Model, artifacts: list[Artifact], images: list[np.ndarray], *,
           dataset: str | None = None, threads: int | None = None
           ) -> list[parity_lib.ParityResult]:
    """Measures how closely every artifact follows the Keras model.

    Args:
        model: the segmenter the artifacts come from.
        artifacts: from `export_all`.
        images: uint8 RGB images of the export size.
        dataset: as given to `export_all`.
        threads: LiteRT's threads (default: the cores available).

    Returns:
        One `keras_drn.export.parity.ParityResult` per artifact.
    """
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
    """Checks the TFLite artifacts for edge runtimes.

    Args:
        artifacts: from `export_all` (the SavedModel is skipped).

    Returns:
        A dict per TFLite artifact: "name", "gpu_compatible" and "gpu_problems" (the
        GPU delegate's verdict, tf.lite.experimental.Analyzer through
        `keras_drn.export.gpu`), "tile_ops" and "pad_ops" (ops edge runtimes care
        about), "standard_metadata" (MediaPipe's schema present) and "labels" (the
        label file's names, or None).
    """
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
    """`edge_checks`' rows as a Markdown table."""
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
    """Times Keras and every artifact, each in a fresh process, on one image.

    Args:
        model: the segmenter (rebuilt in the worker from its configuration at the
            image's size, with its saved weights).
        artifacts: from `export_all`.
        image: a uint8 RGB image of the export size.
        threads: every runtime's threads.
        dataset: as given to `export_all` (the Keras side normalises alike).
        runs: timed runs.
        warmup: untimed runs first.
        include_keras: also time the Keras model (the first row).
        log: called with a line for each measurement.

    Returns:
        A `keras_drn.export.latency.LatencyResult` per row.
    """
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
