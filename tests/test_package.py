"""The package surface: every advertised name resolves, and light entry points stay
light (LiteRT inference and the fact tables import neither Keras nor TensorFlow)."""

import subprocess
import sys

import keras_drn


def test_every_exported_name_resolves():
    for name in keras_drn.__all__:
        assert getattr(keras_drn, name) is not None, name
    assert keras_drn.__version__


def test_unknown_attribute():
    import pytest

    with pytest.raises(AttributeError, match="no_such_model"):
        keras_drn.no_such_model  # noqa: B018


def test_litert_runtime_and_tables_do_not_import_tensorflow():
    code = (
        "import sys, keras_drn.meta, keras_drn.export.runtime, keras_drn.weights.registry;"
        "heavy = [m for m in ('tensorflow', 'keras', 'torch') if m in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
