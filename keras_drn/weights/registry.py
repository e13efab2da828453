"""The registry of released weights: one row per file, everything about it in one place.

What is established, and from where (no file was downloaded to build this table):

- ImageNet DRNs: file names and URLs from fyu/drn drn.py:13-24 (`model_urls`, webroot
  `http://dl.yf.io/drn/` since commit 5563327, 2019; before that
  `https://tigress-web.princeton.edu/~fy/drn/models/`, 403 since 2019, fyu/drn#45).
  The eight hex digits in each name are the first digits of the file's SHA-256
  (torch.hub's convention, which `model_zoo.load_url(check_hash=...)` checks); the full
  digests are published nowhere we could find, so only the prefix is checked.
  After the 2019 move the author reported "drn_d_* models are available now" (fyu/drn#45)
  and third parties found the drn_c_* files gone (PeterWang512/FALdetector#6); the host
  itself has been reported down since 2022 (fyu/drn#45, ucbdrive/dla#26).
- DRN-A-50: torchvision's ResNet-50 file (drn.py:14), in PyTorch's oldest (tar)
  container (pytorch/vision#2068, WisconsinAIVision/yolact_edge#141). Prefix 19c8e357.
- Cityscapes DRNSeg: the README (fyu/drn README:192) links only a shared folder,
  http://go.yf.io/drn-cityscapes-models, so there is no direct URL from the authors and
  no published hash. File names as used downstream: drn_d_22_cityscapes.pth (fyu/drn#4,
  erdos-project/pylot), drn_d_38_cityscapes.pth, drn-d-105_ms_cityscapes.pth (loaded as
  `DRNSeg('drn_d_105', 19)` by mit-han-lab/gan-compression). The only direct URL found is
  a third-party Dropbox copy of drn_d_22_cityscapes.pth used by erdos-project/pylot
  (install.sh): unverified, no hash to check it against.
- Dilation caffemodels: URLs from fyu/dilation pretrained/download_*.sh (since commit
  0f10574, 2018; before that http://vobj.cs.princeton.edu/models/). No hashes published.

Entries without a hash are still read safely (the readers never execute file content)
and checked by structure: every weight must be present with the right shape.
"""

from __future__ import annotations

from dataclasses import dataclass

DRN_HOST = "http://dl.yf.io/drn/"
DILATION_HOST = "http://dl.yf.io/dilation/models/"
TORCHVISION_HOST = "https://download.pytorch.org/models/"
CITYSCAPES_FOLDER = "http://go.yf.io/drn-cityscapes-models"
# A mirror base URL replaces the host part of every URL (see weights/download.py).
MIRROR_ENV = "KERAS_DRN_WEIGHTS_MIRROR"
HOST_DOWN_ISSUE = "https://github.com/fyu/drn/issues/45"


@dataclass(frozen=True)
class WeightsEntry:
    """One released weights file.

    model: the registry key of the model ("drn_c_26", "drnseg_drn_d_22",
      "dilation8_camvid", ...); name: what users pass as `weights=`; kind: how the file
      is read and mapped ("classifier", "segmentation" or "caffe"); urls: where to
      download it, tried in order (may be empty: then only a mirror or a local file
      works); hash_prefix / sha256: what the file is checked against; manual_url: a
      page where a person can get the file; notes: what is and is not verified.
    """

    model: str
    name: str
    kind: str
    classes: int
    file_name: str
    urls: tuple[str, ...]
    hash_prefix: str | None = None  # leading hex digits of the SHA-256
    sha256: str | None = None  # the full digest when known
    license: str = ""
    source: str = ""  # where the URL is documented
    manual_url: str | None = None
    notes: str = ""
    # Web-archive copies of the authors' file, tried after `urls`; what they serve is
    # checked against the same hash as any download.
    archive_urls: tuple[str, ...] = ()
    input_size: tuple[int, int] | None = None  # what the model was trained/tested at

    @property
    def dataset(self) -> str:
        """The dataset the weights were trained on (its statistics and class names)."""
        return self.name

    @property
    def family(self) -> str:
        """"drn" or "dilation": which input normalisation the weights expect."""
        return "dilation" if self.kind == "caffe" else "drn"

    @property
    def normalization(self):
        """The input statistics (`keras_drn.meta.Normalization`, RGB order)."""
        from keras_drn.meta.normalization import NORMALIZATION
        from keras_drn.meta.normalization import dilation_normalization

        if self.family == "dilation":
            return dilation_normalization(self.dataset)
        return NORMALIZATION[self.dataset]

    @property
    def mean(self) -> tuple[float, float, float]:
        return self.normalization.mean

    @property
    def std(self) -> tuple[float, float, float]:
        return self.normalization.std

    @property
    def class_names(self) -> tuple[str, ...] | None:
        """The classes in output order; None for ImageNet's 1000 synsets (torchvision's
        order, not shipped here)."""
        from keras_drn.meta.labels import class_names

        try:
            names = class_names(self.dataset)
        except ValueError:
            return None
        return names if len(names) == self.classes else None

    @property
    def all_urls(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.urls, *self.archive_urls)))

    def pretrained_config(self) -> dict:
        """What a consumer needs to use these weights (timm's pretrained_cfg idea)."""
        norm = self.normalization
        return {
            "model": self.model, "name": self.name, "kind": self.kind,
            "classes": self.classes, "class_names": self.class_names,
            "dataset": self.dataset, "mean": norm.mean, "std": norm.std,
            "pixel_scale": norm.scale, "input_size": self.input_size,
            "file_name": self.file_name, "urls": self.urls,
            "archive_urls": self.archive_urls, "hash_prefix": self.hash_prefix,
            "sha256": self.sha256, "license": self.license, "source": self.source,
            "notes": self.notes,
        }

    @property
    def stem(self) -> str:
        return self.file_name.rsplit(".", 1)[0]


