"""Running exported models: a `.tflite` through LiteRT (`ai_edge_litert`), a SavedModel
through TensorFlow. Both take uint8 RGB images and return float32 logits or labels, so
the parity and latency reports can treat every artifact alike.

The LiteRT side needs only numpy and `ai_edge_litert`; TensorFlow is imported for
SavedModels only. (Importing any `keras_drn` module imports Keras, and so TensorFlow,
through the package's `__init__`; the latency worker therefore runs LiteRT without
`keras_drn` to measure what an app would hold in memory.)
"""

from __future__ import annotations

import os

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from keras_drn.export.metadata import read_metadata

# XNNPACK delegate flags (tensorflow/lite/delegates/xnnpack/xnnpack_delegate.h): the
# quantized-operator defaults (QS8 | QU8) plus transient indirection buffers, which
# XNNPACK then rebuilds on every run in a shared workspace instead of keeping one per
# convolution. benchmarks/tflite_memory.py: DRN-D-22 at 1024x2048 peaks 401 MiB lower
# in float32 and 279 MiB lower in int8, at the same speed.
XNNPACK_QS8_QU8 = 0x01 | 0x02
XNNPACK_TRANSIENT_INDIRECTION_BUFFER = 0x20
LOW_MEMORY_XNNPACK_FLAGS = XNNPACK_QS8_QU8 | XNNPACK_TRANSIENT_INDIRECTION_BUFFER


class CompiledRunner:
    """One `.tflite` on LiteRT's `CompiledModel` (which, unlike the `Interpreter`, takes
    XNNPACK flags), with its input and output buffers. `xnnpack_flags=None` keeps
    LiteRT's defaults."""

    def __init__(self, content: bytes, num_threads: int, xnnpack_flags: int | None):
        from ai_edge_litert.compiled_model import CompiledModel
        from ai_edge_litert.cpu_options import CpuOptions
        from ai_edge_litert.options import Options

        self._content = content  # the compiled model reads from this buffer
        self.model = CompiledModel.from_buffer(content, options=Options(
            cpu_options=CpuOptions(num_threads=num_threads, xnnpack_flags=xnnpack_flags)))
        self._inputs = self.model.create_input_buffers(0)
        self._outputs = self.model.create_output_buffers(0)

    def __call__(self, batch: np.ndarray, output_shape, output_dtype) -> np.ndarray:
        """Runs the first signature on `batch`; the first output, reshaped."""
        self._inputs[0].write(batch)
        self.model.run_by_index(0, self._inputs, self._outputs)
        shape = tuple(int(s) for s in output_shape)
        out = self._outputs[0].read(int(np.prod(shape)), output_dtype)
        return np.asarray(out).reshape(shape)


