"""Packaging: setup.py's dependency lists, requirements*.txt and the imports agree.

setup.py is read with `ast` (its lists are literals at module level), never run. The
imports are found with `ast` too, including those inside functions, so a lazy import of
a package that nothing installs is caught here rather than by a user.
"""

from __future__ import annotations

import ast
import importlib.metadata
import pathlib
import re
import subprocess
import sys

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Import names whose distribution is called something else.
IMPORT_TO_DISTRIBUTION = {
    "PIL": "pillow",
    "ai_edge_litert": "ai-edge-litert",
    "tensorflow_datasets": "tensorflow-datasets",
    "keras_hub": "keras-hub",
    "google": "protobuf",  # google.protobuf is the only google.* module used
    "yaml": "pyyaml",
    "cv2": "opencv-python",
    "sklearn": "scikit-learn",
    "cityscapesscripts": "cityscapesscripts",
    "importlib_resources": "importlib-resources",
}

# Sub-packages of keras_drn whose imports may come from an extra instead of
# install_requires: everything else must work after a plain `pip install .`.
OPTIONAL_PARTS = {
    "export": ("keras_drn/export/",),
    "plots": ("keras_drn/visualize/",),
}

# Folders of scripts and tests, whose imports must be covered by install_requires and
# the extras together (requirements-test.txt installs them all).
SCRIPT_FOLDERS = ("tests", "train", "export", "benchmarks")


def _setup_literals() -> dict[str, object]:
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in ("INSTALL_REQUIRES",
                                                              "EXTRAS_REQUIRE"):
                found[target.id] = ast.literal_eval(node.value)
    assert set(found) == {"INSTALL_REQUIRES", "EXTRAS_REQUIRE"}, (
        "setup.py must define INSTALL_REQUIRES and EXTRAS_REQUIRE as literals"
    )
    return found


SETUP = _setup_literals()
INSTALL_REQUIRES = [Requirement(r) for r in SETUP["INSTALL_REQUIRES"]]
EXTRAS = {name: [Requirement(r) for r in reqs]
          for name, reqs in SETUP["EXTRAS_REQUIRE"].items()}


def _by_name(requirements) -> dict[str, Requirement]:
    out = {}
    for req in requirements:
        key = canonicalize_name(req.name)
        assert key not in out, f"{req.name} is listed twice"
        out[key] = req
    return out


def _read_requirements(path: pathlib.Path) -> tuple[list[Requirement], list[str]]:
    """(the file's own requirements, the files it includes with -r)."""
    requirements, includes = [], []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            includes.append(line.split(None, 1)[1])
            continue
        assert not line.startswith("-"), f"{path.name}: unexpected option {line!r}"
        requirements.append(Requirement(line))
    return requirements, includes


def _same(expected: dict[str, Requirement], actual: dict[str, Requirement], where: str):
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    assert not missing, f"{where} lacks {missing} (listed in setup.py)"
    assert not extra, f"{where} lists {extra}, which setup.py does not"
    for key, req in expected.items():
        assert actual[key].specifier == req.specifier, (
            f"{where}: {actual[key]} but setup.py says {req}"
        )
        assert actual[key].marker == req.marker, f"{where}: markers of {key} differ"


def test_requirements_txt_is_install_requires_plus_export_and_plots():
    requirements, includes = _read_requirements(ROOT / "requirements.txt")
    assert includes == []
    expected = _by_name(INSTALL_REQUIRES + EXTRAS["export"] + EXTRAS["plots"])
    _same(expected, _by_name(requirements), "requirements.txt")


def test_requirements_test_txt_is_the_test_extra_on_top_of_requirements_txt():
    requirements, includes = _read_requirements(ROOT / "requirements-test.txt")
    assert includes == ["requirements.txt"]
    _same(_by_name(EXTRAS["test"]), _by_name(requirements), "requirements-test.txt")


def test_extras_do_not_repeat_install_requires():
    core = _by_name(INSTALL_REQUIRES)
    for name, reqs in EXTRAS.items():
        if name == "all":
            continue
        again = sorted(set(_by_name(reqs)) & set(core))
        assert not again, f"extra {name!r} repeats install_requires: {again}"