_DRN_LICENSE = "BSD-3-Clause (fyu/drn LICENSE; the weights carry no separate licence)"
_TV_LICENSE = "BSD-3-Clause (pytorch/vision LICENSE; ImageNet-trained weights)"
# The Internet Archive's raw-bytes form of a capture ("id_"), for the authors' host that
# has been down for years (fyu/drn#45, #51). No capture was checked from here (no
# network): each is one more place to try, and whatever it serves must match the hash
# in the file's name (DRNs) before it is used.
WAYBACK = "https://web.archive.org/web/2019id_/"


def _archived(url: str) -> tuple[str, ...]:
    return (WAYBACK + url,)


_DILATION_LICENSE = ("MIT (fyu/dilation LICENSE; the weights carry no separate licence; "
                     "fine-tuned from VGG-16, CC BY 4.0)")


def _drn(model: str, file_name: str, notes: str = "") -> WeightsEntry:
    prefix = file_name.rsplit("-", 1)[1].split(".")[0]
    return WeightsEntry(
        model=model, name="imagenet", kind="classifier", classes=1000,
        file_name=file_name, urls=(DRN_HOST + file_name,), hash_prefix=prefix,
        archive_urls=_archived(DRN_HOST + file_name), input_size=(224, 224),
        license=_DRN_LICENSE, source="fyu/drn drn.py:13-24",
        notes=notes or "URL and SHA-256 prefix from the reference code.",
    )


_C_NOTE = ("URL and SHA-256 prefix from the reference code; reported missing from "
           "dl.yf.io since 2019 (PeterWang512/FALdetector#6).")


def _seg(arch: str, file_name: str, urls: tuple[str, ...] = (), notes: str = ""):
    return WeightsEntry(
        model=f"drnseg_{arch}", name="cityscapes", kind="segmentation", classes=19,
        file_name=file_name, urls=urls, license=_DRN_LICENSE, input_size=(1024, 2048),
        source=f"fyu/drn README:192 ({CITYSCAPES_FOLDER})", manual_url=CITYSCAPES_FOLDER,
        notes=notes or ("No direct URL and no hash published: download the file from "
                        "the authors' folder and pass its path, or use a mirror."),
    )


def _dilation(family: str, dataset: str, classes: int,
              input_size: tuple[int, int]) -> WeightsEntry:
    file_name = f"{family}_{dataset}.caffemodel"
    return WeightsEntry(
        model=f"{family}_{dataset}", name=dataset, kind="caffe", classes=classes,
        file_name=file_name, urls=(DILATION_HOST + file_name,),
        archive_urls=_archived(DILATION_HOST + file_name),
        input_size=input_size,  # the deploy prototxt's tile
        license=_DILATION_LICENSE,
        source=f"fyu/dilation pretrained/download_{dataset}.sh",
        notes="URL from the reference scripts; no hash published.",
    )


ENTRIES: tuple[WeightsEntry, ...] = (
    WeightsEntry(
        model="drn_a_50", name="imagenet", kind="classifier", classes=1000,
        file_name="resnet50-19c8e357.pth",
        urls=(TORCHVISION_HOST + "resnet50-19c8e357.pth",),
        hash_prefix="19c8e357", license=_TV_LICENSE, input_size=(224, 224),
        source="fyu/drn drn.py:14 (torchvision's model_urls)",
        notes="URL and SHA-256 prefix from the reference code; tar container.",
    ),
    _drn("drn_c_26", "drn_c_26-ddedf421.pth", _C_NOTE),
    _drn("drn_c_42", "drn_c_42-9d336e8c.pth", _C_NOTE),
    _drn("drn_c_58", "drn_c_58-0a53a92c.pth", _C_NOTE),
    _drn("drn_d_22", "drn_d_22-4bd2f8ea.pth"),
    _drn("drn_d_38", "drn_d_38-eebb45f0.pth"),
    _drn("drn_d_54", "drn_d_54-0e0534ff.pth"),
    _drn("drn_d_105", "drn_d_105-12b40979.pth"),
    _seg(
        "drn_d_22", "drn_d_22_cityscapes.pth",
        urls=("https://www.dropbox.com/s/i6v54gng0rao6ff/drn_d_22_cityscapes.pth?dl=1",),
        notes=("Third-party copy (erdos-project/pylot install.sh), unverified; no hash "
               "published. The authors link only a shared folder."),
    ),
    _seg("drn_d_38", "drn_d_38_cityscapes.pth"),
    _seg("drn_d_105", "drn-d-105_ms_cityscapes.pth"),
    _dilation("dilation8", "pascal_voc", 21, (900, 900)),
    _dilation("dilation8", "camvid", 11, (900, 1100)),
    _dilation("dilation7", "kitti", 11, (852, 1640)),
    _dilation("dilation10", "cityscapes", 19, (1396, 1396)),
)


def names_for(model: str) -> list[str]:
    """The named weights available for the registry key `model`."""
    return [e.name for e in ENTRIES if e.model == model]


def get_entry(model: str, name: str) -> WeightsEntry:
    """The registry row of weights `name` for the model key `model`."""
    for entry in ENTRIES:
        if entry.model == model and entry.name == name:
            return entry
    names = names_for(model)
    raise ValueError(
        f"No weights named {name!r} for {model}. Available: "
        f"{', '.join(repr(n) for n in names) if names else 'none'}; or pass None or a "
        f"path to a .pth/.pth.tar/.caffemodel/.weights.h5/.keras file."
    )
