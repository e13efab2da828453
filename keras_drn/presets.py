"""keras-hub presets of the authors' models, built on first use from their own files.

Each released weights file of the registry has a preset name:

- "drn_d_22_cityscapes", "drn_d_38_cityscapes", "drn_d_105_cityscapes": DRNSeg
  segmenters (`DRNImageSegmenter`, with a preprocessor that takes uint8 images);
- "drn_c_26_imagenet", ..., "drn_d_105_imagenet", "drn_a_50_imagenet": ImageNet
  backbones (`DRNBackbone`; the classifier is the keras.applications constructors' job);
- "dilation8_pascal_voc", "dilation8_camvid", "dilation7_kitti",
  "dilation10_cityscapes": the ICLR 2016 models (`DilationImageSegmenter`).

`DRNImageSegmenter.from_preset("drn_d_22_cityscapes")` (likewise `DRNBackbone`,
`DilationImageSegmenter`) downloads the authors' file through the registry (hash
checked, converted once), saves a preset directory in the Keras cache and loads it;
every later call reads that directory. keras-hub's own loaders
(`keras_hub.models.ImageSegmenter.from_preset(dir)`) read the same directories once
keras_drn is imported. A preset directory can be uploaded with
`keras_hub.upload_preset("kaggle://...", dir)` or to Hugging Face, and then loaded by its
handle: that is the re-hosting path while the authors' host is down (fyu/drn#45, #51).

Each preset directory carries `keras_drn.json`: where its weights came from (file name,
SHA-256, registry row), and the parity measured when it was made.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass

from keras_drn.files import atomic_path
from keras_drn.files import write_json_atomic
from keras_drn.version import __version__
from keras_drn.weights import registry

METADATA_FILE = "keras_drn.json"
PRESET_FORMAT = 1


@dataclass(frozen=True)
class PresetSpec:
    """A named preset: which registry weights, and which keras_drn class holds them."""

    name: str
    entry: registry.WeightsEntry
    cls_name: str  # "DRNImageSegmenter", "DRNBackbone" or "DilationImageSegmenter"
    arch: str  # "drn_d_22" or the Dilation dataset ("camvid")

    def metadata(self) -> dict:
        entry = self.entry
        return {
            "description": (f"{self.arch} {entry.name} weights of the authors "
                            f"({entry.source}), converted by keras_drn"),
            "class": self.cls_name, "params": None, "path": self.name,
            "license": entry.license, "classes": entry.classes,
            "dataset": entry.dataset,
        }


def _specs() -> dict[str, PresetSpec]:
    specs = {}
    for entry in registry.ENTRIES:
        if entry.kind == "classifier":
            specs[f"{entry.model}_{entry.name}"] = PresetSpec(
                f"{entry.model}_{entry.name}", entry, "DRNBackbone", entry.model)
        elif entry.kind == "segmentation":
            arch = entry.model[len("drnseg_"):]
            specs[f"{arch}_{entry.name}"] = PresetSpec(
                f"{arch}_{entry.name}", entry, "DRNImageSegmenter", arch)
        else:
            specs[entry.model] = PresetSpec(entry.model, entry,
                                            "DilationImageSegmenter", entry.name)
    return specs


PRESETS: dict[str, PresetSpec] = _specs()


def presets_for(cls_name: str) -> dict[str, dict]:
    """keras-hub's `cls.presets` listing for one of our classes."""
    return {n: s.metadata() for n, s in PRESETS.items() if s.cls_name == cls_name}


def preset_cache_dir() -> str:
    from keras_drn.weights.download import cache_dir

    return os.path.join(cache_dir(), "presets")


def named_preset_dir(name: str) -> str:
    return os.path.join(preset_cache_dir(), f"{name}.keras_drn-v{PRESET_FORMAT}")


def _complete(directory: str) -> bool:
    return all(os.path.isfile(os.path.join(directory, f))
               for f in ("config.json", METADATA_FILE))


def _build_named(spec: PresetSpec):
    """The model of `spec` with its weights (downloaded and converted if needed)."""
    import keras_drn

    entry = spec.entry
    if spec.cls_name == "DRNImageSegmenter":
        model = keras_drn.DRNSeg(spec.arch, classes=entry.classes, weights=entry.name)
    elif spec.cls_name == "DRNBackbone":
        classifier = keras_drn.DRN(spec.arch, weights=entry.name,
                                   input_shape=(None, None, 3))
        model = keras_drn.DRNBackbone(spec.arch)
        from keras_drn.weights import transfer_weights

        transfer_weights(classifier, model, strict=False)
    else:
        family = entry.model.split("_", 1)[0]
        builder = {"dilation7": keras_drn.Dilation7, "dilation8": keras_drn.Dilation8,
                   "dilation10": keras_drn.Dilation10}[family]
        model = builder(spec.arch, weights=entry.name)
    return model


