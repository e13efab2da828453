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

KERAS_MODES = {"keras_eager": "eager", "keras_predict": "predict",
               "keras_function": "function", "keras_xla": "xla"}


def make_weights(arch, classes, path, seed=0):
    """A reference-layout DRNSeg state dict with non-trivial BN statistics and a
    classifier scaled so that the logits are decisive (argmax agreement is then a
    meaningful check rather than a coin toss between near-ties)."""
    import torch
    import torch_reference

    torch.manual_seed(seed)
    model = torch_reference.TorchDRNSeg(
        torch_reference.randomize_bn(torch_reference.build(arch), seed), classes)
    state = model.state_dict()
    torch.save(state, path)
    np.savez(path.replace(".pth", ".npz"), **{k: v.numpy() for k, v in state.items()})


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


def variant_list(names, arch, classes, height, width, state_path, input_dir, extra):
    out = []
    for name in names:
        common = dict(arch=arch, classes=classes, height=height, width=width,
                      state_path=state_path, input_dir=input_dir)
        if name == "torch":
            out.append((name, variants.torch_variant, common))
        elif name in KERAS_MODES:
            out.append((name, variants.keras_variant,
                        dict(common, mode=KERAS_MODES[name])))
        elif name in extra:
            factory, kwargs = extra[name]
            out.append((name, factory, dict(common, **kwargs)))
        else:
            raise SystemExit(f"Unknown variant {name!r}.")
    return out


def main(argv=None, extra_variants=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=["drn_d_22", "drn_c_26"])
    parser.add_argument("--sizes", nargs="+", default=["512x1024", "1024x2048"])
    parser.add_argument("--classes", type=int, default=19)
    parser.add_argument("--variants", nargs="+",
                        default=["torch", *KERAS_MODES])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--output-dir", default=os.path.join(HERE, "results"))
    args = parser.parse_args(argv)
    extra = extra_variants or {}
    os.makedirs(args.output_dir, exist_ok=True)
    rows = []
    from keras_drn.models import build_drnseg
    from keras_drn.models.flops import count_flops

    with tempfile.TemporaryDirectory() as tmp:
        for arch in args.archs:
            state = os.path.join(tmp, f"{arch}.pth")
            make_weights(arch, args.classes, state)
            for size in args.sizes:
                h, w = (int(v) for v in size.split("x"))
                flops = count_flops(build_drnseg(arch, args.classes, input_shape=(h, w, 3)))
                input_dir = os.path.join(tmp, f"{h}x{w}")
                os.makedirs(input_dir, exist_ok=True)
                variants.write_inputs(input_dir, h, w)
                print(f"\n== {arch} {h}x{w}: {flops / 1e9:.1f} GFLOP per image", flush=True)
                results = harness.run_side_by_side(
                    variant_list(args.variants, arch, args.classes, h, w, state, input_dir,
                                 extra),
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
    write_outputs(rows, args.output_dir, "inference")
    return rows


COLUMNS = [("arch", "model"), ("size", "input"), ("variant", "variant"),
           ("median_ms", "median ms"), ("p90_ms", "p90 ms"), ("images_per_s", "img/s"),
           ("gflops_per_s", "GFLOP/s"), ("peak_mib", "peak MiB"),
           ("speed_vs_torch", "speed / torch"), ("memory_vs_torch", "memory / torch"),
           ("argmax_agreement", "argmax = torch")]


def _cell(value):
    if isinstance(value, float):
        if np.isnan(value):
            return "–"
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.0f}"
    return str(value)


def write_outputs(rows, out_dir, stem):
    header = [title for _, title in COLUMNS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[key]) for key, _ in COLUMNS) + " |")
    table = "\n".join(lines)
    text = f"Machine: {machine()}\n\n{table}\n"
    print("\n" + text)
    with open(os.path.join(out_dir, f"{stem}.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out_dir, f"{stem}.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, os.path.join(out_dir, f"{stem}.png"))


def plot(rows, path):
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
    ax.set_ylabel("median latency (ms), batch 1")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.set_title("DRNSeg inference, lower is better")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
