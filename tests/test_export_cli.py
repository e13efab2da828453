"""The export command lines: bad arguments fail early with a clear message, and a small
export runs end to end; the latency worker measures a TFLite model without TensorFlow."""

import importlib.util
import os
import re

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")

from keras_drn.export import read_metadata  # noqa: E402
from keras_drn.export.saved_model import read_saved_model_metadata  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def script(name):
    spec = importlib.util.spec_from_file_location(
        f"export_{name}_script", os.path.join(REPO, "export", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fails(capsys, name, argv, pattern):
    with pytest.raises(SystemExit) as raised:
        script(name).main(argv)
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert re.search(pattern, err, re.S), err
    return err


BASE = ["--arch", "drn_d_22", "--classes", "3"]


def test_input_size_not_a_multiple_of_8(capsys, tmp_path):
    out = str(tmp_path / "m.tflite")
    fails(capsys, "tflite", [*BASE, "--input-size", "500x1000", "--output", out],
          r"multiple of 8.*received 500.*Use 496 or 504.*bilinear")
    fails(capsys, "tflite", [*BASE, "--input-size", "512x1020", "--output", out],
          r"width that is a multiple of 8.*1016 or 1024")
    fails(capsys, "tflite", [*BASE, "--input-size", "512by1024", "--output", out],
          r"HEIGHTxWIDTH")
    fails(capsys, "report", [*BASE, "--input-size", "60x92", "--output-dir",
                             str(tmp_path)], r"Use 56 or 64")
    assert not os.listdir(tmp_path)


def test_missing_or_empty_calibration_directory(capsys, tmp_path):
    missing = str(tmp_path / "no_such_dir")
    args = [*BASE, "--input-size", "64x96", "--quantize", "int8",
            "--output", str(tmp_path / "m.tflite")]
    fails(capsys, "tflite", [*args, "--data-dir", missing],
          rf"{re.escape(missing)}.*does not exist.*synthetic")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    fails(capsys, "tflite", [*args, "--data-dir", str(empty)], r"No images.*empty")
    cityscapes = tmp_path / "cityscapes" / "leftImg8bit" / "test"
    cityscapes.mkdir(parents=True)
    fails(capsys, "tflite", [*args, "--data-dir", str(tmp_path / "cityscapes")],
          r"No Cityscapes train data.*leftImg8bit/train/")


def test_architectures_that_cannot_be_exported(capsys, tmp_path):
    out = str(tmp_path / "m.tflite")
    fails(capsys, "tflite", ["--arch", "dilation10_cityscapes", "--input-size", "64x96",
                             "--output", out], r"Dilation models.*drn_d_22")
    fails(capsys, "saved_model", ["--arch", "drn_x_99", "--output", out],
          r"'drn_x_99' is not a DRN architecture.*drn_c_26")
    assert not os.path.exists(out)


def test_inconsistent_options(capsys, tmp_path):
    out = str(tmp_path / "m.tflite")
    fails(capsys, "tflite", [*BASE, "--input-size", "64x96", "--integer-io",
                             "--output", out], r"integer_io=True needs quantize='int8'")
    fails(capsys, "tflite", [*BASE, "--input-size", "64x96", "--head", "none",
                             "--outputs", "labels", "--output", out],
          r"labels' needs an upsampling head")
    fails(capsys, "tflite", [*BASE, "--input-size", "64x96", "--output",
                             str(tmp_path / "m.bin")], r"end with \.tflite")


def test_tflite_and_saved_model_scripts_end_to_end(tmp_path, capsys):
    out = tmp_path / "d22.tflite"
    code = script("tflite").main([*BASE, "--input-size", "64x96", "--quantize", "float16",
                                  "--output", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "dilated CONV_2D: 9" in printed and "SPACE_TO_BATCH_ND" not in printed
    meta = read_metadata(out.read_bytes())
    assert meta["arch"] == "drn_d_22" and meta["quantize"] == "float16"
    assert meta["input_size"] == [64, 96] and meta["classes"] == 3
    # The stem in space-to-depth form by default (two full-resolution convolutions in
    # D-22, each between SPACE_TO_DEPTH and DEPTH_TO_SPACE), direct with --direct-stem.
    assert "\"SPACE_TO_DEPTH\": 2" in printed, printed
    direct = tmp_path / "d22_direct.tflite"
    assert script("tflite").main([*BASE, "--input-size", "64x96", "--quantize",
                                  "float16", "--direct-stem", "--output", str(direct)]) == 0
    printed = capsys.readouterr().out
    assert "dilated CONV_2D: 9" in printed and "SPACE_TO_DEPTH" not in printed, printed
    saved = tmp_path / "sm"
    assert script("saved_model").main([*BASE, "--output", str(saved)]) == 0
    assert read_saved_model_metadata(str(saved))["arch"] == "drn_d_22"
    fails(capsys, "saved_model", [*BASE, "--output", str(saved)], r"exists.*--overwrite")


def test_latency_worker_runs_litert_without_tensorflow(tmp_path):
    import keras_drn
    from keras_drn.export import latency
    from keras_drn.export.tflite import convert_to_tflite

    model = keras_drn.DRNSeg("drn_d_22", classes=3)
    path = tmp_path / "m.tflite"
    path.write_bytes(convert_to_tflite(model, (64, 96)))
    image = np.zeros((64, 96, 3), np.uint8)
    result = latency.measure("TFLite", {"kind": "tflite", "path": str(path)}, image,
                             threads=1, runs=3, warmup=1)
    assert result.runs == 3 and 0 < result.median_ms <= result.p90_ms * 1.0001
    assert not result.tensorflow_imported
    # LiteRT alone, not TensorFlow's ~1 GiB: a few hundred MiB at most for this model.
    assert 0 < result.above_baseline_mib < 600
    assert result.size_mib == pytest.approx(path.stat().st_size / 2**20)
    table = latency.format_table([result])
    assert "| TFLite | 1 |" in table
    with pytest.raises(RuntimeError, match="failed"):
        latency.measure("broken", {"kind": "tflite", "path": str(tmp_path / "none")},
                        image, threads=1, runs=1, warmup=0)


def test_library_errors_before_any_conversion():
    import keras

    import keras_drn
    from keras_drn.export.tflite import convert_to_tflite

    model = keras_drn.DRNSeg("drn_d_22", classes=3)
    with pytest.raises(ValueError, match="needs representative_images"):
        convert_to_tflite(model, (64, 96), quantize="int8")
    wrong = [np.zeros((32, 48, 3), np.uint8)]
    with pytest.raises(ValueError, match=r"image 0 has shape \(32, 48, 3\).*\(64, 96, 3\)"):
        convert_to_tflite(model, (64, 96), quantize="int8", representative_images=wrong)
    with pytest.raises(ValueError, match="empty"):
        convert_to_tflite(model, (64, 96), quantize="int8", representative_images=[])
    good = [np.zeros((64, 96, 3), np.uint8)]
    with pytest.raises(ValueError, match="low <= 0 <= high"):
        convert_to_tflite(model, (64, 96), quantize="int8", representative_images=good,
                          int8_logits_range=(1.0, 2.0))
    with pytest.raises(ValueError, match="Invalid quantize='int4'"):
        convert_to_tflite(model, (64, 96), quantize="int4")
    # A plain Keras model records no head, classes or normalisation: refused, with
    # the way to rebuild it as a segmenter.
    plain = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 1)])
    with pytest.raises(ValueError, match=r"expected a keras_drn.DRNImageSegmenter.*"
                                         r"keras_drn.DRNSeg\(arch, classes"):
        convert_to_tflite(plain, (8, 8))


def test_calibration_from_folders(tmp_path):
    from PIL import Image

    from keras_drn.export.calibration import representative_images

    rng = np.random.default_rng(0)
    plain = tmp_path / "plain" / "nested"
    plain.mkdir(parents=True)
    Image.fromarray(rng.integers(0, 256, (40, 50, 3), np.uint8)).save(plain / "a.png")
    Image.fromarray(rng.integers(0, 256, (30, 20), np.uint8)).save(plain / "b.jpg")
    images = list(representative_images((16, 24), count=5,
                                        data_dir=str(tmp_path / "plain"))())
    assert len(images) == 2  # all there are, grey converted to RGB, resized
    assert all(i.shape == (16, 24, 3) and i.dtype == np.uint8 for i in images)
    root = tmp_path / "cityscapes"
    for split, count in (("train", 3), ("val", 2)):
        city = root / "leftImg8bit" / split / "aachen"
        city.mkdir(parents=True)
        for i in range(count):
            image = np.full((32, 64, 3), 10 * i + (100 if split == "val" else 0), np.uint8)
            Image.fromarray(image).save(city / f"aachen_{i:06d}_000019_leftImg8bit.png")
    calib = list(representative_images((16, 32), count=10, data_dir=str(root))())
    val = list(representative_images((16, 32), count=10, data_dir=str(root),
                                     purpose="validation")())
    assert len(calib) == 3 and len(val) == 2  # train calibrates, val validates
    assert {int(i[0, 0, 0]) for i in calib} == {0, 10, 20}
    assert {int(i[0, 0, 0]) for i in val} == {100, 110}
    synthetic = list(representative_images((16, 32), count=2, purpose="validation")())
    calibration = list(representative_images((16, 32), count=2)())
    assert not np.array_equal(synthetic[0], calibration[0])  # disjoint seeds


def test_report_script_end_to_end(tmp_path, capsys):
    import json

    out = tmp_path / "report.json"
    code = script("report").main([
        *BASE, "--input-size", "64x96", "--output-dir", str(tmp_path / "artifacts"),
        "--quantize", "none", "--validation-images", "2", "--no-latency",
        "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "| SavedModel |" in printed and "| TFLite float32 |" in printed
    data = json.loads(out.read_text())
    assert [p["name"] for p in data["parity"]] == ["SavedModel", "TFLite float32"]
    for row in data["parity"]:
        assert row["passed"] and row["agreement"] >= 0.9999
        assert row["max_abs_logit_diff"] < 1e-3 * row["logit_range"]
    assert sorted(os.listdir(tmp_path / "artifacts")) == [
        "drn_d_22_seg_float32.tflite", "saved_model"]
    # The edge-runtime table: the GPU delegate's verdict on the TFLite model.
    assert "| TFLite float32 | compatible | 0 |" in printed
    (edge,) = data["edge"]
    assert edge["gpu_compatible"] and edge["tile_ops"] == 0


def test_model_arguments_take_classes_and_dataset_from_the_weights(tmp_path, capsys):
    import argparse

    from keras_drn.export import arguments
    from keras_drn.meta import class_names
    from keras_drn.models import build_drnseg
    from keras_drn.models.walk import find_layer

    def parse(*argv):
        parser = argparse.ArgumentParser()
        arguments.add_model_arguments(parser)
        return parser.parse_args(["--arch", "drn_d_22", *argv])

    model = arguments.build_model(parse("--classes", "11", "--dataset", "camvid"))
    assert model.dataset == "camvid" and model.class_names == class_names("camvid")
    assert arguments.build_model(parse()).dataset == "cityscapes"  # 19 classes
    # A saved segmenter says what it is: no --classes or --dataset needed.
    saved = build_drnseg("drn_d_22", 3, dataset="camvid", class_names=("a", "b", "c"))
    path = str(tmp_path / "mine.keras")
    saved.save(path)
    model = arguments.build_model(parse("--weights", path))
    assert model.num_classes == 3 and model.class_names == ("a", "b", "c")
    assert model.dataset == "camvid"
    np.testing.assert_array_equal(np.asarray(find_layer(model, "seg").kernel),
                                  np.asarray(find_layer(saved, "seg").kernel))
    for argv, message in [
        (("--weights", path, "--classes", "5"), r"--classes 5, but .* has 3 classes"),
        (("--dataset", "kitti"), r"--dataset 'kitti' has no DRN input statistics"),
        (("--weights", str(tmp_path / "absent.weights.h5")), r"no such file"),
    ]:
        with pytest.raises(SystemExit) as raised:
            arguments.build_model(parse(*argv))
        assert raised.value.code == 2
        assert re.search(message, capsys.readouterr().err), argv
