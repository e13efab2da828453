"""Training step time of DRNSeg: keras_drn's trainer beside the PyTorch reference's step.

    python benchmarks/training.py [--archs drn_d_22] [--crop 512] [--batches 2 4 8]
        [--variants torch keras keras_xla keras_bf16 keras_fp16] [--rounds 3]

The same batch (synthetic scenes, normalised) for every variant; SGD with momentum 0.9
and weight decay 1e-4; cross-entropy ignoring 255. keras_drn's step is the library's
own (`keras_drn.training.trainer`, run through `strategy.run`), fed from memory, so
only the step is timed (benchmarks/input_pipeline.py times the data). Writes CSV,
Markdown and a PNG under --output-dir.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import numpy as np  # noqa: E402
import variants  # noqa: E402
from inference import write_outputs  # noqa: E402

KERAS = {
    "keras": {},
    "keras_xla": {"jit_compile": True},
    "keras_bf16": {"mixed_precision": "bfloat16"},
    "keras_fp16": {"mixed_precision": "float16"},
    "keras_2replicas": {"replicas": 2},
}


COLUMNS = [("arch", "model"), ("size", "crop x batch"), ("variant", "variant"),
           ("median_ms", "median ms"), ("min_ms", "min ms"), ("max_ms", "max ms"),
           ("p90_ms", "p90 ms"), ("images_per_s", "img/s"),
           ("peak_mib", "peak MiB"), ("speed_vs_torch", "speed / torch"),
           ("memory_vs_torch", "memory / torch")]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=["drn_d_22"])
    parser.add_argument("--crop", type=int, default=512)
    parser.add_argument("--batches", nargs="+", type=int, default=[2, 4, 8])
    parser.add_argument("--classes", type=int, default=19)
    parser.add_argument("--variants", nargs="+",
                        default=["torch", "keras", "keras_xla", "keras_bf16"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-round", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--output-dir", default=os.path.join(HERE, "results"))
    parser.add_argument("--stem", default="training")
    args = parser.parse_args(argv)
    os.makedirs(args.output_dir, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for arch in args.archs:
            for batch in args.batches:
                batch_dir = os.path.join(tmp, f"b{batch}_{args.crop}")
                os.makedirs(batch_dir, exist_ok=True)
                variants.write_batch(batch_dir, batch, args.crop, args.classes)
                common = dict(arch=arch, classes=args.classes, batch_dir=batch_dir)
                chosen = []
                for name in args.variants:
                    if name == "torch":
                        chosen.append((name, variants.torch_train_variant, common))
                    elif name in KERAS:
                        chosen.append((name, variants.keras_train_variant,
                                       dict(common, **KERAS[name])))
                    else:
                        raise SystemExit(f"Unknown variant {name!r}; known: torch, "
                                         f"{', '.join(KERAS)}.")
                print(f"\n== {arch}, crop {args.crop}, batch {batch}", flush=True)
                results = harness.run_side_by_side(
                    chosen, rounds=args.rounds, per_round=args.per_round,
                    warmup=args.warmup, threads=args.threads)
                ref = results.get("torch")
                for name, r in results.items():
                    nan = float("nan")
                    timed = bool(r.times)
                    rows.append(dict(
                        arch=arch, size=f"{args.crop} x{batch}", variant=name,
                        median_ms=r.median * 1e3, p90_ms=r.p90 * 1e3,
                        min_ms=min(r.times) * 1e3 if timed else nan,
                        max_ms=max(r.times) * 1e3 if timed else nan,
                        images_per_s=batch / r.median if timed else nan,
                        peak_mib=r.peak_rss_mib or nan,
                        speed_vs_torch=(harness.paired_ratio(ref, r)
                                        if ref and ref.times and timed else nan),
                        memory_vs_torch=((r.peak_rss_mib or nan)
                                         / (ref.peak_rss_mib or nan) if ref else nan),
                        error=(r.error or "")[-300:]))
    write_outputs(rows, args.output_dir, args.stem, columns=COLUMNS)
    return rows


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
