"""Latency and memory of each artifact, every one in its own fresh process.

`measure` runs `python -m keras_drn.export.latency_worker` once per artifact (Keras,
SavedModel, each TFLite) on the same image with the same number of threads, and
collects load time, first run, median and p90 of N timed runs after a warm-up, and
peak resident memory (VmHWM), also above the bare interpreter (Python + numpy) so that
runtimes compare fairly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from dataclasses import dataclass

import numpy as np

WORKER = "keras_drn.export.latency_worker"  # run with `python -m`
_PREFIX = "KERAS_DRN_LATENCY "


@dataclass
class LatencyResult:
    """One artifact's timings and memory (times of `runs` runs after `warmup`)."""

    name: str
    kind: str
    threads: int
    runs: int
    warmup: int
    load_s: float
    first_s: float
    median_ms: float
    p90_ms: float
    mean_ms: float
    peak_rss_mib: float
    above_baseline_mib: float
    size_mib: float | None = None  # artifact size on disk
    tensorflow_imported: bool = False  # whether the runtime pulled in TensorFlow

    def as_dict(self) -> dict:
        """The fields as a JSON-ready dict."""
        return asdict(self)


def _artifact_size(path: str) -> float | None:
    if os.path.isfile(path):
        return os.path.getsize(path) / 2**20
    if os.path.isdir(path):
        total = sum(
            os.path.getsize(os.path.join(folder, name))
            for folder, _, names in os.walk(path) for name in names
        )
        return total / 2**20
    return None


def measure(name: str, spec: dict, image: np.ndarray, *, threads: int, runs: int = 20,
            warmup: int = 3, timeout: float = 1800) -> LatencyResult:
    """Measures one artifact in a fresh process.

    Args:
        name: the artifact's name in the result.
        spec: what to run: `{"kind": "tflite", "path": F}`, `{"kind":
            "saved_model", "path": D}` or `{"kind": "keras", "path": WEIGHTS_H5,
            "arch" (a name or a DRNConfig row as a dict), "width", "classes", "head",
            "activation", "normalization": {"mean", "std", "scale"}}` (a DRNSeg
            segmenter rebuilt at the image's size).
        image: one uint8 RGB image of the artifact's input size.
        threads: the runtime's threads.
        runs: timed runs, at least 1.
        warmup: untimed runs before them.
        timeout: seconds before the worker is stopped.

    Returns:
        A `LatencyResult`.

    Raises:
        ValueError: `runs` < 1 or `warmup` < 0.
        RuntimeError: the worker failed; the message holds the end of its stderr.
    """
    if runs < 1 or warmup < 0:
        raise ValueError(f"Invalid runs={runs}, warmup={warmup}: need runs >= 1, "
                         f"warmup >= 0.")
    with tempfile.TemporaryDirectory(prefix="keras_drn_latency_") as workdir:
        image_path = os.path.join(workdir, "image.npy")
        np.save(image_path, np.asarray(image, np.uint8))
        full = {**spec, "image": image_path, "threads": threads, "runs": runs,
                "warmup": warmup}
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        env.setdefault("KERAS_BACKEND", "tensorflow")
        proc = subprocess.run(
            [sys.executable, "-m", WORKER, json.dumps(full)], capture_output=True,
            text=True, env=env, timeout=timeout, check=False,
        )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(_PREFIX)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"Latency worker for {name!r} failed (exit {proc.returncode}):\n"
            f"{proc.stderr[-3000:]}"
        )
    data = json.loads(lines[-1][len(_PREFIX):])
    times = np.asarray(data["times_s"]) * 1000
    return LatencyResult(
        name=name, kind=spec["kind"], threads=threads, runs=runs, warmup=warmup,
        load_s=data["load_s"], first_s=data["first_s"],
        median_ms=float(np.median(times)), p90_ms=float(np.percentile(times, 90)),
        mean_ms=float(times.mean()), peak_rss_mib=data["peak_rss_mib"],
        above_baseline_mib=data["peak_rss_mib"] - data["baseline_rss_mib"],
        size_mib=_artifact_size(spec["path"]) if spec["kind"] != "keras" else None,
        tensorflow_imported=bool(data.get("tensorflow_imported")),
    )


def format_table(results: list[LatencyResult]) -> str:
    """A Markdown table, one row per artifact, with the speed-up over the first row."""
    base = results[0].median_ms if results else None
    rows = [
        "| artifact | threads | median ms | p90 ms | vs first row | first run s "
        "| load s | peak RSS MiB | above Python+numpy MiB | size MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        size = "—" if r.size_mib is None else f"{r.size_mib:.1f}"
        rows.append(
            f"| {r.name} | {r.threads} | {r.median_ms:.1f} | {r.p90_ms:.1f} | "
            f"{base / r.median_ms:.2f}x | {r.first_s:.2f} | {r.load_s:.2f} | "
            f"{r.peak_rss_mib:.0f} | {r.above_baseline_mib:.0f} | {size} |"
        )
    return "\n".join(rows)
