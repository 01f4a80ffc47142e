"""Hub push/pull with the real huggingface_hub client against the project's local Hub server (no mocks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo import names, registry
from ganzoo.errors import (
    HubUnreachableError,
    IntegrityError,
    ModelFolderError,
    RepoNotFoundError,
    RevisionNotFoundError,
    UsageError,
    WeightsUnavailableError,
)
from ganzoo.hub import push_folder, write_pinned_card

TINY = dict(image_size=16, channels=1, nz=8, ngf=8, ndf=8)
_counter = iter(range(10_000))


def _repo() -> str:
    return f"ganzoo-tests/dcgan-{next(_counter)}"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return ganzoo.build("dcgan", seed=0, **TINY).save_pretrained(tmp_path / "model")


def _files_requested(hub) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] for r in hub.requests if "/resolve/" in r.path]


def test_push_then_load_by_hub_name(hub, hf_cache, folder: Path) -> None:
    """push uploads exactly the card, config.json and the components; hf-hub: loads identical weights."""
    repo = _repo()
    result = ganzoo.push_to_hub(folder, repo)
    assert len(result.commit) == 40
    files = sorted(f for f in hub.list_files(repo) if f != ".gitattributes")  # the Hub adds .gitattributes
    assert files == ["D.safetensors", "G.safetensors", "README.md", "config.json"]
    card = hub.read_file(repo, "README.md").decode()
    assert f"repo_id: {repo}" in card
    model = ganzoo.load(f"hf-hub:{repo}")
    assert torch.equal(model.sample(3, seed=1), ganzoo.load(str(folder)).sample(3, seed=1))
    assert model.card is not None and model.card.data.ganzoo["repo_id"] == repo


def test_info_of_a_hub_model_fetches_only_the_card(hub, hf_cache, folder: Path) -> None:
    """`ganzoo info hf-hub:…` renders the pushed card (repo pinned in it) and downloads no weights."""
    from click.testing import CliRunner

    from ganzoo.cli import cli

    repo = _repo()
    sha = push_folder(folder, repo).commit
    hub.clear_requests()
    result = CliRunner().invoke(cli, ["info", f"hf-hub:{repo}@{sha}"])
    assert result.exit_code == 0, result.output
    assert f"status:      on the Hub: {repo} @ {sha}" in result.output  # the snapshot's commit
    assert "plugin:      dcgan" in result.output and "library_name" not in result.output
    assert not any(f.endswith(".safetensors") for f in _files_requested(hub))
    raw = CliRunner().invoke(cli, ["info", f"hf-hub:{repo}@{sha}", "--raw"])
    assert raw.exit_code == 0 and f"repo_id: {repo}" in raw.output


def test_load_fetches_only_inference_components(hub, hf_cache, folder: Path) -> None:
    repo = _repo()
    push_folder(folder, repo)
    hub.clear_requests()
    ganzoo.load(f"hf-hub:{repo}")
    fetched = _files_requested(hub)
    assert "G.safetensors" in fetched and "D.safetensors" not in fetched


def test_pinned_revision_makes_no_request_when_cached(hub, hf_cache, folder: Path) -> None:
    repo = _repo()
    sha = push_folder(folder, repo).commit
    ganzoo.load(f"hf-hub:{repo}@{sha}")
    hub.clear_requests()
    ganzoo.load(f"hf-hub:{repo}@{sha}")
    assert hub.requests == []


def test_offline_loads_from_cache_and_says_so_when_it_cannot(hub, hf_cache, folder: Path, monkeypatch) -> None:
    from huggingface_hub import constants

    repo = _repo()
    push_folder(folder, repo)
    ganzoo.load(f"hf-hub:{repo}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    hub.clear_requests()
    ganzoo.load(f"hf-hub:{repo}")  # main is resolved from the cached ref
    assert hub.requests == []
    with pytest.raises(WeightsUnavailableError, match="HF_HUB_OFFLINE is set and .* is not in the cache"):
        ganzoo.load("hf-hub:ganzoo-tests/never-downloaded")


def test_unreachable_hub_with_nothing_cached(hub, hf_cache, folder: Path) -> None:
    repo = _repo()
    push_folder(folder, repo)
    hub.offline = True  # every request answered 511: a Hub outage, without the client's retries
    try:
        with pytest.raises(WeightsUnavailableError, match="cannot be reached and .* is not in the cache"):
            ganzoo.load(f"hf-hub:{repo}")
    finally:
        hub.offline = False
    hub.offline_mode, hub.offline = "refuse", True  # connection refused, as with no network at all
    try:
        with pytest.raises(HubUnreachableError, match="cannot be reached"):
            push_folder(folder, _repo())
    finally:
        hub.offline, hub.offline_mode = False, "error"


def test_repo_and_revision_not_found(hub, hf_cache, folder: Path) -> None:
    with pytest.raises(RepoNotFoundError, match="was not found"):
        ganzoo.load("hf-hub:ganzoo-tests/does-not-exist")
    repo = _repo()
    push_folder(folder, repo)
    with pytest.raises(RevisionNotFoundError, match="has no revision 'v9'"):
        ganzoo.load(f"hf-hub:{repo}@v9")


def test_repo_without_ganzoo_config(hub, hf_cache) -> None:
    repo = _repo()
    hub.create_repo(repo)
    hub.commit_files(repo, {"README.md": b"# not a model\n"})
    with pytest.raises(ModelFolderError, match="is not a ganzoo model"):
        ganzoo.load(f"hf-hub:{repo}")


def test_tampered_file_on_the_hub_is_refused(hub, hf_cache, folder: Path) -> None:
    """The Hub serves whatever bytes it has; config.json's sha256 decides."""
    repo = _repo()
    push_folder(folder, repo)
    good = (folder / "G.safetensors").read_bytes()
    hub.commit_files(repo, {"G.safetensors": good[:-8] + b"\x00" * 8})
    with pytest.raises(IntegrityError, match="does not match config.json"):
        ganzoo.load(f"hf-hub:{repo}")


