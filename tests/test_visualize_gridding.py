"""The gridding study script and its measure."""

import json

import numpy as np
from PIL import Image

from keras_drn.visualize import gridding_energy
from keras_drn.visualize.features import demo_image
from keras_drn.visualize.gridding import main as gridding_main


def test_gridding_energy_finds_periodic_patterns(rng):
    y, x = np.mgrid[0:28, 0:28]
    smooth = np.sin(x / 9.0) + np.cos(y / 7.0)
    base = gridding_energy(smooth)
    assert base < 0.02
    checker = smooth + ((x + y) % 2)  # period 2, as dilation 2 leaves it
    assert gridding_energy(checker) > max(0.2, 10 * base)
    period4 = smooth + (x % 4 == 0) + (y % 4 == 0)
    assert gridding_energy(period4) > max(0.2, 10 * base)
    assert gridding_energy(np.ones((28, 28))) == 0.0
    # Noise spreads its energy over all frequencies: about 15 of 783 bins.
    assert abs(gridding_energy(rng.normal(size=(28, 28, 16))) - 15 / 783) < 0.01


def test_gridding_script_writes_pictures(tmp_path, capsys):
    out = tmp_path / "grid"
    code = gridding_main(["--output", str(out), "--weights", "none", "--size", "64",
                          "--models", "drn_a_18,drn_c_26"])
    assert code == 0
    scores = json.loads((out / "gridding_energy.json").read_text())
    # The levels at stride 8: DRN-A's 2-4, DRN-C's 4-8 (its levels 1-3 are at strides
    # 1, 2 and 4).
    assert list(scores) == ["drn_a_18", "drn_c_26"]
    assert list(scores["drn_a_18"]) == ["level2", "level3", "level4"]
    assert list(scores["drn_c_26"]) == [f"level{k}" for k in range(4, 9)]
    for arch, levels in scores.items():
        for level, energy in levels.items():
            assert 0 <= energy <= 1
            with Image.open(out / f"{arch}_{level}.png") as picture:
                assert picture.size == (64, 64) and picture.mode == "RGB"
    with Image.open(out / "gridding.png") as figure:
        assert figure.size[0] > figure.size[1] > 200
    assert "drn_c_26: gridding energy level4" in capsys.readouterr().out


def test_demo_image_is_smooth():
    image = demo_image(64)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    assert gridding_energy(image.astype(float)) < 0.05


def test_level_features_of_a_segmenter_read_its_backbone_and_dataset():
    """A DRNSeg segmenter's levels come from its backbone's pyramid, normalised with its
    dataset's statistics; a plain DRN with the same weights, read by layer name with
    those statistics, gives the same maps."""
    import keras

    from keras_drn.models import build_drn
    from keras_drn.models import build_drnseg
    from keras_drn.visualize.features import level_features
    from keras_drn.weights import transfer_weights

    keras.utils.set_random_seed(6)
    segmenter = build_drnseg("drn_c_26", 3, dataset="cityscapes")
    plain = build_drn("drn_c_26", include_top=False, input_shape=(None, None, 3))
    transfer_weights(segmenter, plain, strict=False)
    image = demo_image(48)
    got = level_features(segmenter, None, image)
    want = level_features(plain, "drn_c_26", image, dataset="cityscapes")
    assert list(got) == list(want) == [f"level{k}" for k in range(1, 9)]
    for level in got:
        np.testing.assert_allclose(got[level], want[level], atol=1e-5)
    imagenet = level_features(plain, "drn_c_26", image)  # a plain model's default
    assert np.abs(imagenet["level8"] - got["level8"]).max() > 1e-4
