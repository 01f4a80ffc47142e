"""One sweep over every installed plugin (the timm habit): the public conformance kit, on each tiny config."""

from __future__ import annotations

import pytest

from ganzoo import registry
from ganzoo.testing import check_plugin

PLUGINS = [r.name for r in registry.list_plugins()]


def test_the_builtin_plugins_are_installed() -> None:
    """`make setup` installs every distribution in plugins/: each must be discovered (a missing one is a bug)."""
    import os
    from pathlib import Path

    if os.environ.get("GANZOO_DISABLE_PLUGINS"):
        pytest.skip("GANZOO_DISABLE_PLUGINS blocks plugins on purpose")

    shipped = {p.name for p in (Path(__file__).parents[1] / "plugins").iterdir() if (p / "pyproject.toml").is_file()}
    assert shipped <= set(PLUGINS), f"not installed: {shipped - set(PLUGINS)} (run `make setup`)"


@pytest.mark.parametrize("name", PLUGINS)
def test_plugin_conforms(name: str, tmp_path) -> None:
    """build → one D/G step with finite losses and gradients everywhere → 2 trainer steps → sample → save/load."""
    report = check_plugin(name, tmp_path=tmp_path)
    assert report.passed[-1] == "card"


@pytest.mark.parametrize("name", PLUGINS)
def test_plugin_spec_module_is_torch_free(name: str) -> None:
    """The entry point's module must not import torch (ganzoo list stays instant)."""
    import subprocess
    import sys

    target = registry.get_record(name).target.split(":")[0]
    code = f"import sys, {target}; assert 'torch' not in sys.modules, 'imports torch'"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.strip().splitlines()[-1:]


def test_every_card_names_an_installed_plugin() -> None:
    import os

    if os.environ.get("GANZOO_DISABLE_PLUGINS"):
        pytest.skip("GANZOO_DISABLE_PLUGINS blocks plugins on purpose")
    plugins = set(PLUGINS)
    for entry in registry.list_models():
        assert entry.plugin in plugins, f"{entry.id}: plugin {entry.plugin} is not installed"
    assert not [p for p in registry.problems() if p.kind == "card"]
