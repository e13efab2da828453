"""The benchmark scripts run end to end at a tiny size and their tables say what the
variants computed: every deployed artifact of every model agrees with the PyTorch
reference loaded with the same weights (a timing table of the wrong model is worse than
none)."""

import csv
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script, *args, tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", script), *args,
         "--threads", "1", "--output-dir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_inference_benchmark_rows_agree_with_torch(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("ai_edge_litert")
    float32 = ("torch", "keras_function", "savedmodel", "tflite_none")
    bfloat16 = ("keras_function_bf16", "savedmodel_bf16")
    # One architecture: C-26's graph is checked against the reference by the export
    # and parity tests; this checks the benchmark's own plumbing for every variant.
    _run("inference.py", "--archs", "drn_d_22", "--sizes", "64x96",
         "--variants", *float32, *bfloat16,
         "--rounds", "1", "--per-round", "1", "--warmup", "0", tmp_path=tmp_path)
    with open(tmp_path / "inference.csv") as f:
        rows = list(csv.DictReader(f))
    assert {(r["arch"], r["variant"]) for r in rows} == {
        ("drn_d_22", v) for v in (*float32, *bfloat16)}
    for row in rows:
        assert row["error"] == "", row
        assert float(row["median_ms"]) > 0
        if row["variant"] in bfloat16:
            # bfloat16 against the float32 reference, on random weights (near-ties).
            assert 0.97 <= float(row["argmax_agreement"]) < 1.0, row
        else:
            # float32 everywhere else: the argmax of each variant is the reference's.
            assert float(row["argmax_agreement"]) >= 0.999, row
    for suffix in ("md", "png"):
        assert (tmp_path / f"inference.{suffix}").stat().st_size > 0


def test_profile_ops_finds_the_convolutions(tmp_path):
    pytest.importorskip("torch")
    _run("profile_ops.py", "--size", "64x96", "--runs", "1", "--top", "5",
         tmp_path=tmp_path)
    with open(tmp_path / "profile_drn_d_22_64x96.csv") as f:
        rows = list(csv.DictReader(f))
    frameworks = {r["framework"] for r in rows}
    assert frameworks == {"tensorflow", "torch"}
    for name in frameworks:
        ops = [r["op"].lower() for r in rows if r["framework"] == name]
        assert any("conv" in op for op in ops), (name, ops)


def test_tflite_memory_benchmark_times_both_stems(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("ai_edge_litert")
    _run("tflite_memory.py", "--size", "64x96", "--quantize", "int8", "--rounds", "1",
         "--calibration", "1", "--direct-stem", tmp_path=tmp_path)
    with open(tmp_path / "tflite_memory.csv") as f:
        rows = {r["variant"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"torch", "tflite_int8 Interpreter", "tflite_int8 CompiledModel",
                         "tflite_int8 CompiledModel transient",
                         "tflite_int8 direct stem Interpreter"}
    for row in rows.values():
        assert row["error"] == "", row
        assert float(row["median_ms"]) > 0 and float(row["peak_mib"]) > 0
