"""The dcgan plugin and its bundled dcgan-digits through the CLI: discovery, the card, the examples the help shows."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ganzoo import registry
from ganzoo.cli import cli


def test_dcgan_is_discovered_through_its_entry_point() -> None:
    """The built-in plugin is found like any third-party one, with its distribution and version."""
    record = registry.get_record("dcgan")
    assert record.distribution == "ganzoo-dcgan"
    assert record.version
    assert record.plugin is not None and record.plugin.task == "unconditional"


def test_info_of_the_bundled_model() -> None:
    bundled = CliRunner().invoke(cli, ["info", "dcgan-digits"])
    assert "status:      bundled" in bundled.output and "ganzoo train dcgan" in bundled.output
    plugin = CliRunner().invoke(cli, ["info", "dcgan"])
    assert "https://arxiv.org/abs/1511.06434" in plugin.output and "ngf" in plugin.output
    assert "(default: dcgan-digits)" in plugin.output


def test_the_quick_start_examples_run(tmp_path: Path) -> None:
    """The first sampling examples of `ganzoo --help` and `ganzoo sample --help` work as written (in a fresh folder)."""
    text = CliRunner().invoke(cli, ["--help"]).output
    assert "ganzoo sample dcgan-digits -n 64 -o grid.png" in text
    res = CliRunner().invoke(cli, ["sample", "dcgan-digits", "-n", "64", "-o", str(tmp_path / "runs" / "grid.png"),
                                   "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "runs" / "grid.png").is_file()
    res = CliRunner().invoke(cli, ["sample", "dcgan-digits", "--interpolate", "-n", "4", "-o", str(tmp_path / "i.png"),
                                   "--device", "cpu"])
    assert res.exit_code == 0 and "4 interpolation rows" in res.output