def test_push_refuses_a_corrupt_folder(hub, hf_cache, folder: Path) -> None:
    (folder / "G.safetensors").write_bytes(b"garbage")
    repo = _repo()
    with pytest.raises(IntegrityError):
        push_folder(folder, repo)
    assert not hub.repo_exists(repo)


def test_push_never_uploads_checkpoints(hub, hf_cache, folder: Path) -> None:
    (folder / "checkpoints" / "step-00000001").mkdir(parents=True)
    (folder / "checkpoints" / "step-00000001" / "state.pt").write_bytes(b"x")
    (folder / "notes.txt").write_text("local")
    repo = _repo()
    push_folder(folder, repo)
    assert not any(f.startswith("checkpoints") or f == "notes.txt" for f in hub.list_files(repo))


def test_push_bad_repo_id(folder: Path) -> None:
    with pytest.raises(UsageError, match="not a Hub repo id"):
        push_folder(folder, "no-slash")


def test_pinned_registry_card(hub, hf_cache, folder: Path, fake_site) -> None:
    """The maintainer procedure: push → pin card; load('<plugin>-<tag>') fetches the pinned bytes; pull prefetches."""
    from conftest import spec_module

    repo = _repo()
    # the card folder a plugin ships (cards="fake_pinned:cards"), written by write_pinned_card
    fake_site.add("fake-pinned", entry_points={"pinned": "fake_pinned:plugin"},
                  modules={"fake_pinned/__init__.py": spec_module("pinned", 'cards="fake_pinned:cards"')})
    # a model of plugin "pinned" (it reuses DCGAN's implementation)
    from ganzoo.hub import save_model_folder

    model = ganzoo.build("pinned", seed=0)
    model.name = "pinned-demo"
    src = save_model_folder(model, folder.parent / "pinned-src")
    commit = push_folder(src, repo).commit
    card_dir = fake_site.root / "fake_pinned" / "cards" / "pinned-demo"
    write_pinned_card(src, card_dir, repo_id=repo, revision=commit)
    registry.refresh()
    entry = names.get_model("pinned-demo")
    assert entry.card.revision == commit and "config.json" in entry.card.sha256
    loaded = ganzoo.load("pinned-demo")
    assert torch.equal(loaded.sample(2, seed=0), model.eval().sample(2, seed=0))
    # pull, then load offline with no request at all
    assert ganzoo.pull("pinned-demo")[0].name == commit
    hub.clear_requests()
    ganzoo.load("pinned-demo")
    assert hub.requests == []
    # a later push cannot change what the card loads
    other = save_model_folder(ganzoo.build("pinned", seed=9), folder.parent / "other")
    push_folder(other, repo)
    again = ganzoo.load("pinned-demo")
    assert torch.equal(again.sample(2, seed=0), loaded.sample(2, seed=0))


def test_card_pins_that_disagree_are_refused(hub, hf_cache, folder: Path, fake_site) -> None:
    from conftest import spec_module

    from ganzoo.hub import save_model_folder

    repo = _repo()
    fake_site.add("fake-pins", entry_points={"pins": "fake_pins:plugin"},
                  modules={"fake_pins/__init__.py": spec_module("pins", 'cards="fake_pins:cards"')})
    model = ganzoo.build("pins", seed=0)
    model.name = "pins-x"
    src = save_model_folder(model, folder.parent / "pins-src")
    commit = push_folder(src, repo).commit
    card_path = write_pinned_card(src, fake_site.root / "fake_pins" / "cards" / "pins-x", repo_id=repo, revision=commit)
    text = card_path.read_text()
    g_sha = json.loads((src / "config.json").read_text())["components"]["G"]["sha256"]
    card_path.write_text(text.replace(g_sha, "f" * 64))
    registry.refresh()
    with pytest.raises(IntegrityError, match="card pins"):
        ganzoo.load("pins-x")


def test_unpublished_card_says_so(fake_site) -> None:
    from conftest import spec_module

    card = "---\nlibrary_name: ganzoo\nganzoo:\n  plugin: unpub\n  tag: x\n  repo_id: o/r\n---\n"
    fake_site.add("fake-unpub", entry_points={"unpub": "fake_unpub:plugin"},
                  modules={"fake_unpub/__init__.py": spec_module("unpub", 'cards="fake_unpub:cards"')},
                  files={"fake_unpub/cards/unpub-x/README.md": card})
    with pytest.raises(WeightsUnavailableError, match="not published yet"):
        ganzoo.load("unpub-x")


def test_direction_fetches_only_that_generator(hub, hf_cache, tmp_path: Path) -> None:
    """A two-way CycleGAN sampled BtoA downloads G_BA only (the plugin's inference_components hook)."""
    from ganzoo import registry as reg

    spec = reg.get_plugin("cyclegan")
    model = ganzoo.build("cyclegan", seed=0, **dict(spec.tiny_config))
    folder = model.save_pretrained(tmp_path / "cg")
    repo = _repo()
    push_folder(folder, repo)
    hub.clear_requests()
    loaded = ganzoo.load(f"hf-hub:{repo}", options={"direction": "BtoA"})
    assert set(loaded.loaded_components) == {"G_BA"}
    fetched = _files_requested(hub)
    assert "G_BA.safetensors" in fetched and "G_AB.safetensors" not in fetched
    with pytest.raises(UsageError):
        ganzoo.load(str(folder), options={"direction": "sideways"})