def attach_preprocessor(model):
    """Gives a keras_drn segmenter the preprocessor of its dataset (uint8 in)."""
    from keras_drn.meta.normalization import NORMALIZATION
    from keras_drn.models import DilationImageConverter
    from keras_drn.models import DilationImageSegmenter
    from keras_drn.models import DilationImageSegmenterPreprocessor
    from keras_drn.models import DRNImageConverter
    from keras_drn.models import DRNImageSegmenter
    from keras_drn.models import DRNImageSegmenterPreprocessor

    if isinstance(model, DRNImageSegmenter) and model.preprocessor is None:
        dataset = model.dataset if model.dataset in NORMALIZATION else "imagenet"
        model.preprocessor = DRNImageSegmenterPreprocessor(DRNImageConverter(dataset))
    elif isinstance(model, DilationImageSegmenter) and model.preprocessor is None:
        model.preprocessor = DilationImageSegmenterPreprocessor(
            DilationImageConverter(model.dataset))
    return model


def write_metadata(directory: str, info: dict) -> None:
    """Writes `keras_drn.json` (format, keras_drn version, creation time and `info`)
    into the preset directory `directory`, atomically."""
    payload = {"format": PRESET_FORMAT, "keras_drn_version": __version__,
               "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
                   timespec="seconds"), **info}
    write_json_atomic(os.path.join(directory, METADATA_FILE), payload, indent=2,
                      sort_keys=False, default=list)


def read_metadata(preset: str) -> dict | None:
    """`keras_drn.json` of a local preset directory, or None."""
    path = os.path.join(preset, METADATA_FILE)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def save_preset_atomic(model, directory: str, info: dict) -> str:
    """Saves `model` as a keras-hub preset with our metadata, atomically.

    `model.save_to_preset` writes into a temporary directory beside `directory`
    (`keras_drn.files.atomic_path`), `keras_drn.json` is added, and the whole is then
    renamed into place: no half-written preset is ever seen.

    Args:
        model: a keras-hub task or backbone.
        directory: the preset directory; an existing one is replaced.
        info: what `write_metadata` records.

    Returns:
        The absolute path of the preset directory.
    """
    directory = os.path.abspath(directory)
    with atomic_path(directory, directory=True) as tmp:
        model.save_to_preset(tmp)
        write_metadata(tmp, info)
    return directory


def build_named_preset(name: str, *, force: bool = False) -> str:
    """The directory of the named preset `name`, built from the authors' file on first
    use (download, hash check, conversion) and cached; returns its path."""
    spec = PRESETS.get(name)
    if spec is None:
        raise ValueError(
            f"Unknown preset {name!r}. keras_drn's named presets: {', '.join(PRESETS)}; "
            f"or pass a preset directory or a kaggle:// / hf:// handle."
        )
    directory = named_preset_dir(name)
    if _complete(directory) and not force:
        return directory
    model = attach_preprocessor(_build_named(spec))
    from keras_drn.weights import download

    original = download.cached_path(spec.entry)
    sha = download.sha256_of(original) if os.path.exists(original) else None
    info = {
        "preset": name,
        "source": {"file_name": spec.entry.file_name, "sha256": sha,
                   "registry": spec.entry.pretrained_config()},
        "parity": None,
        "parity_note": ("converted through the registry's name maps; parity with the "
                        "PyTorch reference is measured by export/make_preset.py"),
    }
    return save_preset_atomic(model, directory, info)


def local_preset(preset):
    """A preset argument made loadable by keras-hub: our named presets are built (or
    found in the cache); directories and handles pass through."""
    if isinstance(preset, os.PathLike):
        return os.fspath(preset)
    if isinstance(preset, str) and preset in PRESETS:
        return build_named_preset(preset)
    return preset


def load_preset_model(preset, **kwargs):
    """The keras_drn model saved in `preset` (a named preset, a directory or a handle):
    the segmenter when it has a task, else the backbone."""
    import keras_hub

    import keras_drn.models  # noqa: F401  (registers the classes)

    preset = local_preset(preset)
    has_task = (os.path.isfile(os.path.join(preset, "task.json"))
                if os.path.isdir(str(preset)) else _remote_has_task(preset))
    if has_task:
        return keras_hub.models.ImageSegmenter.from_preset(preset, **kwargs)
    return keras_hub.models.Backbone.from_preset(preset, **kwargs)


def _remote_has_task(preset) -> bool:
    """Whether a preset handle has a task (keras-hub's own check, which downloads)."""
    try:
        from keras_hub.src.utils.preset_utils import check_file_exists
    except ImportError:  # pragma: no cover  (a keras-hub that moved it)
        return True
    return check_file_exists(preset, "task.json")
