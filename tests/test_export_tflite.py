"""TFLite export of DRN-D-22 and DRN-C-26 at 64x96: all four quantisation modes, the op
list through the LiteRT interpreter, parity with Keras, labels output, run_tflite.py.

The models. With random weights the argmax of a 19-class DRNSeg is a near-tie in many
pixels, so agreement measures the luck of the draw, not the export. These tests use a
random (seeded) backbone with a fitted classifier: `seg` is the ridge-regression probe
of the stride-8 features onto 5 groups of the synthetic scenes' classes (flat, sky,
vegetation, construction and objects, vehicles and people), regularised with the mean
eigenvalue of the Gram matrix so that its logits are not small differences of large
numbers (an unregularised probe amplifies int8 noise tenfold). Every backbone weight
stays random, so a wrong dilation, padding or normalisation shows in the float32 figures;
the predictions are non-trivial (checked below). The issue's targets are asserted as
they are. Figures for a trained DRN-D-22 at 512x1024 are in docs/export.md.

Conversions are cached per module (a few seconds each on 2 cores).
"""

import functools
import importlib.util
import os

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")

import keras  # noqa: E402

import keras_drn  # noqa: E402
from keras_drn.data.synthetic import render_scene  # noqa: E402
from keras_drn.export import ExportGraphError  # noqa: E402
from keras_drn.export import check_graph  # noqa: E402
from keras_drn.export import convert_to_tflite  # noqa: E402
from keras_drn.export import inspect_tflite  # noqa: E402
from keras_drn.export import parity  # noqa: E402
from keras_drn.export import read_metadata  # noqa: E402
from keras_drn.export.calibration import representative_images  # noqa: E402
from keras_drn.export.graph import keras_dilations  # noqa: E402
from keras_drn.export.runtime import LiteRTSegmenter  # noqa: E402
from keras_drn.models import build_drnseg  # noqa: E402

SIZE = (64, 96)
CLASSES = 5
MODES = ("none", "float16", "dynamic", "int8")
ARCHS = ("drn_d_22", "drn_c_26")
# Cityscapes train id -> group (flat, sky, vegetation, construction+objects, dynamic).
GROUPS = {0: 0, 1: 0, 9: 0, 10: 1, 8: 2, 2: 3, 3: 3, 4: 3, 5: 3, 6: 3, 7: 3,
          **{c: 4 for c in range(11, 19)}}
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def group_labels(labels):
    table = np.full(256, 255, np.uint8)
    for train_id, group in GROUPS.items():
        table[train_id] = group
    return table[labels]


@functools.cache
def probe_model(arch, head="reference"):
    """A seeded random DRNSeg backbone with a ridge-regression `seg` probe; the
    segmenter records Cityscapes as its dataset (the scenes imitate it), so that its
    exports normalise with Cityscapes' statistics."""
    keras.utils.set_random_seed(0)
    model = build_drnseg(arch, CLASSES, head=head, dataset="cityscapes")
    scenes = [render_scene(5000 + i, *SIZE) for i in range(16)]
    x = keras_drn.preprocess_input(np.stack([s[0] for s in scenes]), dataset="cityscapes")
    labels = group_labels(np.stack([s[1] for s in scenes]))
    features = np.asarray(keras.Model(model.input, model.get_layer("seg").input)(x))
    h, w = features.shape[1:3]
    cells = labels[:, 4::8, 4::8][:, :h, :w]  # the label at each stride-8 cell centre
    valid = cells != 255
    design = np.concatenate([features[valid], np.ones((valid.sum(), 1))], axis=1)
    gram = design.T @ design
    ridge = np.trace(gram) / len(gram)
    weights = np.linalg.solve(gram + ridge * np.eye(len(gram)),
                              design.T @ np.eye(CLASSES)[cells[valid]])
    model.get_layer("seg").set_weights([
        weights[:-1][None, None].astype(np.float32), weights[-1].astype(np.float32)
    ])
    return model


@functools.cache
def validation():
    images = list(representative_images(SIZE, count=4, purpose="validation")())
    return images


@functools.cache
def keras_reference(arch, head="reference"):
    return parity.keras_logits(probe_model(arch, head), validation(), "cityscapes")


@functools.cache
def exported(arch, quantize, outputs="logits", integer_io=False, head="reference",
             size=SIZE):
    calibration = representative_images(size, count=8)
    return convert_to_tflite(
        probe_model(arch, head), size, quantize=quantize, outputs=outputs,
        representative_images=calibration if quantize == "int8" else None,
        integer_io=integer_io,
    )


