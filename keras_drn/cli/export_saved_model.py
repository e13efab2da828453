"""Export a DRNSeg model as a TensorFlow SavedModel (TensorFlow Serving, tf.saved_model).

    keras-drn-export-saved-model --arch drn_d_22 --classes 19 --weights W --output DIR

Signatures: `serving_default` (uint8 RGB `images` [N, H, W, 3] of any size -> int32
`labels` [N, H, W] and float32 `probabilities` [N, H, W, C]), `serving_bytes` (encoded
PNG/JPEG `image_bytes` [N] -> the same) and `serving_logits` (`images` -> `logits`). The
model's dataset's mean/std (the weights' dataset unless --dataset) are applied inside;
`assets.extra/keras_drn.json` records the classes, class names, head and normalisation.
Check it with `saved_model_cli show --dir DIR --all`. `--precision bfloat16` computes
the convolutions in bfloat16 (for CPUs with AVX512_BF16 or AMX; float32 variables and
outputs).
"""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def parse_args(argv=None):
    from keras_drn.cli.common import export_parser

    parser = export_parser(__doc__)

    parser.add_argument("--output", required=True, help="the SavedModel directory.")
    parser.add_argument("--input-size", default=None,
                        help="HEIGHTxWIDTH to fix the input size (default: any size).")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --output directory.")
    parser.add_argument("--precision", choices=("float32", "bfloat16"), default="float32",
                        help="bfloat16: mixed_bfloat16 convolutions (native on CPUs with "
                             "AVX512_BF16 or AMX; emulated, slower, elsewhere).")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from keras_drn.export import arguments
    from keras_drn.export.saved_model import export_saved_model
    from keras_drn.export.serving import check_input_size
    from keras_drn.export.tflite import parse_input_size

    input_shape = (None, None, 3)
    try:
        if args.input_size:
            size = check_input_size(parse_input_size(args.input_size), args.head)
            input_shape = (*size, 3)
        if os.path.exists(args.output) and not args.overwrite:
            raise ValueError(f"--output {args.output!r} exists; pass --overwrite to "
                             f"replace it.")
    except ValueError as error:
        arguments.fail(str(error))
    model = arguments.build_model(args, input_shape=input_shape)
    start = time.perf_counter()
    export_saved_model(model, args.output, overwrite=args.overwrite,
                       extra_metadata={"weights": args.weights},
                       precision=args.precision)
    print(f"wrote {args.output} in {time.perf_counter() - start:.1f} s; signatures "
          f"serving_default, serving_bytes, serving_logits "
          f"(saved_model_cli show --dir {args.output} --all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
