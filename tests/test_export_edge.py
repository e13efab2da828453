"""What edge runtimes see of a TFLite export: the standard metadata, read by MediaPipe's
ImageSegmenter (class names, labels equal to Keras'), the GPU delegate's verdict
(tf.lite.experimental.Analyzer) on every variant, and the reference head's sub-pixel
lowering (one 3x3 CONV_2D and DEPTH_TO_SPACE, equal to the Keras layer).

The models are tests/test_export_tflite.py's (a seeded DRN-D-22 backbone with a fitted
classifier, 64x96), and its conversions are shared when both modules run together.
"""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")

import keras  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402
from ai_edge_litert.interpreter import OpResolverType  # noqa: E402
from test_export_tflite import CLASSES  # noqa: E402
from test_export_tflite import SIZE  # noqa: E402
from test_export_tflite import exported  # noqa: E402
from test_export_tflite import keras_reference  # noqa: E402
from test_export_tflite import probe_model  # noqa: E402
from test_export_tflite import validation  # noqa: E402

from keras_drn.export import edge_metadata  # noqa: E402
from keras_drn.export import heads  # noqa: E402
from keras_drn.export import read_metadata  # noqa: E402
from keras_drn.export.gpu import gpu_compatibility  # noqa: E402
from keras_drn.export.gpu import parse_report  # noqa: E402
from keras_drn.export.runtime import LiteRTSegmenter  # noqa: E402
from keras_drn.layers.upsampling import BilinearUpsampling  # noqa: E402
from keras_drn.models.walk import leaf_layers  # noqa: E402

needs_metadata = pytest.mark.skipif(
    not edge_metadata.available(), reason="mediapipe (the metadata schema) not installed")

# Every export variant: (quantize, outputs, integer_io, head).
VARIANTS = [
    ("none", "logits", False, "reference"),
    ("float16", "logits", False, "reference"),
    ("dynamic", "logits", False, "reference"),
    ("int8", "logits", False, "reference"),
    ("int8", "logits", True, "reference"),
    ("none", "labels", False, "reference"),
    ("int8", "labels", False, "reference"),
    ("none", "logits", False, "bilinear"),
    ("int8", "labels", False, "bilinear"),
    ("none", "logits", False, "none"),
]


def variant(quantize, outputs, integer_io, head):
    return exported("drn_d_22", quantize, outputs=outputs, integer_io=integer_io,
                    head=head)


@needs_metadata
def test_standard_metadata_describes_image_input_and_segmentation_output():
    content = exported("drn_d_22", "none")
    meta = edge_metadata.read_standard_metadata(content)
    assert meta is not None and meta.minParserVersion
    (subgraph,) = meta.subgraphMetadata
    (image,) = subgraph.inputTensorMetadata
    md = edge_metadata._modules()[0]  # noqa: SLF001
    assert image.content.contentProperties.colorSpace == md.ColorSpaceType.RGB
    assert list(image.stats.min) == [0.0] and list(image.stats.max) == [255.0]
    assert not image.processUnits  # uint8 pixels, normalised inside the graph
    (mask,) = subgraph.outputTensorMetadata
    assert mask.content.contentPropertiesType == md.ContentProperties.ImageProperties
    (labels,) = mask.associatedFiles
    assert labels.type == md.AssociatedFileType.TENSOR_AXIS_LABELS
    assert labels.name.decode() == edge_metadata.LABEL_FILE
    names = list(probe_model("drn_d_22").class_names)
    assert edge_metadata.read_labels(content) == names
    assert [c.name.decode() for c in subgraph.customMetadata] == [
        edge_metadata.SEGMENTER_OPTIONS_NAME]
    # The keras_drn entry survives next to it, and LiteRT still loads the model.
    assert read_metadata(content)["class_names"] == names
    assert LiteRTSegmenter(content, num_threads=2)(validation()[0]).shape == (
        *SIZE, CLASSES)


@needs_metadata
def test_float_input_metadata_carries_the_normalisation():
    buffer = edge_metadata.build_metadata(
        class_names=["a", "b"], input_dtype="float32", mean=[123.7, 116.3, 103.5],
        std=[58.4, 57.1, 57.4])
    md = edge_metadata._modules()[0]  # noqa: SLF001
    meta = md.ModelMetadataT.InitFromPackedBuf(bytearray(buffer), 0)
    (image,) = meta.subgraphMetadata[0].inputTensorMetadata
    (unit,) = image.processUnits
    assert unit.optionsType == md.ProcessUnitOptions.NormalizationOptions
    np.testing.assert_allclose(unit.options.mean, [123.7, 116.3, 103.5], rtol=1e-6)
    np.testing.assert_allclose(unit.options.std, [58.4, 57.1, 57.4], rtol=1e-6)
    with pytest.raises(ValueError, match="mean and std"):
        edge_metadata.build_metadata(class_names=["a"], input_dtype="float32")
    with pytest.raises(ValueError, match="line break"):
        edge_metadata.label_file(["a\nb"])


