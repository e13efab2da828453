"""Inference latency, throughput and memory of DRNSeg beside the PyTorch reference.

    python benchmarks/inference.py [--archs drn_d_22 drn_c_26] [--sizes 512x1024 1024x2048]
        [--variants torch keras_eager keras_function keras_xla ...] [--rounds 5]

One worker process per variant, interleaved timing rounds (benchmarks/harness.py).
Prints a table and writes CSV, Markdown and a PNG plot under --output-dir.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import numpy as np  # noqa: E402
import variants  # noqa: E402

BENCHMARK_DATASET = "cityscapes"  # the inputs' normalisation (variants.write_inputs)
KERAS_MODES = {"keras_eager": "eager", "keras_predict": "predict",
               "keras_function": "function", "keras_xla": "xla"}
# bfloat16 variants (keras_drn.export.precision), for CPUs with AVX512_BF16 or AMX.
BF16_VARIANTS = ("keras_function_bf16", "savedmodel_bf16")


def prepare_weights(arch, classes, weights, directory, seed=0):
    """Writes the benchmark's weights as a reference-layout state dict (`.pth` for the
    PyTorch reference, `.npz` for the Keras workers) and returns the Keras model.

    `weights` is a DRNSeg weights file (e.g. a short synthetic training run of
    train/cityscapes.py, so that predictions are decisive and argmax agreement means
    something), or None for the reference's random initialisation with non-trivial BN
    statistics (fine for speed; int8 agreement is then not meaningful). `weights` is
    read by `keras_drn.weights.resolve`, so a released name or a preset works too."""
    import torch

    from keras_drn.models import build_drnseg
    from keras_drn.models.walk import leaf_layers
    from keras_drn.weights import export_state_dict

    model = build_drnseg(arch, classes, dataset=BENCHMARK_DATASET)
    if weights:
        _load(model, weights, arch)
    else:
        rng = np.random.default_rng(seed)
        for layer in leaf_layers(model):  # the backbone's layers, nested in the model
            if hasattr(layer, "moving_variance"):
                c = layer.moving_variance.shape[0]
                layer.moving_mean.assign(0.2 * rng.standard_normal(c).astype("float32"))
                layer.moving_variance.assign((0.5 + rng.random(c)).astype("float32"))
    state = export_state_dict(model, arch=arch, kind="segmentation")
    path = os.path.join(directory, f"{arch}.pth")
    torch.save({k: torch.from_numpy(v) for k, v in state.items()}, path)
    np.savez(path.replace(".pth", ".npz"), **state)
    return model, path


def _load(model, weights, arch, argument="--weights"):
    from keras_drn.weights.resolve import load_resolved
    from keras_drn.weights.resolve import resolve_weights

    resolved = resolve_weights(weights, f"drnseg_{arch}", what=f"DRNSeg({arch!r})",
                               argument=argument)
    load_resolved(model, resolved, arch=arch, kind="segmentation",
                  model_key=f"drnseg_{arch}")


# The suffix of an artifact name asking for the stem left direct (lean_stem=False).
DIRECT_STEM = "_direct_stem"


def prepare_artifacts(arch, classes, state_path, names, height, width, directory,
                      calibration):
    """Exports the deployment variants named in `names` for a fixed input size, in a
    child process: the converter (int8 calibration above all) holds several GiB at
    1024x2048, which must not stay in the parent beside the timing workers."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_export_artifacts, (arch, classes, state_path, names, height,
                                              width, directory, calibration))