def _guarded(tree) -> set[int]:
    """ids of the import nodes inside `try: ... except ImportError` (optional ones)."""
    optional = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = set()
        for handler in node.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [
                handler.type]
            caught |= {k.id for k in kinds if isinstance(k, ast.Name)}
        if caught & {"ImportError", "ModuleNotFoundError"}:
            for stmt in node.body:
                optional |= {id(n) for n in ast.walk(stmt)
                             if isinstance(n, (ast.Import, ast.ImportFrom))}
    return optional


def _imports(path: pathlib.Path, *, optional: bool = True) -> set[str]:
    """Top-level names of the absolute imports in `path`, wherever they stand (with
    `optional=False`, not those guarded by `except ImportError`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = set() if optional else _guarded(tree)
    names = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _local_modules() -> set[str]:
    local = {"keras_drn", "__future__"}
    for folder in SCRIPT_FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            local.add(path.stem)
        local.update(p.name for p in (ROOT / folder).iterdir() if p.is_dir())
    return local


def _third_party(names: set[str]) -> set[str]:
    return {n for n in names if n not in sys.stdlib_module_names
            and n not in _local_modules()}


def _distribution(import_name: str) -> str:
    return canonicalize_name(IMPORT_TO_DISTRIBUTION.get(import_name, import_name))


def _uncovered(import_names: set[str], allowed: dict[str, Requirement]) -> list[str]:
    return sorted(n for n in import_names if _distribution(n) not in allowed)


def test_every_library_import_is_installed_by_pip_install_dot_or_its_extra():
    core = _by_name(INSTALL_REQUIRES)
    problems = []
    for path in sorted((ROOT / "keras_drn").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        allowed = dict(core)
        for extra, prefixes in OPTIONAL_PARTS.items():
            if relative.startswith(prefixes):
                allowed.update(_by_name(EXTRAS[extra]))
        imports = _imports(path, optional=False)
        for name in _uncovered(_third_party(imports), allowed):
            problems.append(f"{relative} imports {name} ({_distribution(name)})")
    assert not problems, (
        "imports that `pip install .` (or the extra of that part) does not install:\n"
        + "\n".join(problems)
    )


def test_scripts_and_tests_imports_are_covered_by_the_extras():
    allowed = _by_name(INSTALL_REQUIRES)
    for name, reqs in EXTRAS.items():  # an extra may repeat another's package
        if name != "all":
            allowed.update(_by_name(reqs))
    problems = []
    for folder in SCRIPT_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name in _uncovered(_third_party(_imports(path)), allowed):
                problems.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not problems, "\n".join(problems)


def test_import_scan_tells_guarded_imports(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text("try:\n    import torch\nexcept ImportError:\n    torch = None\n"
                    "import numpy\n")
    assert _imports(path) == {"torch", "numpy"}
    assert _imports(path, optional=False) == {"numpy"}


def test_import_scan_sees_lazy_imports():
    # The scanner must look inside functions: keras_drn imports scipy and
    # tensorflow_datasets only there.
    found = set()
    for path in (ROOT / "keras_drn").rglob("*.py"):
        found |= _imports(path)
    assert {"scipy", "tensorflow_datasets", "keras_hub", "h5py"} <= found


def test_installed_versions_satisfy_the_specifiers():
    """What this environment has installed fits setup.py (a drifted virtual environment
    shows up here rather than as a puzzling failure elsewhere)."""
    wrong = []
    for req in INSTALL_REQUIRES + EXTRAS["test"]:
        try:
            version = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if not req.specifier.contains(version, prereleases=True):
            wrong.append(f"{req.name} {version} (setup.py: {req})")
    assert not wrong, "installed versions outside setup.py's ranges: " + ", ".join(wrong)


def test_ci_script_parses_and_installs_the_package_alone_first():
    script = ROOT / ".ci" / "run"
    if not script.exists():
        pytest.skip("no .ci/run in this tree")
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text(encoding="utf-8")
    # `pip install [--quiet ...] .`: not editable, no -r, no extras.
    plain = re.search(r"^[^#\n]*pip install(?: --(?!editable)[\w-]+)* \.[ \t]*$", text,
                      re.MULTILINE)
    assert plain, ".ci/run must install the package alone (pip install .)"
    assert plain.start() < text.find("requirements-test.txt"), (
        ".ci/run must install the package alone before the test requirements"
    )
