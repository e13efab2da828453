"""Whether TFLite's GPU delegate takes a `.tflite` model whole, as TensorFlow's own
model analyzer judges it (`tf.lite.experimental.Analyzer.analyze(...,
gpu_compatibility=True)`, which checks every node against the GPU delegate's op and
type rules of this TensorFlow's runtime version).

The analyzer prints a report; `gpu_compatibility` captures it and picks out the
incompatibility lines ("GPU COMPATIBILITY WARNING: ..."). A model is compatible when
there are none and the analyzer says so in its closing line.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass

COMPATIBLE_LINE = "Your model looks compatible with GPU delegate"
_WARNING = re.compile(r"GPU COMPATIBILITY WARNING:?\s*(.*)")


@dataclass
class GpuCompatibility:
    """compatible: True when the analyzer found no incompatible node; problems: the
    analyzer's incompatibility messages, one per line; report: its whole output."""

    compatible: bool
    problems: list[str]
    report: str

    def summary(self) -> str:
        if self.compatible:
            return "GPU delegate: compatible (tf.lite.experimental.Analyzer)"
        return "GPU delegate: NOT compatible: " + "; ".join(self.problems)


def parse_report(report: str) -> GpuCompatibility:
    problems = [m.group(1).strip() or m.group(0).strip()
                for m in map(_WARNING.search, report.splitlines()) if m]
    compatible = not problems and COMPATIBLE_LINE in report
    if not problems and not compatible:
        problems = ["the analyzer did not report the model as GPU compatible"]
    return GpuCompatibility(compatible=compatible, problems=problems, report=report)


def gpu_compatibility(content: bytes) -> GpuCompatibility:
    """Runs the analyzer on `content` (the `.tflite` bytes) and parses its report."""
    import tensorflow as tf

    stream = io.StringIO()
    with contextlib.redirect_stdout(stream):
        tf.lite.experimental.Analyzer.analyze(
            model_content=bytes(content), gpu_compatibility=True)
    return parse_report(stream.getvalue())
