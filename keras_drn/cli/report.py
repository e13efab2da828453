"""Export a DRNSeg model to every format and print parity and latency side by side.

    keras-drn-report --arch drn_d_22 --classes 19 --weights W \
        --input-size 512x1024 --output-dir exported/

Writes the SavedModel and the TFLite models (--quantize, default all four) into
--output-dir, then measures, against the Keras model:
- parity on --validation-images images (synthetic by default, --data-dir for real ones):
  max abs logit difference, argmax agreement (targets: float32 >= 99.99%, float16
  >= 99.9%, dynamic and int8 >= 98%), mIoU against Keras' labels;
- latency, each artifact in a fresh process with the same image and threads: warm-up,
  --runs timed runs, median and p90, load time, peak memory;
- for every TFLite model, whether TFLite's GPU delegate takes it
  (tf.lite.experimental.Analyzer, gpu_compatibility=True), and its standard metadata
  (MediaPipe's image segmenter schema, the label file).
Tables are printed in Markdown; --json writes every figure.
"""

import json
import os
import platform
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def parse_args(argv=None):
    from keras_drn.cli.common import export_parser

    parser = export_parser(__doc__)
    from keras_drn.export import arguments
    from keras_drn.export.tflite import OUTPUTS
    from keras_drn.export.tflite import QUANTIZE_MODES

    parser.add_argument("--input-size", required=True, help="HEIGHTxWIDTH, e.g. 512x1024.")
    parser.add_argument("--output-dir", required=True, help="where the artifacts go.")
    parser.add_argument("--quantize", nargs="+", choices=QUANTIZE_MODES,
                        default=list(QUANTIZE_MODES))
    parser.add_argument("--outputs", choices=OUTPUTS, default="logits")
    parser.add_argument("--integer-io", action="store_true",
                        help="int8 model with int8 logits out.")
    parser.add_argument("--no-saved-model", action="store_true",
                        help="skip the SavedModel.")
    parser.add_argument("--reuse", action="store_true",
                        help="measure artifacts already in --output-dir instead of "
                             "exporting them again (they must come from this model).")
    arguments.add_data_arguments(parser)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for every runtime (default: the cores available).")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--json", default=None, help="write every figure here.")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from keras_drn.export import arguments
    from keras_drn.export import calibration
    from keras_drn.export import latency
    from keras_drn.export import parity
    from keras_drn.export import report
    from keras_drn.export.runtime import default_threads
    from keras_drn.export.serving import check_input_size
    from keras_drn.export.tflite import parse_input_size

    try:
        size = check_input_size(parse_input_size(args.input_size), args.head)
        calib = calibration.representative_images(
            size, count=args.calibration_images, data_dir=args.data_dir)
        validation = calibration.representative_images(
            size, count=args.validation_images, data_dir=args.data_dir,
            purpose="validation")
    except (ValueError, FileNotFoundError) as error:
        arguments.fail(str(error))
    threads = args.threads or default_threads()
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731

    model = arguments.build_model(args)
    artifacts = report.export_all(
        model, args.output_dir, input_size=size, quantize_modes=args.quantize,
        outputs=args.outputs, calibration=calib,
        integer_io=args.integer_io, saved_model=not args.no_saved_model,
        reuse=args.reuse, log=log)
    images = list(validation())
    source = args.data_dir or "synthetic scenes"
    print(f"# {model.arch}, {model.num_classes} classes, head {model.head}, dataset "
          f"{model.dataset}, weights {args.weights}, input {size[0]}x{size[1]}")
    print(f"\n## Parity against Keras ({len(images)} validation images from {source})\n")
    parity_results = report.parity(model, artifacts, images, threads=threads)
    print(parity.format_table(parity_results))
    edge_rows = report.edge_checks(artifacts)
    if edge_rows:
        print("\n## Edge runtimes (GPU delegate: tf.lite.experimental.Analyzer with "
              "gpu_compatibility=True; PADs are the backbone's stride-2 convolutions')\n")
        print(report.format_edge_table(edge_rows))
    latency_results = []
    if not args.no_latency:
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        print(f"\n## Latency (batch 1, {threads} threads, {args.warmup} warm-up + "
              f"{args.runs} timed runs, each artifact in a fresh process; "
              f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
              f"load average {load} before timing)\n")
        latency_results = report.latency(
            model, artifacts, images[0], threads=threads, runs=args.runs,
            warmup=args.warmup, log=log)
        print(latency.format_table(latency_results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({
                "arch": model.arch, "classes": model.num_classes, "head": model.head,
                "dataset": model.dataset, "class_names": list(model.class_names),
                "weights": args.weights, "input_size": list(size), "threads": threads,
                "validation": source,
                "artifacts": [vars(a) for a in artifacts],
                "parity": [r.as_dict() for r in parity_results],
                "latency": [r.as_dict() for r in latency_results],
                "edge": edge_rows,
            }, f, indent=2)
    failed = [r.name for r in parity_results if not r.passed]
    failed += [f"{row['name']} (GPU delegate)" for row in edge_rows
               if not row["gpu_compatible"]]
    if failed:
        print(f"\nBelow the parity target or not GPU compatible: {', '.join(failed)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
