"""Where the memory of a TFLite DRNSeg goes, beside the PyTorch reference.

    python benchmarks/tflite_memory.py [--arch drn_d_22] [--size 1024x2048]
        [--quantize none int8] [--weights FILE]

For each export: the peak resident memory (VmHWM) and latency of the LiteRT Interpreter
(what keras_drn's `LiteRTSegmenter` and benchmarks/inference.py use), of LiteRT's
CompiledModel with default XNNPACK flags, and of CompiledModel with XNNPACK's transient
indirection buffers (flag 0x20), each in its own process, interleaved with the PyTorch
reference. Then the graph's largest tensors, which bound what any runtime must hold.
--direct-stem adds each export as it was before the space-to-depth stem
(keras_drn.export.stem), on the Interpreter, for the latency and memory side by side.
Writes `tflite_memory.md` and `.csv` under --output-dir.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import numpy as np  # noqa: E402
import variants  # noqa: E402
from inference import BENCHMARK_DATASET  # noqa: E402
from inference import DIRECT_STEM  # noqa: E402
from inference import machine  # noqa: E402
from inference import prepare_artifacts  # noqa: E402
from inference import prepare_weights  # noqa: E402

TRANSIENT_INDIRECTION = 0x20  # TFLITE_XNNPACK_DELEGATE_FLAG_TRANSIENT_INDIRECTION_BUFFER
QS8_QU8 = 0x01 | 0x02  # the delegate's default quantized-operator flags, kept on


def largest_tensors(path, count=6):
    """(MiB, op, shape) of the largest op outputs of a .tflite graph, and their sum."""
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_litert.interpreter import OpResolverType

    interpreter = Interpreter(
        model_path=path,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    sizes = []
    for op in interpreter._get_ops_details():
        for index in op["outputs"]:
            t = tensors[index]
            mib = int(np.prod(t["shape"])) * np.dtype(t["dtype"]).itemsize / 2**20
            sizes.append((mib, op["op_name"], "x".join(str(int(s)) for s in t["shape"])))
    sizes.sort(reverse=True)
    return sizes[:count], sum(s[0] for s in sizes)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="drn_d_22")
    parser.add_argument("--classes", type=int, default=19)
    parser.add_argument("--size", default="1024x2048")
    parser.add_argument("--quantize", nargs="+", default=["none", "int8"])
    parser.add_argument("--weights", default=None,
                        help="DRNSeg weights (default: random; memory does not depend "
                             "on them)")
    parser.add_argument("--calibration", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--direct-stem", action="store_true",
                        help="also time each export with its full-resolution "
                             "convolutions left direct (convert_to_tflite("
                             "lean_stem=False), what the export did before the "
                             "space-to-depth stem), with the Interpreter")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--output-dir", default=os.path.join(HERE, "results"))
    args = parser.parse_args(argv)
    h, w = (int(v) for v in args.size.split("x"))
    names = [f"tflite_{q}" for q in args.quantize]
    direct = [f"{name}{DIRECT_STEM}" for name in names] if args.direct_stem else []
    rows, notes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        _, state = prepare_weights(args.arch, args.classes, args.weights, tmp)
        variants.write_inputs(tmp, h, w, dataset=BENCHMARK_DATASET)
        artifacts = prepare_artifacts(args.arch, args.classes, state, names + direct, h,
                                      w, tmp, args.calibration)
        common = dict(arch=args.arch, classes=args.classes, height=h, width=w,
                      state_path=state, input_dir=tmp)
        runs = [("torch", variants.torch_variant, common)]
        for name in names:
            artifact = dict(common, artifact=artifacts[name])
            runs += [
                (f"{name} Interpreter", variants.tflite_variant, artifact),
                (f"{name} CompiledModel", variants.litert_compiled_variant, artifact),
                (f"{name} CompiledModel transient", variants.litert_compiled_variant,
                 dict(artifact, xnnpack_flags=QS8_QU8 | TRANSIENT_INDIRECTION)),
            ]
            if args.direct_stem:
                runs.append((f"{name} direct stem Interpreter", variants.tflite_variant,
                             dict(common, artifact=artifacts[name + DIRECT_STEM])))
        results = harness.run_side_by_side(runs, rounds=args.rounds, per_round=1,
                                           warmup=1, threads=args.threads)
        for name in names:
            top, total = largest_tensors(artifacts[name])
            largest = "; ".join(f"{op} {shape} {mib:.0f} MiB" for mib, op, shape in top)
            notes.append(f"{name}: op outputs sum to {total:.0f} MiB; largest: {largest}")
    ref = results["torch"]
    for name, r in results.items():
        nan = float("nan")
        rows.append(dict(
            variant=name, median_ms=r.median * 1e3,
            min_ms=min(r.times) * 1e3 if r.times else nan,
            max_ms=max(r.times) * 1e3 if r.times else nan,
            speed_vs_torch=harness.paired_ratio(ref, r) if r.times else nan,
            peak_mib=r.peak_rss_mib or nan,
            memory_vs_torch=(r.peak_rss_mib or nan) / (ref.peak_rss_mib or nan),
            error=(r.error or "")[-300:]))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    lines = [f"Machine: {machine()}, load average {load} after the runs", "",
             f"{args.arch} {h}x{w}, batch 1, {args.threads} threads, {args.rounds} "
             f"rounds", "",
             "| variant | median ms | min-max ms | speed / torch | peak MiB "
             "| memory / torch |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['variant']} | {row['median_ms']:.0f} | "
                     f"{row['min_ms']:.0f}-{row['max_ms']:.0f} | "
                     f"{row['speed_vs_torch']:.2f} | {row['peak_mib']:.0f} | "
                     f"{row['memory_vs_torch']:.2f} |")
    lines += [""] + [f"- {note}" for note in notes] + [""]
    text = "\n".join(lines)
    print(text)
    os.makedirs(args.output_dir, exist_ok=True)
    with open(os.path.join(args.output_dir, "tflite_memory.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.output_dir, "tflite_memory.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


if __name__ == "__main__":
    main()
