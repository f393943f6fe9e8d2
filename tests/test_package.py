"""The package as its users get it: typed, versioned, exporting what a reader uses, and the same
files whether installed with `pip install .` or from the wheel the site publishes."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import shutil
import subprocess
import sys
import zipfile

import pytest

import literate
from tests.helpers import ROOT
from tools import chapter, tangle, wheel


def public_callables():
    for info in pkgutil.iter_modules(literate.__path__):
        module = importlib.import_module(f"literate.{info.name}")
        for name, value in vars(module).items():
            if (not name.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value))
                    and value.__module__ == module.__name__):
                yield f"{module.__name__}.{name}", value


def unannotated(function) -> list[str]:
    signature = inspect.signature(function)
    missing = [p.name for p in signature.parameters.values()
               if p.name != "self" and p.annotation is inspect.Parameter.empty]
    return missing + (["return"] if signature.return_annotation is inspect.Signature.empty else [])


def test_every_public_function_and_method_carries_type_hints():
    found = {}
    for name, value in public_callables():
        functions = [value] if inspect.isfunction(value) else [
            f for f in vars(value).values() if inspect.isfunction(f)]  # a class: the methods it defines
        for function in functions:
            if missing := unannotated(function):
                found[f"{name}.{function.__name__}" if inspect.isclass(value) else name] = missing
    assert found == {}
    assert (ROOT / "literate" / "py.typed").is_file()


def test_the_package_exports_the_readers_names_and_keeps_the_builds_helpers_importable():
    internal = set()  # what the chapters save with `#@save internal`
    for path in tangle.chapters():
        for block in chapter.read(path, chapter.NOTHING_RUNS).blocks:
            if block.saved and block.internal:
                internal |= {name for name, _ in tangle._defined_names(ast.parse(tangle._saved_code(block)[0]))}
    helpers = {"check_corr2d_args", "check_pair", "is_int", "show", "volatile", "CELL", "machine_summary", "bench_table"}
    assert helpers <= internal and not helpers & set(literate.__all__)
    assert {"corr2d", "Conv2D", "convolve2d", "receptive_field", "corr2d_unfold", "corr2d_shift"} <= set(literate.__all__)
    from literate.arguments import check_corr2d_args  # still importable from its module
    assert callable(check_corr2d_args)


def test_the_version_is_pyprojects():
    assert literate.__version__ == wheel.project()["version"]


@pytest.mark.heavy
def test_pip_install_and_the_sites_wheel_hold_the_same_files(tmp_path):
    """One package, two build paths: setuptools (`pip install .`) and tools/wheel.py (the site's)."""
    project = tmp_path / "project"  # setuptools builds in the tree it is given: a copy of what it reads
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "literate", project / "literate", ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", str(project), "--no-deps", "--no-build-isolation",
                             "--quiet", "-w", str(tmp_path)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [built] = tmp_path.glob("literate-*.whl")
    with zipfile.ZipFile(built) as archive:
        by_setuptools = {n: archive.read(n) for n in archive.namelist() if n.startswith("literate/")}
    name, data = wheel.build()
    site_wheel = tmp_path / "site" / name
    site_wheel.parent.mkdir()
    site_wheel.write_bytes(data)
    with zipfile.ZipFile(site_wheel) as archive:
        by_site = {n: archive.read(n) for n in archive.namelist() if n.startswith("literate/")}
    assert by_setuptools == by_site and "literate/py.typed" in by_site
    assert built.name == name  # the same name and version
