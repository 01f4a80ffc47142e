"""Packaging: the wheel holds every module, the bundled cards and weights, the templates and the metric weights,
and setuptools builds it without warnings about undeclared packages."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _setuptools_version() -> tuple[int, ...]:
    try:
        import setuptools
    except ImportError:  # pragma: no cover
        return (0,)
    return tuple(int(p) for p in setuptools.__version__.split(".")[:2] if p.isdigit())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> tuple[Path, str]:
    """A wheel built from a copy of the sources (the checkout is left untouched), and the build's verbose log."""
    if _setuptools_version() < (77,):  # pyproject.toml's PEP 639 licence string; `make setup` installs a newer one
        pytest.skip("building needs setuptools >= 77 in this environment (pip install -U setuptools)")
    src = tmp_path_factory.mktemp("src")
    shutil.copy(ROOT / "pyproject.toml", src)
    shutil.copy(ROOT / "README.md", src)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "ganzoo", src / "ganzoo", ignore=ignore)
    shutil.copytree(ROOT / "cards", src / "cards", ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
                           "-w", str(out), str(src)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = out.glob("ganzoo-*.whl")
    return path, proc.stdout + proc.stderr


def test_the_build_is_quiet(wheel) -> None:
    _, log = wheel
    assert "absent from the `packages` configuration" not in log and "Package would be ignored" not in log


def test_the_wheel_holds_code_cards_templates_and_weights(wheel) -> None:
    path, _ = wheel
    names = set(zipfile.ZipFile(path).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "ganzoo").rglob("*.py") if "__pycache__" not in p.parts}
    assert modules <= names, sorted(modules - names)  # every module, in every (sub)package
    for f in ("ganzoo/templates/modelcard.md", "ganzoo/metrics/weights/digit-classifier.safetensors",
              "ganzoo/model_cards/dcgan-digits/README.md", "ganzoo/model_cards/dcgan-digits/config.json",
              "ganzoo/model_cards/dcgan-digits/G.safetensors", "ganzoo/model_cards/cyclegan-horse2zebra/README.md"):
        assert f in names, f
    cards = {p.relative_to(ROOT / "cards").as_posix() for p in (ROOT / "cards").rglob("*")
             if p.suffix in (".md", ".json", ".safetensors")}
    assert {f"ganzoo/model_cards/{c}" for c in cards} <= names
    assert not any("__pycache__" in n or n.startswith("tests/") for n in names)