def test_probe_models_make_nontrivial_predictions():
    for arch in ARCHS:
        labels = np.concatenate([r.argmax(-1).ravel() for r in keras_reference(arch)])
        shares = np.bincount(labels, minlength=CLASSES) / labels.size
        assert (shares > 0.05).sum() >= 3, (arch, shares)
        truth = np.concatenate([
            group_labels(render_scene(1_000_000 + i, *SIZE)[1]).ravel() for i in range(4)
        ])
        valid = truth != 255
        accuracy = (labels[valid] == truth[valid]).mean()
        assert accuracy > 0.5, (arch, accuracy)  # far above the 0.2 of chance


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("quantize", MODES)
def test_graph_is_clean_with_native_dilated_convolutions(arch, quantize):
    info = inspect_tflite(exported(arch, quantize))
    ops = info.op_counts
    assert "SPACE_TO_BATCH_ND" not in ops and "BATCH_TO_SPACE_ND" not in ops, ops
    assert not info.flex_ops and not info.custom_ops
    # Every dilated Keras Conv2D is one CONV_2D with the same factors (2 and 4).
    want = sorted(keras_dilations(probe_model(arch)))
    assert sorted(info.dilated_convs) == want
    assert {(2, 2), (4, 4)} <= set(want)
    # The reference head: a 3x3 sub-pixel CONV_2D and DEPTH_TO_SPACE; no TILE, no
    # crop, no depthwise convolution, no 5-D transposes or reshapes anywhere (the only
    # PADs are the stride-2 convolutions'; tests/test_export_edge.py checks them).
    # Plus one SPACE_TO_DEPTH/DEPTH_TO_SPACE pair per full-resolution convolution
    # (keras_drn.export.stem): DRN-D-22's two, DRN-C-26's stem and first block's two.
    stem = {"drn_d_22": 2, "drn_c_26": 3}[arch]
    assert ops.get("SPACE_TO_DEPTH") == stem, ops
    assert ops.get("DEPTH_TO_SPACE") == 1 + stem, ops
    for name in ("TILE", "STRIDED_SLICE", "SLICE", "DEPTHWISE_CONV_2D",
                 "TRANSPOSE", "RESHAPE"):
        assert name not in ops, (name, ops)
    (inp,) = info.inputs
    assert inp["dtype"] == "uint8" and inp["shape"] == [1, *SIZE, 3]
    (out,) = info.outputs
    assert out["dtype"] == "float32" and out["shape"] == [1, *SIZE, CLASSES]
    check_graph(info, expected_dilations=keras_dilations(probe_model(arch)))


