"""Every command line: a console script of the package, `--help` printed at once with
nothing from TensorFlow on stderr and each default shown once; the checkout's
train/*.py and export/*.py are thin wrappers; nothing outside tests/ imports tests/."""

import ast
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _console_scripts():
    text = (ROOT / "setup.py").read_text()
    return re.findall(r'"(keras-drn-[a-z-]+)=([a-z_.]+):([a-z_]+)"', text)


SCRIPTS = _console_scripts()
WRAPPERS = sorted((ROOT / "train").glob("*.py")) + sorted((ROOT / "export").glob("*.py"))


def _run(command):
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                            timeout=300)
    return command, result


@pytest.fixture(scope="module")
def help_outputs():
    commands = [[sys.executable, "-c",
                 f"import sys; from {module} import {func}; "
                 f"sys.exit({func}(['--help']))"]
                for _, module, func in SCRIPTS]
    commands += [[sys.executable, str(path), "--help"] for path in WRAPPERS]
    with ThreadPoolExecutor(2) as pool:
        return dict((tuple(c), r) for c, r in pool.map(_run, commands))


def test_every_command_has_a_console_script():
    names = {name for name, _, _ in SCRIPTS}
    for name in ("keras-drn-cityscapes", "keras-drn-imagenet", "keras-drn-export-tflite",
                 "keras-drn-export-saved-model", "keras-drn-convert", "keras-drn-preset",
                 "keras-drn-report", "keras-drn-run-tflite", "keras-drn-predict",
                 "keras-drn-evaluate", "keras-drn-keras-fit", "keras-drn-train"):
        assert name in names, name


def test_help_is_clean(help_outputs):
    assert len(help_outputs) == len(SCRIPTS) + len(WRAPPERS)
    for command, result in help_outputs.items():
        where = " ".join(command[1:])
        assert result.returncode == 0, (where, result.stderr[-2000:])
        assert "usage:" in result.stdout, where
        # Nothing from TensorFlow's start-up (absl, oneDNN, CUDA) or anything else.
        assert result.stderr == "", (where, result.stderr[-2000:])
        for line in result.stdout.replace("\n", " ").split("  -"):
            assert line.count("(default:") <= 1, (where, line)


@pytest.mark.parametrize("path", WRAPPERS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_wrappers_are_thin(path):
    text = path.read_text()
    assert len(text.splitlines()) <= 40, path
    assert "sys.path" not in text and "PYTHONPATH" not in text, path


def test_nothing_outside_tests_imports_tests():
    for folder in ("keras_drn", "train", "export", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            tree = ast.parse(text)
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    assert not name.startswith(("tests", "torch_reference")), (path, name)
            assert '"tests"' not in text and "'tests'" not in text, path


def test_quiet_import_shows_a_real_failure(tmp_path):
    fake = tmp_path / "tensorflow"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "import os\nos.write(2, b'native loader: libfoo.so missing\\n')\n"
        "raise ImportError('broken tensorflow')\n")
    code = ("from keras_drn.cli.quiet import import_tensorflow\n"
            "import sys\nsys.modules.pop('keras', None)\n"
            "try:\n    import_tensorflow()\nexcept ImportError as e:\n"
            "    print('raised', e)\n")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin",
             "KERAS_BACKEND": "tensorflow"}, timeout=120)
    assert "raised" in result.stdout, result.stderr
    assert "libfoo.so missing" in result.stderr