def _export_artifacts(arch, classes, state_path, names, height, width, directory,
                      calibration):
    from keras_drn.export import convert_to_tflite
    from keras_drn.export import export_saved_model
    from keras_drn.export import representative_images
    from keras_drn.export import write_tflite
    from keras_drn.models import build_drnseg

    # The segmenter records the benchmark's dataset, whose statistics the exports apply
    # inside, as variants.write_inputs applies them for the other variants.
    model = build_drnseg(arch, classes, dataset=BENCHMARK_DATASET)
    _load(model, state_path, arch, argument="state_path")
    artifacts = {}
    for name, precision in (("savedmodel", "float32"), ("savedmodel_bf16", "bfloat16")):
        if name in names:
            path = os.path.join(directory, name)
            if not os.path.exists(path):
                export_saved_model(model, path, precision=precision)
            artifacts[name] = path
    for name in names:
        if not name.startswith("tflite_"):
            continue
        # "tflite_MODE" is the default export; "tflite_MODE_direct_stem" the same with
        # the full-resolution convolutions left as they are (lean_stem=False), for
        # benchmarks/tflite_memory.py --direct-stem.
        quantize = name[len("tflite_"):].removesuffix(DIRECT_STEM)
        path = os.path.join(directory, f"{name}.tflite")
        images = (representative_images((height, width), count=calibration)
                  if quantize == "int8" else None)
        content = convert_to_tflite(model, (height, width), quantize=quantize,
                                    representative_images=images,
                                    lean_stem=not name.endswith(DIRECT_STEM))
        write_tflite(content, path)
        artifacts[name] = path
        print(f"  {name}: {len(content) / 2**20:.1f} MiB", flush=True)
    return artifacts


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


DEPLOYED = ("savedmodel", "tflite_none", "tflite_float16", "tflite_dynamic",
            "tflite_int8")


def variant_list(names, arch, classes, height, width, state_path, input_dir, artifacts):
    out = []
    for name in names:
        common = dict(arch=arch, classes=classes, height=height, width=width,
                      state_path=state_path, input_dir=input_dir)
        if name == "torch":
            out.append((name, variants.torch_variant, common))
        elif name in KERAS_MODES:
            out.append((name, variants.keras_variant,
                        dict(common, mode=KERAS_MODES[name])))
        elif name == "keras_function_bf16":
            out.append((name, variants.keras_variant,
                        dict(common, mode="function", precision="bfloat16")))
        elif name in ("savedmodel", "savedmodel_bf16"):
            out.append((name, variants.savedmodel_variant,
                        dict(common, artifact=artifacts[name])))
        elif name.startswith("tflite_"):
            out.append((name, variants.tflite_variant,
                        dict(common, artifact=artifacts[name])))
        else:
            raise SystemExit(f"Unknown variant {name!r}; known: torch, "
                             f"{', '.join(KERAS_MODES)}, {', '.join(DEPLOYED)}, "
                             f"{', '.join(BF16_VARIANTS)}.")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=["drn_d_22", "drn_c_26"])
    parser.add_argument("--sizes", nargs="+", default=["512x1024", "1024x2048"])
    parser.add_argument("--classes", type=int, default=19)
    from keras_drn.export.precision import cpu_has_bfloat16

    parser.add_argument("--variants", nargs="+",
                        default=["torch", "keras_eager", "keras_function", "keras_xla",
                                 *DEPLOYED,
                                 *(BF16_VARIANTS if cpu_has_bfloat16() else ())],
                        help="what to time; the bfloat16 variants are in the default "
                             "list where the CPU has native bfloat16 (AVX512_BF16, AMX)")
    parser.add_argument("--weights", nargs="*", default=[], metavar="ARCH=FILE",
                        help="DRNSeg weights per architecture (default: random)")
    parser.add_argument("--calibration", type=int, default=16,
                        help="int8 calibration images")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--output-dir", default=os.path.join(HERE, "results"))
    args = parser.parse_args(argv)
    weights = dict(item.split("=", 1) for item in args.weights)
    os.makedirs(args.output_dir, exist_ok=True)
    rows = []
    from keras_drn.models import build_drnseg
    from keras_drn.models.flops import count_flops

    with tempfile.TemporaryDirectory() as tmp:
        for arch in args.archs:
            _, state = prepare_weights(arch, args.classes, weights.get(arch), tmp)
            for size in args.sizes:
                h, w = (int(v) for v in size.split("x"))
                flops = count_flops(build_drnseg(arch, args.classes, input_shape=(h, w, 3)))
                input_dir = os.path.join(tmp, f"{arch}_{h}x{w}")  # artifacts are per model
                os.makedirs(input_dir, exist_ok=True)
                variants.write_inputs(input_dir, h, w, dataset=BENCHMARK_DATASET)
                artifacts = prepare_artifacts(arch, args.classes, state, args.variants,
                                              h, w, input_dir, args.calibration)
                print(f"\n== {arch} {h}x{w}: {flops / 1e9:.1f} GFLOP per image", flush=True)
                results = harness.run_side_by_side(
                    variant_list(args.variants, arch, args.classes, h, w, state, input_dir,
                                 artifacts),
                    rounds=args.rounds, per_round=args.per_round, warmup=args.warmup,
                    threads=args.threads)
                ref = results.get("torch")
                ref_labels = ref.extra.get("labels") if ref and not ref.error else None
                for name, r in results.items():
                    nan = float("nan")
                    timed = bool(r.times)
                    row = dict(
                        arch=arch, size=f"{h}x{w}", variant=name,
                        median_ms=r.median * 1e3, p90_ms=r.p90 * 1e3,
                        min_ms=min(r.times) * 1e3 if timed else nan,
                        max_ms=max(r.times) * 1e3 if timed else nan,
                        images_per_s=1 / r.median if timed else nan,
                        gflops_per_s=flops / 1e9 / r.median if timed else nan,
                        peak_mib=r.peak_rss_mib or nan,
                        speed_vs_torch=(harness.paired_ratio(ref, r)
                                        if ref and ref.times and timed else nan),
                        memory_vs_torch=((r.peak_rss_mib or nan)
                                         / (ref.peak_rss_mib or nan) if ref else nan),
                        argmax_agreement=nan, error=(r.error or "")[-300:])
                    labels = r.extra.get("labels")
                    if ref_labels is not None and labels is not None:
                        row["argmax_agreement"] = float(np.mean(labels == ref_labels))
                    rows.append(row)
                # After every configuration, so a long run that dies keeps what it had.
                write_outputs(rows, args.output_dir, "inference")
    return rows


