"""Export a DRNSeg model to TFLite (LiteRT).

    keras-drn-export-tflite --arch drn_d_22 --classes 19 --weights W \
        --input-size 512x1024 --quantize int8 --output drn_d_22_int8.tflite

The model takes uint8 RGB [1, H, W, 3] and normalises inside; it returns float32 logits
[1, H, W, C] (--outputs logits) or a uint8 label map [1, H, W] (--outputs labels: argmax
and upsampling inside). --quantize: none (float32), float16, dynamic (int8 weights), int8
(full integer, calibrated on synthetic scenes or --data-dir). Every dilated convolution
is a native dilated CONV_2D; the script checks the op list and fails otherwise. With
mediapipe installed the model also carries the standard TFLite metadata (image input,
segmentation output, the class names as labels.txt), which MediaPipe's ImageSegmenter
reads. --report adds parity against Keras and latency beside Keras' (see
export/report.py for every artifact at once).
"""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def parse_args(argv=None):
    from keras_drn.cli.common import export_parser

    parser = export_parser(__doc__)
    from keras_drn.export import arguments
    from keras_drn.export.tflite import OUTPUTS
    from keras_drn.export.tflite import QUANTIZE_MODES

    parser.add_argument("--input-size", required=True,
                        help="HEIGHTxWIDTH of the fixed input, e.g. 512x1024 (a multiple "
                             "of 8 with the reference head).")
    parser.add_argument("--quantize", choices=QUANTIZE_MODES, default="none")
    parser.add_argument("--outputs", choices=OUTPUTS, default="logits",
                        help="logits, or labels (argmax inside: a uint8 label map).")
    parser.add_argument("--integer-io", action="store_true",
                        help="with --quantize int8: int8 logits out (uint8 pixels in, "
                             "always), for accelerators that take integer tensors only.")
    parser.add_argument("--direct-stem", action="store_true",
                        help="leave the full-resolution convolutions (DRN's stem) as "
                             "they are instead of computing them in space-to-depth "
                             "form: float32 runs faster on the Interpreter (0.8x of "
                             "the time at 1024x2048 on an Intel Xeon) but peaks "
                             "higher in memory; int8 gets slower and larger. See "
                             "benchmarks/results/tflite_memory.md.")
    parser.add_argument("--output", required=True, help="the .tflite file to write.")
    arguments.add_data_arguments(parser)
    parser.add_argument("--report", action="store_true",
                        help="print parity against Keras and latency beside Keras'.")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for --report (default: the cores available).")
    parser.add_argument("--runs", type=int, default=20, help="timed runs for --report.")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up runs for --report.")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from keras_drn.export import arguments
    from keras_drn.export import calibration
    from keras_drn.export import report
    from keras_drn.export.runtime import default_threads
    from keras_drn.export.serving import check_input_size
    from keras_drn.export.tflite import check_options
    from keras_drn.export.tflite import convert_to_tflite
    from keras_drn.export.tflite import describe
    from keras_drn.export.tflite import parse_input_size
    from keras_drn.export.tflite import write_tflite

    try:
        size = check_input_size(parse_input_size(args.input_size), args.head)
        check_options(args.quantize, args.outputs, args.integer_io, args.head)
        if not args.output.endswith(".tflite"):
            raise ValueError(f"--output {args.output!r} should end with .tflite.")
        calib = None
        if args.quantize == "int8":
            calib = calibration.representative_images(
                size, count=args.calibration_images, data_dir=args.data_dir)
        validation = None
        if args.report:
            validation = calibration.representative_images(
                size, count=args.validation_images, data_dir=args.data_dir,
                purpose="validation")
    except (ValueError, FileNotFoundError) as error:
        arguments.fail(str(error))

    model = arguments.build_model(args)
    start = time.perf_counter()
    content = convert_to_tflite(
        model, size, quantize=args.quantize, outputs=args.outputs,
        representative_images=calib, integer_io=args.integer_io,
        extra_metadata={"weights": args.weights}, lean_stem=not args.direct_stem,
    )
    write_tflite(content, args.output)
    print(f"wrote {args.output}: {len(content) / 2**20:.1f} MiB in "
          f"{time.perf_counter() - start:.1f} s")
    print(describe(content))
    if args.report:
        threads = args.threads or default_threads()
        mode = args.quantize
        artifact = report.Artifact(
            f"TFLite {report.tflite_name(mode, args.outputs, args.integer_io)}",
            "tflite", mode, args.output, args.outputs)
        images = list(validation())
        from keras_drn.export import latency
        from keras_drn.export import parity

        print("\nParity against Keras "
              f"({len(images)} validation images, {size[0]}x{size[1]}):")
        print(parity.format_table(report.parity(model, [artifact], images,
                                                threads=threads)))
        print(f"\nLatency (batch 1, {threads} threads, {args.warmup} warm-up, "
              f"{args.runs} runs, each in a fresh process):")
        print(latency.format_table(report.latency(
            model, [artifact], images[0], threads=threads, runs=args.runs,
            warmup=args.warmup, log=lambda m: print(m, file=sys.stderr))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