def test_int8_is_full_integer_with_raw_pixel_input():
    info = inspect_tflite(exported("drn_d_22", "int8"))
    assert info.inputs[0]["quantization"] == (1.0, 0)  # the uint8 input is the pixel
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_litert.interpreter import OpResolverType

    interpreter = Interpreter(
        model_content=exported("drn_d_22", "int8"),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    for op in interpreter._get_ops_details():
        types = {np.dtype(t).name for t in op["operand_types"] + op["result_types"]}
        if op["op_name"] == "DEQUANTIZE":  # the float32 logits at the very end
            continue
        assert types <= {"int8", "uint8", "int32"}, (op["op_name"], types)
    meta = read_metadata(exported("drn_d_22", "int8"))
    low, high = meta["logits_range"]
    assert low <= 0 < high
    assert meta["logits_range_calibration_agreement"] >= meta[
        "minmax_calibration_agreement"]


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("quantize", MODES)
def test_parity_with_keras(arch, quantize):
    runner = LiteRTSegmenter(exported(arch, quantize), num_threads=2)
    reference = keras_reference(arch)
    diff_reference = None
    if runner.metadata.get("logits_range"):
        diff_reference = parity.keras_logits(
            probe_model(arch), validation(), "cityscapes",
            logits_range=runner.metadata["logits_range"])
    result = parity.measure(arch, quantize, runner, validation(), reference,
                            diff_reference=diff_reference)
    print(result)
    targets = {"none": 0.9999, "float16": 0.999, "dynamic": 0.98, "int8": 0.98}
    assert result.agreement >= targets[quantize]
    assert result.passed
    # The logits themselves: float32 to rounding, the others to their precision.
    tolerance = {"none": 1e-4, "float16": 5e-3, "dynamic": 0.1, "int8": 0.1}
    assert result.max_abs_logit_diff <= tolerance[quantize] * result.logit_range
    assert result.miou_vs_keras >= {"none": 0.999, "float16": 0.99}.get(quantize, 0.85)


@pytest.mark.parametrize("quantize", ["none", "int8"])
def test_labels_output_is_a_uint8_label_map(quantize):
    content = exported("drn_d_22", quantize, outputs="labels")
    info = inspect_tflite(content)
    assert info.outputs[0]["dtype"] == "uint8"
    assert info.outputs[0]["shape"] == [1, *SIZE]
    assert info.op_counts.get("ARG_MAX") == 1
    assert "SPACE_TO_BATCH_ND" not in info.op_counts
    runner = LiteRTSegmenter(content, num_threads=2)
    assert runner.outputs == "labels"
    result = parity.measure("labels", quantize, runner, validation(),
                            keras_reference("drn_d_22"))
    assert result.max_abs_logit_diff is None
    assert result.agreement >= {"none": 0.9999, "int8": 0.98}[quantize]


def test_integer_io_returns_int8_logits():
    content = exported("drn_d_22", "int8", integer_io=True)
    info = inspect_tflite(content)
    out = info.outputs[0]
    assert out["dtype"] == "int8" and out["quantization"][0] > 0
    assert "DEQUANTIZE" not in info.op_counts
    runner = LiteRTSegmenter(content, num_threads=2)  # dequantises for us
    result = parity.measure("int8 io", "int8", runner, validation(),
                            keras_reference("drn_d_22"))
    assert result.agreement >= 0.98


@pytest.mark.parametrize("quantize,outputs,integer_io", [
    ("none", "logits", False), ("int8", "logits", True), ("int8", "labels", False)])
def test_low_memory_runtime_gives_the_interpreters_results(quantize, outputs, integer_io):
    # CompiledModel with transient indirection buffers: another runtime path (buffers,
    # dtypes, shapes, dequantisation) that must return exactly what the Interpreter does.
    content = exported("drn_d_22", quantize, outputs=outputs, integer_io=integer_io)
    plain = LiteRTSegmenter(content, num_threads=2)
    lean = LiteRTSegmenter(content, num_threads=2, low_memory=True)
    assert lean.outputs == plain.outputs == outputs
    for image in validation():
        expected, result = plain(image), lean(image)
        assert result.dtype == expected.dtype and result.shape == expected.shape
        np.testing.assert_array_equal(result, expected)
    with pytest.raises(ValueError, match="exported for 64x96"):
        lean(np.zeros((32, 32, 3), np.uint8))


def test_bilinear_head_any_size():
    size = (60, 92)  # not a multiple of 8: the bilinear head takes it
    content = exported("drn_d_22", "none", head="bilinear", size=size)
    info = inspect_tflite(content)
    assert info.op_counts.get("RESIZE_BILINEAR") == 1
    assert "SPACE_TO_BATCH_ND" not in info.op_counts
    model = probe_model("drn_d_22", "bilinear")
    images = [render_scene(2_000_000 + i, *size)[0] for i in range(2)]
    result = parity.measure("bilinear", "none", LiteRTSegmenter(content), images,
                            parity.keras_logits(model, images, "cityscapes"))
    assert result.agreement >= 0.9999


def test_metadata_describes_the_model():
    meta = read_metadata(exported("drn_c_26", "float16"))
    assert meta["classes"] == CLASSES and meta["head"] == "reference"
    assert meta["input_size"] == list(SIZE) and meta["quantize"] == "float16"
    # The dataset is the segmenter's (probe_model records Cityscapes), not a default.
    assert meta["dataset"] == "cityscapes" and meta["outputs"] == "logits"
    assert meta["normalization"]["std"][0] == pytest.approx(0.1829540508368939)
    assert meta["arch"] == "drn_c_26" and meta["family"] == "drn"
    assert meta["output_stride"] == 1
    # Cityscapes has 19 classes, the probe 5: the segmenter's generic names.
    assert meta["class_names"] == [f"class_{i}" for i in range(CLASSES)]


def test_export_reads_the_segmenters_dataset_and_class_names():
    """A CamVid DRNSeg: the export normalises with the segmenter's own statistics
    (CamVid has none of its own in the reference: ImageNet's) and records its dataset
    and class names; Keras and LiteRT then agree. An explicit dataset still wins."""
    from keras_drn.export.serving import SegmentationGraph
    from keras_drn.meta import class_names
    from keras_drn.meta.normalization import NORMALIZATION

    keras.utils.set_random_seed(2)
    model = build_drnseg("drn_d_22", 11, dataset="camvid")
    content = convert_to_tflite(model, SIZE)
    meta = read_metadata(content)
    assert meta["dataset"] == "camvid" and meta["classes"] == 11
    assert meta["class_names"] == list(class_names("camvid"))
    assert meta["normalization"]["mean"] == pytest.approx(NORMALIZATION["imagenet"].mean)
    images = validation()[:2]
    own = parity.keras_logits(model, images)  # the segmenter's own normalisation
    result = parity.measure("camvid", "none", LiteRTSegmenter(content), images, own)
    assert result.agreement >= 0.9999
    assert result.max_abs_logit_diff <= 1e-4 * result.logit_range
    cityscapes = parity.keras_logits(model, images, "cityscapes")
    assert np.abs(cityscapes[0] - own[0]).max() > 1e-2 * result.logit_range  # teeth
    # Names given to the segmenter are recorded as given.
    named = build_drnseg("drn_d_22", 3, dataset="camvid",
                         class_names=("road", "car", "sky"))
    assert SegmentationGraph(named).metadata()["class_names"] == ["road", "car", "sky"]
    override = SegmentationGraph(model, dataset="cityscapes").metadata()
    assert override["dataset"] == "cityscapes"
    assert override["normalization"]["std"][0] == pytest.approx(0.1829540508368939)
    # Cityscapes has 19 classes, the model 11: its own (CamVid) names stay.
    assert override["class_names"] == list(class_names("camvid"))


def test_graph_check_catches_unfused_dilated_convolutions():
    """A dilated convolution traced with unknown spatial sizes keeps its
    SpaceToBatchND/BatchToSpaceND: the checker must refuse it."""
    inputs = keras.Input((None, None, 3), batch_size=1)
    outputs = keras.layers.Conv2D(4, 3, dilation_rate=2, padding="same")(inputs)
    model = keras.Model(inputs, outputs)
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [tf.function(lambda x: model(x)).get_concrete_function(
            tf.TensorSpec([1, None, None, 3], tf.float32))], model)
    info = inspect_tflite(converter.convert())
    assert info.op_counts.get("SPACE_TO_BATCH_ND")
    with pytest.raises(ExportGraphError, match="SPACE_TO_BATCH_ND"):
        check_graph(info)
    with pytest.raises(ExportGraphError, match="differ"):
        check_graph(inspect_tflite(exported("drn_d_22", "none")),
                    expected_dilations=[(2, 2)])


