"""`ganzoo.load("cyclegan")` and `ganzoo sample cyclegan` mean the bundled model: the default must run offline."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from ganzoo import names
from ganzoo.cli import cli


def test_the_default_is_the_bundled_model(tmp_path: Path) -> None:
    entry = names.resolve("cyclegan").entry
    assert entry is not None and entry.id == "cyclegan-noto2twemoji" and entry.bundled
    Image.new("RGB", (64, 64), (250, 200, 40)).save(tmp_path / "emoji.png")
    for direction in ("AtoB", "BtoA"):
        out = tmp_path / direction / "out.png"
        res = CliRunner().invoke(cli, ["sample", "cyclegan", "--direction", direction, "--input",
                                       str(tmp_path / "emoji.png"), "-o", str(out), "--device", "cpu"])
        assert res.exit_code == 0, res.output
        assert Image.open(out).size == (64, 64)
