"""The registry of released weights: one row per file, everything about it in one place.

Sources: fyu/drn drn.py:13-24 (`model_urls`), README:192 (Cityscapes models),
fyu/dilation pretrained/*.sh. The reference's file names carry the first hex digits of
the file's SHA-256 (torch.hub's convention).
"""

from __future__ import annotations

from dataclasses import dataclass

DRN_HOST = "http://dl.yf.io/drn/"
DILATION_HOST = "http://dl.yf.io/dilation/models/"
TORCHVISION_HOST = "https://download.pytorch.org/models/"
# A mirror base URL replaces the host part of every URL (see weights/download.py).
MIRROR_ENV = "KERAS_DRN_WEIGHTS_MIRROR"


@dataclass(frozen=True)
class WeightsEntry:
    model: str  # the registry key of the model: "drn_c_26", "drnseg_drn_d_22", ...
    name: str  # the value users pass as weights=
    kind: str  # "classifier" | "segmentation" | "caffe"
    classes: int
    file_name: str
    urls: tuple[str, ...]
    hash_prefix: str | None = None  # leading hex digits of the SHA-256
    sha256: str | None = None  # the full digest when known
    license: str = ""
    source: str = ""  # where the URL is documented

    @property
    def dataset(self) -> str:
        return self.name


_DRN_LICENSE = "BSD-3-Clause (fyu/drn LICENSE)"
_TV_LICENSE = "BSD-3-Clause (pytorch/vision LICENSE)"
_DILATION_LICENSE = "MIT (fyu/dilation LICENSE)"


def _drn(model: str, file_name: str) -> WeightsEntry:
    prefix = file_name.rsplit("-", 1)[1].split(".")[0]
    return WeightsEntry(
        model=model, name="imagenet", kind="classifier", classes=1000,
        file_name=file_name, urls=(DRN_HOST + file_name,), hash_prefix=prefix,
        license=_DRN_LICENSE, source="fyu/drn drn.py:13-24",
    )


def _seg(arch: str, file_name: str) -> WeightsEntry:
    return WeightsEntry(
        model=f"drnseg_{arch}", name="cityscapes", kind="segmentation", classes=19,
        file_name=file_name, urls=(DRN_HOST + file_name,), license=_DRN_LICENSE,
        source="fyu/drn README:192 (http://go.yf.io/drn-cityscapes-models)",
    )


def _dilation(family: str, dataset: str, classes: int) -> WeightsEntry:
    file_name = f"{family}_{dataset}.caffemodel"
    return WeightsEntry(
        model=f"{family}_{dataset}", name=dataset, kind="caffe", classes=classes,
        file_name=file_name, urls=(DILATION_HOST + file_name,),
        license=_DILATION_LICENSE, source="fyu/dilation pretrained/*.sh",
    )


ENTRIES: tuple[WeightsEntry, ...] = (
    WeightsEntry(
        model="drn_a_50", name="imagenet", kind="classifier", classes=1000,
        file_name="resnet50-19c8e357.pth",
        urls=(TORCHVISION_HOST + "resnet50-19c8e357.pth",),
        hash_prefix="19c8e357", license=_TV_LICENSE, source="fyu/drn drn.py:14",
    ),
    _drn("drn_c_26", "drn_c_26-ddedf421.pth"),
    _drn("drn_c_42", "drn_c_42-9d336e8c.pth"),
    _drn("drn_c_58", "drn_c_58-0a53a92c.pth"),
    _drn("drn_d_22", "drn_d_22-4bd2f8ea.pth"),
    _drn("drn_d_38", "drn_d_38-eebb45f0.pth"),
    _drn("drn_d_54", "drn_d_54-0e0534ff.pth"),
    _drn("drn_d_105", "drn_d_105-12b40979.pth"),
    _seg("drn_d_22", "drn_d_22_cityscapes.pth"),
    _seg("drn_d_38", "drn_d_38_cityscapes.pth"),
    _dilation("dilation8", "pascal_voc", 21),
    _dilation("dilation8", "camvid", 11),
    _dilation("dilation7", "kitti", 11),
    _dilation("dilation10", "cityscapes", 19),
)


def names_for(model: str) -> list[str]:
    """The named weights available for the registry key `model`."""
    return [e.name for e in ENTRIES if e.model == model]


def get_entry(model: str, name: str) -> WeightsEntry:
    for entry in ENTRIES:
        if entry.model == model and entry.name == name:
            return entry
    names = names_for(model)
    raise ValueError(
        f"No weights named {name!r} for {model}. Available: "
        f"{', '.join(repr(n) for n in names) if names else 'none'}; or pass None or a "
        f"path to a .pth/.pth.tar/.caffemodel/.weights.h5/.keras file."
    )
