"""The hidden-information diagnosis (ganzoo.diagnose, `ganzoo diagnose`) on toy translators with known behaviour.

* a steganographic pair (G hides x as a low-amplitude code on a flat image, F decodes it) must be caught;
* an honest invertible pair (G inverts the colours, F inverts them back) must pass;
* a near-identity "translation" (y shows the source) is reported as carrying the source visibly;
* one-way models are refused in one line; multi-domain models round-trip through another domain.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from torch import nn

import ganzoo
from ganzoo.diagnose import PERTURBATIONS, diagnose, gaussian_blur, round_trip, write_panel, write_report
from ganzoo.errors import UsageError

AMPLITUDE = 0.02  # the hidden code's amplitude in [-1, 1] units (2.55 grey levels): survives PNG, not noise


class _Hide(nn.Module):
    """G: a flat mid-grey image carrying x at a tiny amplitude."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return AMPLITUDE * x


class _Reveal(nn.Module):
    """F: decodes the code back into x."""

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return (y / AMPLITUDE).clamp(-1, 1)


class _Negate(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -x


class _Identity(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _toy(g_ab: nn.Module, g_ba: nn.Module):
    model = ganzoo.build("toyunpair", seed=0)
    model.components["G_AB"], model.components["G_BA"] = g_ab, g_ba
    return model


def _images(n: int = 6, size: int = 16, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    smooth = torch.nn.functional.interpolate(torch.rand(n, 1, 4, 4, generator=g), size=size, mode="bilinear")
    return smooth * 1.6 - 0.8  # smooth images well inside [-1, 1]


def test_steganography_is_caught() -> None:
    x = _images()
    d = diagnose(_toy(_Hide(), _Reveal()), x)
    assert d.row("clean")["l1"] < 1e-6
    noise = d.row("noise σ=2/255")
    assert d.row("png (8-bit)")["l1"] < noise["l1"] / 2  # 8 bits keep most of a 2.5-level code …
    assert noise["intermediate_psnr_db"] > 40  # … an invisible perturbation …
    assert noise["gain"] > 20  # … is amplified by F (up to 1 / AMPLITUDE = 50×, less where F clips)
    assert noise["l1"] > 0.1 and d.hides and not d.visible
    assert d.verdict.startswith("hides information")


def test_an_honest_invertible_translator_passes() -> None:
    x = _images()
    d = diagnose(_toy(_Negate(), _Negate()), x, reference=-x)
    assert d.row("clean")["l1"] == 0 and d.row("noise σ=2/255")["gain"] == pytest.approx(1.0, rel=0.02)
    assert d.row("blur σ=1")["gain"] == pytest.approx(1.0, rel=0.02)
    assert not d.hides and not d.visible and d.verdict.startswith("no sign of hidden information")
    assert d.reference["kind"] == "F(true target image)" and d.reference["l1"] == 0


def test_a_translation_that_keeps_the_source_is_visible_not_hidden() -> None:
    """G = identity: y shows x plainly, so F(y) = x while F(true target) is far off — visible, not hidden."""
    x = _images()
    d = diagnose(_toy(_Identity(), _Identity()), x, reference=-x)
    assert not d.hides and d.visible and d.verdict.startswith("carries the source visibly")
    assert d.reference["l1_ratio"] > 100


def test_every_perturbation_is_small_and_reported() -> None:
    d = diagnose(_toy(_Negate(), _Negate()), _images())
    names = [r["perturbation"] for r in d.rows]
    assert names == ["clean"] + [p.name for p in PERTURBATIONS]
    for r in d.rows[1:]:
        assert r["intermediate_psnr_db"] > 25, r  # none is a large change of the intermediate image
    assert d.reference["kind"].startswith("round trip after noise")  # no reference: the noise bound


def test_blur_keeps_constants_and_smooths() -> None:
    flat = torch.full((1, 3, 9, 9), 0.3)
    assert torch.allclose(gaussian_blur(flat, 1.0), flat, atol=1e-6)
    spike = torch.zeros(1, 1, 9, 9)
    spike[0, 0, 4, 4] = 1
    out = gaussian_blur(spike, 1.0)
    assert out[0, 0, 4, 4] < 0.2 and out.sum().item() == pytest.approx(1.0, rel=1e-4)


def test_refusals() -> None:
    with pytest.raises(UsageError, match="translates one way only") as err:
        round_trip(ganzoo.build("toypair", seed=0))
    assert "\n" not in str(err.value)
    with pytest.raises(UsageError, match="give domain"):
        round_trip(ganzoo.build("toydomain", seed=0))
    with pytest.raises(UsageError, match="must go through another domain"):
        round_trip(ganzoo.build("toydomain", seed=0), domain="red", source_domain=0)
    with pytest.raises(UsageError, match="unknown domain 'pink'"):
        round_trip(ganzoo.build("toydomain", seed=0), domain="pink", source_domain="red")
    with pytest.raises(UsageError, match="drop --domain"):
        round_trip(ganzoo.build("toyunpair", seed=0), domain="red")
    with pytest.raises(UsageError, match="reference must hold the 6 target images"):
        diagnose(_toy(_Negate(), _Negate()), _images(), reference=_images(3))


def test_multi_domain_round_trip() -> None:
    model = ganzoo.build("toydomain", seed=0).eval()
    x = torch.rand(3, 1, 8, 8) * 2 - 1
    trip = round_trip(model, domain="blue", source_domain="red")
    assert trip.description == "red → blue → red"
    d = diagnose(model, x, domain="blue", source_domain="red")
    assert d.n_images == 3 and d.settings["domain"] == "blue"


def test_panel_and_report(tmp_path: Path) -> None:
    x = _images()
    d = diagnose(_toy(_Hide(), _Reveal()), x, reference=AMPLITUDE * x)
    panel = write_panel(d, tmp_path / "p.png", rows=4)
    im = Image.open(panel)
    assert im.size[1] > 4 * 16 and im.size[0] > 7 * 16  # 4 rows, 7 columns (with the reference)
    report = json.loads(write_report(d, tmp_path / "r.json", command="x").read_text())
    assert report["hides_information"] is True and report["command"] == "x"
    assert [r["perturbation"] for r in report["rows"]][:2] == ["clean", "png (8-bit)"]


@pytest.fixture
def cli(monkeypatch):
    """The ganzoo group, which registers `diagnose` among its lazily imported commands."""
    import importlib

    cli_main = importlib.import_module("ganzoo.cli.main")

    assert cli_main.LAZY_COMMANDS["diagnose"] == "ganzoo.cli.diagnose:diagnose"
    return cli_main.cli


def _folder(tmp_path: Path, name: str, images: torch.Tensor) -> Path:
    from ganzoo.data.images import save_image

    root = tmp_path / name
    root.mkdir()
    for i, im in enumerate(images):
        save_image(im, root / f"{i:02d}.png")
    return root


def test_cli(cli, tmp_path: Path) -> None:
    model = ganzoo.build("toyunpair", seed=0)
    folder = model.save_pretrained(tmp_path / "model")
    src = _folder(tmp_path, "in", _images(4, size=8))
    ref = _folder(tmp_path, "ref", -_images(4, size=8))
    res = CliRunner().invoke(cli, ["diagnose", str(folder), "--input", str(src), "--reference", str(ref),
                                   "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "noise σ=2/255" in res.output and "non-hiding reference (F(true target image))" in res.output
    report = json.loads((tmp_path / "out" / "diagnosis.json").read_text())
    assert report["n_images"] == 4 and report["inputs"] == str(src)
    assert (tmp_path / "out" / "diagnosis.png").is_file()
    res = CliRunner().invoke(cli, ["diagnose", str(folder), "--input", str(src), "-o", str(tmp_path / "d.png")])
    assert res.exit_code == 0 and (tmp_path / "d.png").is_file() and (tmp_path / "d.json").is_file()


def test_cli_refuses_one_way_models_and_bad_paths(cli, tmp_path: Path) -> None:
    folder = ganzoo.build("toypair", seed=0).save_pretrained(tmp_path / "pair")
    src = _folder(tmp_path, "in", _images(2, size=8))
    res = CliRunner().invoke(cli, ["diagnose", str(folder), "--input", str(src), "-o", str(tmp_path / "o")])
    assert res.exit_code == 1 and "translates one way only" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()
    unpair = ganzoo.build("toyunpair", seed=0).save_pretrained(tmp_path / "unpair")
    res = CliRunner().invoke(cli, ["diagnose", str(unpair), "--input", str(tmp_path / "nope"), "-o",
                                   str(tmp_path / "o")])
    assert res.exit_code == 1 and "No such input" in res.output
    res = CliRunner().invoke(cli, ["diagnose", str(unpair), "--input", str(src), "--reference", str(tmp_path),
                                   "-o", str(tmp_path / "o")])
    assert res.exit_code == 1 and "--reference" in res.output and "missing: 00.png" in res.output
    res = CliRunner().invoke(cli, ["diagnose", str(unpair), "--input", str(src), "-o", str(tmp_path / "o.txt")])
    assert res.exit_code == 1 and "give a folder or a .png path" in res.output
