"""Prints the README's model table: parameters counted from the built Keras models,
the authors' published figures, and which named weights exist.

    python benchmarks/model_table.py [--markdown-out FILE]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_drn.models import DILATION_CONFIGS  # noqa: E402
from keras_drn.models import DRN_CONFIGS  # noqa: E402
from keras_drn.models import PUBLISHED  # noqa: E402
from keras_drn.models import build_dilation  # noqa: E402
from keras_drn.models import build_drn  # noqa: E402
from keras_drn.weights import registry  # noqa: E402


def _count(model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def _fmt(value, suffix="") -> str:
    return "–" if value is None else f"{value:.1f}{suffix}"


def _weights_name(model: str, name: str) -> str:
    """`"name"`, with a dagger where no download URL is known (file needed)."""
    entry = registry.get_entry(model, name)
    return f'"{name}"' + ("" if entry.urls else "†")


def rows() -> list[list[str]]:
    table = []
    for arch in DRN_CONFIGS:
        params = _count(build_drn(arch))
        keras.backend.clear_session()
        pub = PUBLISHED.get(arch)
        weights = [_weights_name(arch, n) for n in registry.names_for(arch)] + [
            _weights_name(f"drnseg_{arch}", n)
            for n in registry.names_for(f"drnseg_{arch}")
        ]
        table.append([
            f"`{arch.upper()}`",
            f"{params:,}",
            _fmt(pub.top1_error if pub else None),
            _fmt(pub.cityscapes_miou if pub else None),
            ", ".join(weights) or "–",
        ])
    for dataset, config in DILATION_CONFIGS.items():
        params = _count(build_dilation(dataset))
        keras.backend.clear_session()
        constructor = config.name.capitalize().replace("ilation", "ilation")
        table.append([
            f'`{constructor}("{dataset}")`', f"{params:,}", "–", "–",
            ", ".join(_weights_name(f"{config.name}_{dataset}", n)
                      for n in registry.names_for(f"{config.name}_{dataset}")),
        ])
    return table


def markdown(table) -> str:
    header = ["model", "parameters", "ImageNet top-1 err. (paper)",
              "Cityscapes val mIoU (paper)", "named weights"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in table]
    lines += ["", "† No download URL is known (the authors link only a folder): pass the "
              "file by path, or place it in the Keras cache under its registry name."]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown-out", help="also write the table to this file")
    args = parser.parse_args()
    text = markdown(rows())
    print(text)
    if args.markdown_out:
        with open(args.markdown_out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
