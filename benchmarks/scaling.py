"""How the training step grows with the crop size and with the number of replicas.

    python benchmarks/scaling.py [--crops 256 384 512 768] [--batch 2] [--replicas 1 2]

Crop scaling: keras_drn's step and the PyTorch reference's at each crop (the work grows
with the pixels, so ms per megapixel should stay flat). Replica scaling: the same global
batch split over N replicas (MirroredStrategy over N logical CPU devices here, N GPUs
on a GPU machine): on a 2-core CPU the replicas share the cores, so this shows the
strategy's overhead rather than a speed-up.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import variants  # noqa: E402
from inference import write_outputs  # noqa: E402

COLUMNS = [("arch", "model"), ("size", "crop x batch"), ("variant", "variant"),
           ("median_ms", "median ms"), ("p90_ms", "p90 ms"), ("images_per_s", "img/s"),
           ("ms_per_mpx", "ms per Mpx"), ("peak_mib", "peak MiB"),
           ("speed_vs_torch", "speed / torch")]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="drn_d_22")
    parser.add_argument("--crops", nargs="+", type=int, default=[256, 384, 512, 768])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--replicas", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--output-dir", default=os.path.join(HERE, "results"))
    args = parser.parse_args(argv)
    os.makedirs(args.output_dir, exist_ok=True)
    rows = []
    nan = float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        for crop in args.crops:
            batch_dir = os.path.join(tmp, f"c{crop}")
            os.makedirs(batch_dir)
            variants.write_batch(batch_dir, args.batch, crop)
            common = dict(arch=args.arch, classes=19, batch_dir=batch_dir)
            chosen = [("torch", variants.torch_train_variant, common)]
            for n in args.replicas:
                chosen.append((f"keras_{n}replica{'s' if n > 1 else ''}",
                               variants.keras_train_variant, dict(common, replicas=n)))
            print(f"\n== crop {crop}, global batch {args.batch}", flush=True)
            results = harness.run_side_by_side(chosen, rounds=args.rounds, per_round=1,
                                               warmup=1, threads=args.threads)
            ref = results["torch"]
            megapixels = args.batch * crop * crop / 1e6
            for name, r in results.items():
                timed = bool(r.times)
                rows.append(dict(
                    arch=args.arch, size=f"{crop} x{args.batch}", variant=name,
                    median_ms=r.median * 1e3, p90_ms=r.p90 * 1e3,
                    images_per_s=args.batch / r.median if timed else nan,
                    ms_per_mpx=r.median * 1e3 / megapixels if timed else nan,
                    peak_mib=r.peak_rss_mib or nan,
                    speed_vs_torch=(harness.paired_ratio(ref, r)
                                    if ref.times and timed else nan),
                    memory_vs_torch=((r.peak_rss_mib or nan) / (ref.peak_rss_mib or nan)),
                    argmax_agreement=nan, error=(r.error or "")[-300:]))
    write_outputs(rows, args.output_dir, "scaling", columns=COLUMNS)
    return rows


if __name__ == "__main__":
    main()
