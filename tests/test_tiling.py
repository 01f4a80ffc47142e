"""Large inputs to a translator: the memory estimate, tiling with blending, the one-line refusal, --max-side.

Core tests on the toy paired translator (tests/toyzoo ``toypair``: two 3×3 convolutions, fully convolutional).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import ganzoo
from ganzoo import tiling
from ganzoo.cli import cli
from ganzoo.errors import DataError
from ganzoo.translate import SizeRule, translate_image, translate_path

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def pair(tmp_path: Path):
    folder = ganzoo.build("toypair", seed=0).save_pretrained(tmp_path / "pair")
    return folder, ganzoo.load(str(folder), device="cpu")


def _image(h: int, w: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.tanh(torch.randn(1, h, w, generator=g))


def _png(path: Path, h: int, w: int) -> Path:
    arr = (np.random.default_rng(0).random((h, w)) * 255).astype(np.uint8)
    Image.fromarray(arr, "L").save(path)
    return path


def test_the_estimate_grows_with_the_pixels_and_leaves_the_rng_alone(pair) -> None:
    _, model = pair
    state = torch.random.get_rng_state()
    mem = tiling.estimate_memory(model, 1)
    assert torch.equal(state, torch.random.get_rng_state())
    # toypair holds at least its 8-channel float activations and the 1-channel output per input pixel
    assert mem.per_pixel >= (8 + 1) * 4
    assert mem.bytes_for(6000, 6000) > 1e9 > mem.bytes_for(100, 100)
    assert mem.max_pixels(mem.bytes_for(300, 300)) == pytest.approx(300 * 300, rel=0.01)


def test_tiles_blend_into_the_whole_image_result(pair) -> None:
    """Overlapping tiles reproduce a one-pass translation: exactly away from the seams, closely near them."""
    _, model = pair
    image = _image(150, 230)
    whole = translate_image(model, image)
    tiled = tiling.translate_tiled(model, image, tile=64, overlap=8)
    assert tiled.shape == whole.shape
    err = (tiled - whole).abs()
    assert err.max() < 0.1 and err.mean() < 0.01
    assert torch.equal(tiled[:, :50, :50], whole[:, :50, :50])  # inside the first tile, away from its edges


def test_a_large_image_is_tiled_within_the_budget(pair, tmp_path: Path, monkeypatch, caplog) -> None:
    folder, model = pair
    mem = tiling.estimate_memory(model, 1)
    monkeypatch.setattr(tiling, "CHECK_ABOVE_PIXELS", 100 * 100)
    monkeypatch.setenv("GANZOO_TRANSLATE_MEMORY", str(mem.bytes_for(96, 96) / 1e9))
    calls: list[tuple[int, ...]] = []
    real = model.impl.translate
    monkeypatch.setattr(model.impl, "translate",
                        lambda m, im, **kw: calls.append(tuple(im.shape)) or real(m, im, **kw))
    src = _png(tmp_path / "big.png", 200, 260)
    with caplog.at_level("INFO", logger="ganzoo"):
        out = translate_path(model, src, tmp_path / "out.png")
    assert Image.open(out).size == (260, 200)
    assert "overlapping tiles" in caplog.text and "limit" in caplog.text
    probes, tiles = calls[:2], calls[2:]
    assert probes == [(1, 64, 64), (1, 128, 128)]  # the estimate: two small passes
    assert len(tiles) >= 4 and all(max(s[1:]) <= 96 for s in tiles)
    # the same image under the budget: one pass
    monkeypatch.setenv("GANZOO_TRANSLATE_MEMORY", "8")
    calls.clear()
    translate_path(model, src, tmp_path / "one.png")
    assert [s for s in calls if s[1:] == (200, 260)]


def test_a_translator_that_cannot_be_tiled_is_refused_in_one_line(pair, tmp_path: Path, monkeypatch) -> None:
    folder, model = pair
    monkeypatch.setattr(tiling, "CHECK_ABOVE_PIXELS", 100 * 100)
    monkeypatch.setenv("GANZOO_TRANSLATE_MEMORY", "0.0001")  # 100 kB
    src = _png(tmp_path / "big.png", 300, 400)
    # the resize policy (a fixed working size): no tiles
    monkeypatch.setattr(model.impl, "size_rule", lambda m: SizeRule("resize", 1, size=8))
    monkeypatch.setattr(tiling, "_tileable", lambda m: False)
    with pytest.raises(DataError) as err:
        translate_path(model, src, tmp_path / "out.png")
    msg = str(err.value)
    assert "\n" not in msg and "big.png is 400×300 px" in msg and "100 kB limit (GANZOO_TRANSLATE_MEMORY)" in msg
    assert "--max-side" in msg and not (tmp_path / "out.png").exists()
    # through the CLI: the same line, then --max-side as suggested works
    res = CliRunner().invoke(cli, ["sample", str(folder), "--input", str(src), "-o", str(tmp_path / "cli.png")])
    assert res.exit_code == 1 and res.output.count("\n") == 1 and "--max-side" in res.output
    import re

    side = re.search(r"--max-side (\d+)", res.output).group(1)
    res = CliRunner().invoke(cli, ["sample", str(folder), "--input", str(src), "--max-side", side,
                                   "-o", str(tmp_path / "cli.png")])
    assert res.exit_code == 0, res.output
    assert max(Image.open(tmp_path / "cli.png").size) == int(side)


def test_max_side_downscales_the_input(pair, tmp_path: Path) -> None:
    folder, _ = pair
    src = _png(tmp_path / "wide.png", 60, 120)
    res = CliRunner().invoke(cli, ["sample", str(folder), "--input", str(src), "--max-side", "40",
                                   "-o", str(tmp_path / "small" / "out.png")])
    assert res.exit_code == 0, res.output
    assert Image.open(tmp_path / "small" / "out.png").size == (40, 20)
    (tmp_path / "dir").mkdir()
    _png(tmp_path / "dir" / "a.png", 60, 120)
    res = CliRunner().invoke(cli, ["sample", str(folder), "--input", str(tmp_path / "dir"), "--max-side", "30",
                                   "-o", str(tmp_path / "outdir")])
    assert res.exit_code == 0 and Image.open(tmp_path / "outdir" / "a.png").size == (30, 15)
    noise = ganzoo.build("toygan", seed=0).save_pretrained(tmp_path / "gan")
    res = CliRunner().invoke(cli, ["sample", str(noise), "--max-side", "30", "-o", str(tmp_path / "g.png")])
    assert res.exit_code == 1 and "--max-side" in res.output


def test_memory_budget_reads_the_environment(monkeypatch) -> None:
    from ganzoo.errors import UsageError

    monkeypatch.setenv("GANZOO_TRANSLATE_MEMORY", "2.5")
    assert tiling.memory_budget("cpu") == 2_500_000_000
    monkeypatch.setenv("GANZOO_TRANSLATE_MEMORY", "lots")
    with pytest.raises(UsageError, match="positive number of GB"):
        tiling.memory_budget("cpu")
    monkeypatch.delenv("GANZOO_TRANSLATE_MEMORY")
    assert 0 < tiling.memory_budget("cpu") <= 8 * 1024 ** 3