@needs_metadata
@pytest.mark.parametrize("quantize, target", [("none", 0.9999), ("int8", 0.98)])
def test_mediapipe_image_segmenter_reports_class_names_and_keras_labels(
        tmp_path, quantize, target):
    mp = pytest.importorskip("mediapipe")
    from mediapipe.tasks.python import BaseOptions
    from mediapipe.tasks.python import vision

    path = tmp_path / f"drn_d_22_{quantize}.tflite"
    path.write_bytes(exported("drn_d_22", quantize))
    options = vision.ImageSegmenterOptions(
        base_options=BaseOptions(model_asset_path=str(path)),
        output_category_mask=True, output_confidence_masks=False)
    agree = total = 0
    with vision.ImageSegmenter.create_from_options(options) as segmenter:
        assert segmenter.labels == list(probe_model("drn_d_22").class_names)
        for image, logits in zip(validation(), keras_reference("drn_d_22")):
            result = segmenter.segment(mp.Image(image_format=mp.ImageFormat.SRGB,
                                                data=np.ascontiguousarray(image)))
            mask = np.asarray(result.category_mask.numpy_view()).reshape(SIZE)
            agree += int((mask == logits.argmax(-1)).sum())
            total += mask.size
    print(f"MediaPipe {quantize} category mask = Keras argmax: {agree / total:.5f}")
    assert agree / total >= target, agree / total


def test_gpu_report_parser_finds_incompatible_nodes():
    bad = ("Op#3 UNIQUE(T#1) -> [T#2]\n"
           "GPU COMPATIBILITY WARNING: Not supported op UNIQUE\n\n"
           "GPU COMPATIBILITY WARNING: Subgraph#0 has GPU delegate compatibility "
           "issues at nodes 3 on TFLite runtime version 2.21.0\n")
    result = parse_report(bad)
    assert not result.compatible and len(result.problems) == 2
    assert "UNIQUE" in result.problems[0]
    # No verdict at all (e.g. the check did not run) is not compatibility either.
    assert not parse_report("Subgraph#0 main(T#0) -> [T#1]\n").compatible
    good = parse_report("Your model looks compatible with GPU delegate on TFLite "
                        "runtime version 2.21.0.\n")
    assert good.compatible and not good.problems


@pytest.mark.slow
@pytest.mark.parametrize("quantize, outputs, integer_io, head", VARIANTS)
def test_every_variant_is_gpu_delegate_compatible(quantize, outputs, integer_io, head):
    result = gpu_compatibility(variant(quantize, outputs, integer_io, head))
    assert result.compatible, result.summary()