# run_tflite.py ------------------------------------------------------------------------


def _run_tflite():
    spec = importlib.util.spec_from_file_location(
        "run_tflite_script", os.path.join(REPO, "export", "run_tflite.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def label_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("tflite") / "d22_labels.tflite"
    path.write_bytes(exported("drn_d_22", "none", outputs="labels"))
    return str(path)


def _save(array, path):
    from PIL import Image

    Image.fromarray(array).save(path)
    return str(path)


@pytest.mark.parametrize("extra", [[], ["--low-memory"]])
def test_run_tflite_writes_colourised_labels(tmp_path, label_model, extra):
    from PIL import Image

    from keras_drn.meta import palette

    image = validation()[0]
    out = tmp_path / "out.png"
    raw = tmp_path / "labels.png"
    code = _run_tflite().main([_save(image, tmp_path / "in.png"), "--model", label_model,
                               "--output", str(out), "--labels-output", str(raw),
                               *extra])
    assert code == 0
    colours = np.asarray(Image.open(out))
    labels = np.asarray(Image.open(raw))
    assert colours.shape == (*SIZE, 3) and labels.shape == SIZE
    np.testing.assert_array_equal(colours, palette("cityscapes")[labels])
    keras_labels = keras_reference("drn_d_22")[0].argmax(-1)
    assert (labels == keras_labels).mean() >= 0.9999


def test_run_tflite_resize_maps_labels_back(tmp_path, label_model):
    from PIL import Image

    image = render_scene(7, 96, 144)[0]  # 1.5 x the model's size
    out = tmp_path / "out.png"
    code = _run_tflite().main([_save(image, tmp_path / "big.png"), "--model",
                               label_model, "--output", str(out), "--resize"])
    assert code == 0
    assert np.asarray(Image.open(out)).shape == (96, 144, 3)


@pytest.mark.parametrize("shape,message", [
    ((96, 144, 3), r"is 96x144 \(HxW\).*exported for 64x96.*--resize"),
    ((64, 96), r"1 channel.*RGB.*--convert-rgb"),
    ((64, 96, 4), r"4 channel.*RGB.*--convert-rgb"),
])
def test_run_tflite_rejects_wrong_images(tmp_path, capsys, label_model, shape, message):
    image = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    code = _run_tflite().main([_save(image, tmp_path / "bad.png"), "--model", label_model,
                               "--output", str(tmp_path / "out.png")])
    assert code == 2
    assert __import__("re").search(message, capsys.readouterr().err)
    assert not (tmp_path / "out.png").exists()


def test_run_tflite_convert_rgb(tmp_path, label_model):
    grey = render_scene(3, *SIZE)[0].mean(-1).astype(np.uint8)
    code = _run_tflite().main([_save(grey, tmp_path / "grey.png"), "--model",
                               label_model, "--output", str(tmp_path / "out.png"),
                               "--convert-rgb"])
    assert code == 0 and (tmp_path / "out.png").exists()
