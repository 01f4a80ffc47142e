"""`ganzoo.load("pix2pix")` and `ganzoo sample pix2pix` mean the bundled model: the default must run offline."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from PIL import Image

import ganzoo
from ganzoo import names
from ganzoo.cli import cli


def test_the_default_is_the_bundled_model(tmp_path: Path) -> None:
    entry = names.resolve("pix2pix").entry
    assert entry is not None and entry.id == "pix2pix-openmoji-line2color" and entry.bundled
    model = ganzoo.load("pix2pix", device="cpu")
    assert model.plugin.name == "pix2pix"
    Image.new("RGB", (64, 64), (255, 255, 255)).save(tmp_path / "line.png")
    res = CliRunner().invoke(cli, ["sample", "pix2pix", "--input", str(tmp_path / "line.png"),
                                   "-o", str(tmp_path / "out" / "colour.png"), "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert Image.open(tmp_path / "out" / "colour.png").size == (64, 64)