def _ops_with_shapes(content):
    interpreter = Interpreter(
        model_content=bytes(content),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    ops = interpreter._get_ops_details()  # noqa: SLF001
    return [(op["op_name"], [list(tensors[i]["shape"]) for i in op["inputs"] if i >= 0],
             [list(tensors[i]["shape"]) for i in op["outputs"]]) for op in ops]


@pytest.mark.parametrize("quantize, outputs", [("none", "logits"), ("int8", "labels")])
def test_reference_head_is_one_subpixel_convolution(quantize, outputs):
    ops = _ops_with_shapes(exported("drn_d_22", quantize, outputs=outputs))
    names = [name for name, _, _ in ops]
    assert "TILE" not in names and "STRIDED_SLICE" not in names, names
    stride8 = [SIZE[0] // 8, SIZE[1] // 8]
    # The only PADs are the backbone's stride-2 convolutions' (PyTorch's symmetric
    # padding); none pads the class logits, none has a full-resolution output of the
    # head.
    for name, inputs, _ in ops:
        if name == "PAD":
            assert inputs[0][-1] != CLASSES, inputs
    # The last DEPTH_TO_SPACE is the head's; the others put the full-resolution stem
    # convolutions' 2x2 phases back in place (keras_drn.export.stem), one for each of
    # DRN-D's two full-resolution convolutions, at 16 channels.
    *stem, d2s = [i for i, name in enumerate(names) if name == "DEPTH_TO_SPACE"]
    assert len(stem) == 2, names
    for i in stem:
        assert ops[i][2][0] == [1, *SIZE, 16], ops[i]
        assert names[i - 1] in ("CONV_2D", "RELU"), names[i - 1]
    conv_name, conv_inputs, _ = ops[d2s - 1]
    assert conv_name == "CONV_2D"
    assert conv_inputs[0] == [1, *stride8, CLASSES]
    assert conv_inputs[1] == [64 * CLASSES, 3, 3, CLASSES]  # OHWI
    assert ops[d2s][2][0] == [1, *SIZE, CLASSES]
    tail = names[d2s + 1:]
    assert tail == (["ARG_MAX"] if outputs == "labels" else []) or set(tail) <= {
        "ARG_MAX", "CAST", "DEQUANTIZE", "QUANTIZE"}, tail


def test_subpixel_head_equals_the_keras_layer_in_litert():
    """The head alone, converted to TFLite and run by LiteRT, against the Keras
    BilinearUpsampling layer (segment.py's frozen ConvTranspose2d): <= 1e-4."""
    rng = np.random.default_rng(3)
    h, w = SIZE[0] // 8, SIZE[1] // 8
    kernel = rng.normal(size=(16, 16, CLASSES)).astype(np.float32)
    layer = BilinearUpsampling(factor=8)
    layer.build((None, h, w, CLASSES))
    layer.kernel.assign(kernel)

    @tf.function(input_signature=[tf.TensorSpec([1, h, w, CLASSES], tf.float32)])
    def head(x):
        return heads.reference_upsample(x, *SIZE, kernel)

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [head.get_concrete_function()], head)
    interpreter = Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    x = (rng.normal(size=(1, h, w, CLASSES)) * 5).astype(np.float32)
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    want = keras.ops.convert_to_numpy(layer(x))[:, :SIZE[0], :SIZE[1]]
    assert got.shape == want.shape == (1, *SIZE, CLASSES)
    assert np.abs(got - want).max() <= 1e-4


def test_float32_export_logits_equal_keras():
    runner = LiteRTSegmenter(exported("drn_d_22", "none"), num_threads=2)
    diffs = [np.abs(runner(image) - ref).max()
             for image, ref in zip(validation(), keras_reference("drn_d_22"))]
    print("max abs logit difference, float32 export vs Keras:", max(diffs))
    assert max(diffs) <= 1e-4


def _agreement(a, b):
    return float(np.mean([np.mean(x.argmax(-1) == y.argmax(-1)) for x, y in zip(a, b)]))


def test_bfloat16_keras_model_agrees_with_float32():
    from keras_drn.export import parity
    from keras_drn.export.precision import bfloat16_segmenter
    from keras_drn.export.precision import with_precision

    model = probe_model("drn_d_22")
    fast = bfloat16_segmenter(model)
    assert fast is not model and model.dtype_policy.name == "float32"
    assert "mixed_bfloat16" in {layer.dtype_policy.name
                                for layer in fast.backbone.layers}
    logits = parity.keras_logits(fast, validation(), "cityscapes")
    assert logits[0].dtype == np.float32
    reference = keras_reference("drn_d_22")
    assert max(np.abs(a - b).max() for a, b in zip(logits, reference)) > 0  # bf16 ran
    agreement = _agreement(logits, reference)
    print("bfloat16 Keras argmax agreement with float32:", agreement)
    # The probe model's backbone is random, its argmax full of near-ties: 99.8% here
    # (the 99.9% is for trained weights).
    assert agreement >= 0.998
    assert with_precision(model, "float32") is model
    with pytest.raises(ValueError, match="precision"):
        with_precision(model, "float16")


def test_bfloat16_split_is_the_dilated_stages():
    import keras

    from keras_drn.export.precision import bfloat16_layer_names
    from keras_drn.export.precision import bfloat16_segmenter

    model = probe_model("drn_d_22")
    names = bfloat16_layer_names(model)
    # drn.py's DRN-D-22: layer5 (dilation 2) is the first dilated stage; layer5 and
    # layer6 are two residual blocks each (the first with a 1x1 projection), layer7 and
    # layer8 one plain convolution each. layer0-layer4 stay float32.
    expected = [f"layer{stage}_{block}_{conv}" for stage in (5, 6) for block, convs in
                ((0, ("conv1", "conv2", "downsample_0")), (1, ("conv1", "conv2")))
                for conv in convs] + ["layer7_0", "layer8_0"]
    assert names == expected
    every = bfloat16_layer_names(model, stride=1)
    assert set(names) < set(every) and "layer0_0" in every and "seg" not in every
    fast = bfloat16_segmenter(model)
    policies = {layer.name: layer.dtype_policy.name for layer in leaf_layers(fast)}
    assert {name for name, policy in policies.items()
            if policy == "mixed_bfloat16"} == set(names)
    # The default split keeps the high-resolution stages exact: layer4's output equals
    # float32's, while layer5's (bfloat16) does not.
    x = np.random.default_rng(0).normal(size=(1, 64, 64, 3)).astype("float32")
    probe = lambda m: keras.Model(  # noqa: E731
        m.backbone.inputs[0], [m.backbone.get_layer(n).output
                            for n in ("layer4_1_relu", "layer5_1_relu")])(x)
    (a4, a5), (b4, b5) = probe(model), probe(fast)
    np.testing.assert_array_equal(np.asarray(a4), np.asarray(b4))
    assert np.abs(np.asarray(a5) - np.asarray(b5, "float32")).max() > 0


@pytest.mark.slow
def test_bfloat16_saved_model_agrees_with_float32(tmp_path):
    from keras_drn.export import export_saved_model
    from keras_drn.export.runtime import SavedModelSegmenter
    from keras_drn.export.saved_model import read_saved_model_metadata

    path = export_saved_model(probe_model("drn_d_22"), str(tmp_path / "bf16"),
                              precision="bfloat16")
    assert read_saved_model_metadata(path)["precision"] == "bfloat16"
    runner = SavedModelSegmenter(path, outputs="logits")
    logits = [runner(image) for image in validation()]
    agreement = _agreement(logits, keras_reference("drn_d_22"))
    print("bfloat16 SavedModel argmax agreement with float32:", agreement)
    assert agreement >= 0.998
