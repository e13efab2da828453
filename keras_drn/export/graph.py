"""What a `.tflite` graph holds, and whether it is clean for edge runtimes.

The op list comes from the LiteRT interpreter itself (`ai_edge_litert`, with the
default delegates off so that every node is a builtin op, not a delegate partition);
the convolutions' dilation factors, which the interpreter does not expose, come from
the flatbuffer (`ai_edge_litert.schema_py_generated`).

Clean means: no SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND (the dilated convolutions were
fused back into native dilated CONV_2D), no Flex (select TensorFlow) or other custom
ops, and, given the Keras model, exactly its dilated convolutions as dilated CONV_2D.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field

import keras
import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter
from ai_edge_litert.interpreter import OpResolverType

from keras_drn.models.walk import leaf_layers

FORBIDDEN_OPS = ("SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND")
_BUILTIN_NAMES = {
    value: name for name, value in vars(schema.BuiltinOperator).items()
    if not name.startswith("_")
}


class ExportGraphError(RuntimeError):
    """The converted graph is not what an edge runtime should get."""


@dataclass
class TFLiteGraph:
    """op_counts: op name -> count, as the interpreter lists the nodes (custom ops by
    their custom name, e.g. "FlexConv2D"); dilated_convs: (h, w) dilation factors of
    every CONV_2D with a factor above 1; depthwise_dilations likewise for
    DEPTHWISE_CONV_2D; custom_ops: custom op names in the flatbuffer."""

    op_counts: dict[str, int]
    dilated_convs: list[tuple[int, int]]
    depthwise_dilations: list[tuple[int, int]] = field(default_factory=list)
    custom_ops: list[str] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)

    @property
    def flex_ops(self) -> list[str]:
        names = list(self.custom_ops) + list(self.op_counts)
        return sorted({n for n in names if n.startswith("Flex")})


def _tensor_summary(details: dict) -> dict:
    return {
        "name": details["name"],
        "dtype": np.dtype(details["dtype"]).name,
        "shape": [int(s) for s in details["shape"]],
        "quantization": (float(details["quantization"][0]),
                         int(details["quantization"][1])),
    }


def _flatbuffer_ops(content: bytes):
    """(name, builtin options, is_custom) for every op of every subgraph."""
    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    codes = []
    for code in model.operatorCodes:
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        if builtin == schema.BuiltinOperator.CUSTOM:
            custom = code.customCode
            name = custom.decode() if isinstance(custom, bytes) else str(custom)
            codes.append((name, True))
        else:
            codes.append((_BUILTIN_NAMES.get(builtin, f"BUILTIN_{builtin}"), False))
    for subgraph in model.subgraphs:
        for op in subgraph.operators or []:
            name, is_custom = codes[op.opcodeIndex]
            yield name, op.builtinOptions, is_custom


def inspect_tflite(content: bytes) -> TFLiteGraph:
    """Reads the op list through the LiteRT interpreter and the dilation factors from
    the flatbuffer. Raises ExportGraphError if the interpreter cannot load the model
    (e.g. Flex ops, which plain LiteRT does not resolve)."""
    try:
        interpreter = Interpreter(
            model_content=bytes(content),
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
    except (ValueError, RuntimeError) as error:
        raise ExportGraphError(
            f"LiteRT cannot load the converted model: {error}. A model that needs "
            f"Flex (select TensorFlow) ops does not run on plain LiteRT."
        ) from error
    # The interpreter's node list (experimental API, the one TF's own tests use).
    ops = interpreter._get_ops_details()  # noqa: SLF001
    counts = Counter(op["op_name"] for op in ops)
    dilated, depthwise, custom = [], [], []
    for name, options, is_custom in _flatbuffer_ops(content):
        if is_custom:
            custom.append(name)
        elif name == "CONV_2D":
            factors = (options.dilationHFactor, options.dilationWFactor)
            if max(factors) > 1:
                dilated.append(factors)
        elif name == "DEPTHWISE_CONV_2D":
            factors = (options.dilationHFactor, options.dilationWFactor)
            if max(factors) > 1:
                depthwise.append(factors)
    return TFLiteGraph(
        op_counts=dict(counts),
        dilated_convs=dilated,
        depthwise_dilations=depthwise,
        custom_ops=custom,
        inputs=[_tensor_summary(d) for d in interpreter.get_input_details()],
        outputs=[_tensor_summary(d) for d in interpreter.get_output_details()],
    )


def keras_dilations(model: keras.Model) -> list[tuple[int, int]]:
    """Dilation rates of the model's dilated Conv2D layers (nested models included)."""
    rates = []
    for layer in leaf_layers(model):
        if isinstance(layer, keras.layers.Conv2D):
            rate = tuple(int(r) for r in layer.dilation_rate)
            if max(rate) > 1:
                rates.append(rate)
    return rates


def check_graph(info: TFLiteGraph, expected_dilations=None) -> None:
    """Raises ExportGraphError unless the graph is clean (see the module docstring)."""
    problems = []
    for name in FORBIDDEN_OPS:
        if info.op_counts.get(name):
            problems.append(
                f"{info.op_counts[name]} {name} op(s): a dilated convolution was not "
                f"fused into a native CONV_2D (the input shape must be fully static)"
            )
    if info.flex_ops:
        problems.append(f"Flex (select TF) ops {info.flex_ops}")
    elif info.custom_ops:
        problems.append(f"custom ops {sorted(set(info.custom_ops))}")
    if expected_dilations is not None:
        want = Counter(tuple(r) for r in expected_dilations)
        got = Counter(tuple(r) for r in info.dilated_convs)
        if want != got:
            problems.append(
                f"dilated CONV_2D factors {dict(got)} differ from the Keras model's "
                f"dilated Conv2D layers {dict(want)}"
            )
    if problems:
        raise ExportGraphError(
            "The converted TFLite graph is not clean for edge runtimes: "
            + "; ".join(problems)
            + f". Op counts: {dict(sorted(info.op_counts.items()))}"
        )
