"""The input pipeline alone (PNG decode + augmentation) beside the training step it
feeds, to show whether data loading is the bottleneck.

    python benchmarks/input_pipeline.py [--size 1024x2048] [--crop 512] [--batch 2]
        [--random-scale 2] [--random-rotate 10]

Writes Cityscapes-layout PNGs of synthetic scenes (full 1024x2048 frames by default),
then times keras_drn's tf.data pipeline with the reference's augmentation (the D-105
recipe's scale 2 and rotation 10) and keras_drn's training step on batches of the same
size, in alternating rounds. Both use the same cores, as in a real run on this machine.
Each timed run of the pipeline opens a fresh iterator, so that nothing is prefetched
while another variant is being timed.
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

COLUMNS = [("arch", "what"), ("size", "batch"), ("variant", "variant"),
           ("median_ms", "median ms per batch"), ("p90_ms", "p90 ms"),
           ("images_per_s", "img/s"), ("peak_mib", "peak MiB"),
           ("speed_vs_step", "speed / training step")]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1024x2048")
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--crop", type=int, default=512)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--random-scale", type=float, default=2.0)
    parser.add_argument("--random-rotate", type=float, default=10.0)
    parser.add_argument("--arch", default="drn_d_22")
    parser.add_argument("--batches-per-run", type=int, default=8,
                        help="batches pulled from a fresh iterator per timed run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-round", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--output-dir", default=os.path.join(HERE, "results"))
    args = parser.parse_args(argv)
    h, w = (int(v) for v in args.size.split("x"))
    os.makedirs(args.output_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"writing {args.images} scenes of {h}x{w} ...", flush=True)
        variants.write_cityscapes_layout(tmp, args.images, h, w)
        batch_dir = os.path.join(tmp, "batch")
        os.makedirs(batch_dir)
        variants.write_batch(batch_dir, args.batch, args.crop)
        pipeline = dict(data_dir=tmp, batch=args.batch, crop=args.crop,
                        random_scale=args.random_scale, random_rotate=args.random_rotate,
                        batches=args.batches_per_run)
        plain = dict(pipeline, random_scale=0.0, random_rotate=0.0)
        results = harness.run_side_by_side(
            [("pipeline_augmented", variants.pipeline_variant, pipeline),
             ("pipeline_crop_flip", variants.pipeline_variant, plain),
             ("train_step", variants.keras_train_variant,
              dict(arch=args.arch, classes=19, batch_dir=batch_dir))],
            rounds=args.rounds, per_round=args.per_round, warmup=2, threads=args.threads)
    for name, r in results.items():  # per batch, not per run of the pipeline
        if name != "train_step":
            r.times = [t / args.batches_per_run for t in r.times]
    step = results["train_step"]
    rows = []
    for name, r in results.items():
        nan = float("nan")
        timed = bool(r.times)
        rows.append(dict(
            arch=args.arch if name == "train_step" else "tf.data",
            size=f"{args.crop} x{args.batch} from {h}x{w}", variant=name,
            median_ms=r.median * 1e3, p90_ms=r.p90 * 1e3,
            images_per_s=args.batch / r.median if timed else nan,
            peak_mib=r.peak_rss_mib or nan,
            # > 1: the pipeline delivers images faster than the step consumes them.
            speed_vs_step=(harness.paired_ratio(step, r) if step.times and timed
                           else nan),
            error=(r.error or "")[-300:]))
    write_outputs(rows, args.output_dir, "input_pipeline", columns=COLUMNS)
    return rows


if __name__ == "__main__":
    main()