def default_threads() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class LiteRTSegmenter:
    """A `.tflite` DRNSeg export on the LiteRT interpreter (XNNPACK on CPU).

    Args:
        model: path to the `.tflite` file, or its bytes.
        num_threads: interpreter threads (default: the cores available).
        low_memory: run through LiteRT's `CompiledModel` with XNNPACK's transient
            indirection buffers (see `LOW_MEMORY_XNNPACK_FLAGS`) instead of the
            `Interpreter`: the same results, a lower peak for large inputs.

    Call it with one uint8 RGB image `(H, W, 3)` (or `(1, H, W, 3)`) of the model's input
    size; it returns float32 logits `(H', W', C)` (dequantised when the model's output
    is int8) or uint8 labels `(H, W)`, as the model's `outputs` say.
    """

    def __init__(self, model, num_threads: int | None = None, low_memory: bool = False):
        if isinstance(model, (bytes, bytearray)):
            content, self.path = bytes(model), None
        else:
            self.path = os.fspath(model)
            if not os.path.isfile(self.path):
                raise FileNotFoundError(
                    f"No TFLite model at {self.path!r}; export one with "
                    f"`python export/tflite.py ... --output {self.path}`."
                )
            with open(self.path, "rb") as f:
                content = f.read()
        self.metadata = read_metadata(content) or {}
        self.num_threads = num_threads or default_threads()
        self.low_memory = bool(low_memory)
        self.interpreter = Interpreter(model_content=content, num_threads=self.num_threads)
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        if self.low_memory:
            # The Interpreter above only describes the tensors (never allocated).
            self._compiled = CompiledRunner(content, self.num_threads,
                                            LOW_MEMORY_XNNPACK_FLAGS)
        else:
            self.interpreter.allocate_tensors()
        shape = tuple(int(s) for s in self._input["shape"])
        if len(shape) != 4 or shape[0] != 1 or shape[3] != 3:
            raise ValueError(
                f"{self._describe()} takes input shape {shape}; expected a keras_drn "
                f"export with input [1, H, W, 3]."
            )
        self.input_size = shape[1:3]
        self.outputs = "labels" if len(self._output["shape"]) == 3 else "logits"

    @property
    def class_names(self) -> list[str] | None:
        """The exported segmenter's class names (from the metadata), or None."""
        return self.metadata.get("class_names")

    @property
    def dataset(self) -> str | None:
        """The exported segmenter's dataset (from the metadata), or None."""
        return self.metadata.get("dataset")

    def _describe(self) -> str:
        return f"TFLite model {self.path!r}" if self.path else "The TFLite model"

    def check_image(self, image) -> np.ndarray:
        """The image as a uint8 `(1, H, W, 3)` batch, or a clear error."""
        image = np.asarray(image)
        if image.ndim == 4 and image.shape[0] == 1:
            image = image[0]
        height, width = self.input_size
        if image.ndim == 2 or (image.ndim == 3 and image.shape[-1] != 3):
            channels = 1 if image.ndim == 2 else image.shape[-1]
            raise ValueError(
                f"The image has {channels} channel(s) (shape {image.shape}); "
                f"{self._describe()} takes RGB images with 3 channels. Convert it to "
                f"RGB first (e.g. PIL's Image.convert('RGB'))."
            )
        if image.ndim != 3:
            raise ValueError(
                f"Expected one RGB image of shape (H, W, 3), received shape "
                f"{image.shape}."
            )
        if image.shape[:2] != (height, width):
            raise ValueError(
                f"The image is {image.shape[0]}x{image.shape[1]} (HxW); "
                f"{self._describe()} was exported for {height}x{width}. Resize or crop "
                f"it to {height}x{width} (run_tflite.py --resize does so and maps the "
                f"labels back), or export a model for this size."
            )
        if image.dtype != np.uint8:
            if image.min() < 0 or image.max() > 255:
                raise ValueError(
                    f"The image holds values in [{image.min()}, {image.max()}]; expected "
                    f"uint8 RGB pixels in [0, 255] (the model normalises inside)."
                )
            image = image.astype(np.uint8)
        return image[None]

    def __call__(self, image) -> np.ndarray:
        batch = self.check_image(image)
        if self.low_memory:
            out = self._compiled(batch, self._output["shape"], self._output["dtype"])[0]
        else:
            self.interpreter.set_tensor(self._input["index"], batch)
            self.interpreter.invoke()
            out = self.interpreter.get_tensor(self._output["index"])[0]
        if self.outputs == "labels":
            return out
        scale, zero_point = self._output["quantization"]
        if scale:  # int8 logits (integer_io): dequantise
            return (out.astype(np.float32) - zero_point) * np.float32(scale)
        return out.astype(np.float32, copy=False)


class SavedModelSegmenter:
    """A keras_drn SavedModel (`serving_logits` / `serving_default` signatures) with
    the same call convention as `LiteRTSegmenter`: one uint8 image, float32 logits or
    int32 labels."""

    def __init__(self, path: str, outputs: str = "logits"):
        import tensorflow as tf

        self.path = os.fspath(path)
        self._tf = tf
        self.loaded = tf.saved_model.load(self.path)
        self.outputs = outputs
        key = "serving_logits" if outputs == "logits" else "serving_default"
        self._fn = self.loaded.signatures[key]

    def __call__(self, image) -> np.ndarray:
        batch = self._tf.constant(np.asarray(image, np.uint8)[None])
        result = self._fn(images=batch)
        return result[self.outputs][0].numpy()
