"""Where inference time goes: the top ops of DRNSeg in TensorFlow and in the PyTorch
reference, per image, side by side.

    python benchmarks/profile_ops.py [--arch drn_d_22] [--size 512x1024] [--top 12]

Each framework runs in its own process with the same threads. TensorFlow: the Keras
model's inference function, frozen and run in a session with a full trace (the step
stats of every kernel, grouped by op type, after oneDNN's graph rewrites). PyTorch:
`torch.profiler` self CPU time grouped by op. Random weights (times do not depend on
them). Writes `profile_<arch>_<size>.md` and `.csv` under --output-dir.
"""

from __future__ import annotations

import argparse
import collections
import csv
import multiprocessing as mp
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import variants  # noqa: E402, F401


def _set_threads(threads):
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def profile_tensorflow(arch, classes, height, width, threads, runs):
    """{op type: ms per image} and the traced wall time per image."""
    _set_threads(threads)
    import numpy as np
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    from keras_drn.models import build_drnseg

    model = build_drnseg(arch, classes, input_shape=(height, width, 3))
    spec = tf.TensorSpec((1, height, width, 3), tf.float32)
    concrete = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    frozen = convert_variables_to_constants_v2(concrete)
    graph_def = frozen.graph.as_graph_def()
    input_name = frozen.inputs[0].name
    output_name = frozen.outputs[0].name
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads,
                                      inter_op_parallelism_threads=1)
    x = np.random.default_rng(0).standard_normal((1, height, width, 3)).astype("float32")
    totals = collections.Counter()
    wall = 0.0
    with tf.compat.v1.Session(graph=graph, config=config) as sess:
        sess.run(output_name, {input_name: x})  # warm-up
        options = tf.compat.v1.RunOptions(
            trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
        for _ in range(runs):
            metadata = tf.compat.v1.RunMetadata()
            sess.run(output_name, {input_name: x}, options=options,
                     run_metadata=metadata)
            first, last = None, None
            for device in metadata.step_stats.dev_stats:
                for node in device.node_stats:
                    # "name = OpType(inputs)"; _SOURCE and friends have no "=".
                    label = node.timeline_label
                    op = (label.split("=", 1)[1].strip().split("(", 1)[0]
                          if "=" in label else node.node_name)
                    end = node.all_start_micros + node.all_end_rel_micros
                    totals[op] += node.all_end_rel_micros / 1e3
                    first = node.all_start_micros if first is None else min(
                        first, node.all_start_micros)
                    last = end if last is None else max(last, end)
            wall += (last - first) / 1e3
    return {op: ms / runs for op, ms in totals.items()}, wall / runs


def profile_torch(arch, classes, height, width, threads, runs):
    _set_threads(threads)
    import numpy as np
    import torch
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile

    torch.set_num_threads(threads)
    from keras_drn import reference

    model = reference.TorchDRNSeg(reference.build(arch), classes).eval()
    x = torch.from_numpy(np.random.default_rng(0).standard_normal(
        (1, 3, height, width)).astype("float32"))
    with torch.inference_mode():
        model(x)  # warm-up
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(runs):
                model(x)
    totals = {e.key: e.self_cpu_time_total / 1e3 / runs for e in prof.key_averages()}
    wall = sum(totals.values())
    return totals, wall


def _in_child(fn, *args):
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(fn, args)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="drn_d_22")
    parser.add_argument("--classes", type=int, default=19)
    parser.add_argument("--size", default="512x1024")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--output-dir", default=os.path.join(HERE, "results"))
    args = parser.parse_args(argv)
    h, w = (int(v) for v in args.size.split("x"))
    common = (args.arch, args.classes, h, w, args.threads, args.runs)
    frameworks = {"tensorflow": _in_child(profile_tensorflow, *common),
                  "torch": _in_child(profile_torch, *common)}
    rows = []
    lines = [f"Machine: {variants_machine()}", "",
             f"{args.arch} {h}x{w}, batch 1, {args.threads} threads, "
             f"{args.runs} traced runs; ms per image by op type (top {args.top}).", ""]
    for name, (totals, wall) in frameworks.items():
        lines += [f"**{name}**: {wall:.0f} ms per image traced", "",
                  "| op | ms | share |", "|---|---|---|"]
        total = sum(totals.values())
        for op, ms in sorted(totals.items(), key=lambda kv: -kv[1])[:args.top]:
            share = ms / total if total else float("nan")
            lines.append(f"| {op} | {ms:.1f} | {100 * share:.1f}% |")
            rows.append(dict(framework=name, arch=args.arch, size=f"{h}x{w}", op=op,
                             ms_per_image=round(ms, 3), share=round(share, 4)))
        lines.append("")
    text = "\n".join(lines)
    print(text)
    os.makedirs(args.output_dir, exist_ok=True)
    stem = os.path.join(args.output_dir, f"profile_{args.arch}_{h}x{w}")
    with open(stem + ".md", "w") as f:
        f.write(text)
    with open(stem + ".csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return frameworks


def variants_machine():
    from inference import machine

    return machine()


if __name__ == "__main__":
    main()