COLUMNS = [("arch", "model"), ("size", "input"), ("variant", "variant"),
           ("median_ms", "median ms"), ("min_ms", "min ms"), ("max_ms", "max ms"),
           ("p90_ms", "p90 ms"), ("images_per_s", "img/s"),
           ("gflops_per_s", "GFLOP/s"), ("peak_mib", "peak MiB"),
           ("speed_vs_torch", "speed / torch"), ("memory_vs_torch", "memory / torch"),
           ("argmax_agreement", "argmax = torch")]


def _cell(value):
    if isinstance(value, float):
        if np.isnan(value):
            return "–"
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.0f}"
    return str(value)


def write_outputs(rows, out_dir, stem, columns=None):
    """Prints the table and writes `<stem>.md`, `.csv` and `.png` under `out_dir`."""
    columns = columns or COLUMNS
    header = [title for _, title in columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(key, float("nan")))
                                       for key, _ in columns) + " |")
    table = "\n".join(lines)
    text = f"Machine: {machine()}\n\n{table}\n"
    print("\n" + text)
    with open(os.path.join(out_dir, f"{stem}.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out_dir, f"{stem}.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, os.path.join(out_dir, f"{stem}.png"),
         title=f"{stem.replace('_', ' ')}: median ms, lower is better")


def plot(rows, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted({(r["arch"], r["size"]) for r in rows})
    names = list(dict.fromkeys(r["variant"] for r in rows))
    fig, ax = plt.subplots(figsize=(2 + 1.6 * len(groups), 4.5))
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        values = []
        for g in groups:
            match = [r for r in rows
                     if (r["arch"], r["size"]) == g and r["variant"] == name]
            values.append(match[0]["median_ms"] if match else np.nan)
        ax.bar(np.arange(len(groups)) + i * width, values, width, label=name)
    ax.set_xticks(np.arange(len(groups)) + width * (len(names) - 1) / 2)
    ax.set_xticklabels([f"{a}\n{s}" for a, s in groups])
    ax.set_ylabel("median ms")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
