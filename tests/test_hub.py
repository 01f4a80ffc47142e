"""Hub push/pull with the real huggingface_hub client against the project's local Hub server (no mocks).

Faults (a hung Hub, hostile headers, hostile revisions) are injected by the server itself (``LocalHub.fault``), so
what is tested is ganzoo plus the real client. Core tests: toy plugins only.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo import names, registry
from ganzoo.errors import (
    HubError,
    HubUnreachableError,
    IntegrityError,
    ModelFolderError,
    RepoNotFoundError,
    RevisionNotFoundError,
    UsageError,
    WeightsUnavailableError,
)
from ganzoo.folder import save_model_folder
from ganzoo.publish import push_folder, write_pinned_card
from ganzoo.testing import raises_one_line

_counter = iter(range(10_000))


def _repo() -> str:
    return f"ganzoo-tests/toygan-{next(_counter)}"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return ganzoo.build("toygan", seed=0).save_pretrained(tmp_path / "model")


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
    assert "plugin:      toygan" in result.output and "library_name" not in result.output
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
    # a model of plugin "pinned" (it reuses the toy GAN's implementation)
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
    """A two-way translator sampled BtoA downloads G_BA only (the plugin's inference_components hook)."""
    model = ganzoo.build("toyunpair", seed=0)
    folder = model.save_pretrained(tmp_path / "cg")
    repo = _repo()
    push_folder(folder, repo)
    hub.clear_requests()
    loaded = ganzoo.load(f"hf-hub:{repo}", options={"direction": "BtoA"})
    assert set(loaded.loaded_components) == {"G_BA"}
    fetched = _files_requested(hub)
    assert "G_BA.safetensors" in fetched and "G_AB.safetensors" not in fetched


# -- published cards -------------------------------------------------------------------------------------------


def test_pushed_card_loads_from_the_hub_and_holds_no_local_path(hub, hf_cache, tmp_path: Path) -> None:
    """A run folder's card says `ganzoo.load("<its path>")` and records `--data/--out` paths: the pushed card
    loads `hf-hub:<repo>` instead, shows only the last part of each path, and has no `revision: null`."""
    from ganzoo.cards import make_card
    from ganzoo.registry import get_plugin

    out, data = tmp_path / "runs" / "toy-run", tmp_path / "data" / "faces"
    command = f"ganzoo train toygan --data {data} --out {out} --max-steps 2"
    card = make_card(plugin=get_plugin("toygan"), tag="run", load_name=str(out),
                     ganzoo={"trained_with": {"command": command, "data": str(data), "steps": 2}})
    folder = save_model_folder(ganzoo.build("toygan", seed=0), out, card=card)
    assert str(out) in (folder / "README.md").read_text()  # the local card keeps its local names
    repo = _repo()
    push_folder(folder, repo)
    pushed = hub.read_file(repo, "README.md").decode()
    assert str(tmp_path) not in pushed
    assert f'ganzoo.load("hf-hub:{repo}")' in pushed and f"ganzoo sample hf-hub:{repo}" in pushed
    assert "ganzoo train toygan --data faces --out toy-run --max-steps 2" in pushed
    assert f"repo_id: {repo}" in pushed and "revision:" not in pushed
    loaded = ganzoo.load(f"hf-hub:{repo}")
    assert loaded.card.data.ganzoo["trained_with"]["data"] == "faces"
    assert (folder / "README.md").read_text().count(str(out)) >= 1  # pushing never rewrites the local folder


def test_pinned_card_uses_the_registry_id(hub, hf_cache, tmp_path: Path) -> None:
    from ganzoo.cards import make_card
    from ganzoo.registry import get_plugin

    out = tmp_path / "runs" / "toy-run"
    card = make_card(plugin=get_plugin("toygan"), tag="demo", load_name=str(out), ganzoo={})
    folder = save_model_folder(ganzoo.build("toygan", seed=0), out, card=card)
    commit = push_folder(folder, (repo := _repo())).commit
    text = write_pinned_card(folder, tmp_path / "cards" / "toygan-demo", repo_id=repo, revision=commit).read_text()
    assert 'ganzoo.load("toygan-demo")' in text and str(tmp_path) not in text and f"revision: {commit}" in text


# -- what a hostile or broken Hub can and cannot do --------------------------------------------------------------


@pytest.mark.parametrize("revision", ["../../x", "..", "main/../../x", "a b", "v1.lock", "-x", "x/", "a\\\\b"])
def test_revisions_that_are_no_ref_names_are_refused_before_any_request(hub, hf_cache, revision: str) -> None:
    """The client builds cache paths from the revision (refs/<revision>): only ref- and commit-shaped ones pass."""
    hub.clear_requests()
    raises_one_line(UsageError, ganzoo.load, f"hf-hub:org/repo@{revision}", match="not a branch, tag or commit name")
    with pytest.raises(UsageError):
        ganzoo.hub.download_model("org/repo", revision)
    assert hub.requests == []


def test_tags_branches_and_commits_are_revisions(hub, hf_cache, folder: Path) -> None:
    from huggingface_hub import HfApi

    repo = _repo()
    commit = push_folder(folder, repo).commit
    api = HfApi(endpoint=hub.url)
    api.create_tag(repo, tag="v1.0")
    api.create_branch(repo, branch="release/2024")
    expected = ganzoo.load(str(folder)).sample(2, seed=0)
    for rev in ("v1.0", "release/2024", commit, "main"):
        assert torch.equal(ganzoo.load(f"hf-hub:{repo}@{rev}").sample(2, seed=0), expected)


def _escaped(root: Path) -> list[Path]:
    return [p for p in root.rglob("*ganzoo-escaped*")]


@pytest.mark.parametrize("fault, header", [("unsafe-etag", "ETag"), ("unsafe-commit", "commit")])
def test_hostile_headers_never_become_paths(hub, hf_cache, folder: Path, tmp_path: Path, fault, header) -> None:
    """An endpoint answering `../../…` where the client expects a hash: refused in one line, nothing is written
    outside the cache, and the cache holds nothing from it."""
    repo = _repo()
    push_folder(folder, repo)
    with hub.inject(fault):
        msg = raises_one_line(HubError, ganzoo.load, f"hf-hub:{repo}", match=f"answered the {header} .*refusing it")
        with pytest.raises(HubError, match="refusing it"):
            ganzoo.pull(f"hf-hub:{repo}")
    assert hub.url in msg and "HF_ENDPOINT" in msg
    assert _escaped(tmp_path.parent) == []
    assert not [p for p in hf_cache.rglob("*") if p.is_file() and p.parent.name == "blobs"]
    assert torch.equal(ganzoo.load(f"hf-hub:{repo}").sample(2, seed=0),  # the honest Hub again: fine
                       ganzoo.load(str(folder)).sample(2, seed=0))


def test_a_hung_hub_fails_in_bounded_time(hub, hf_cache, folder: Path, monkeypatch) -> None:
    """A Hub that accepts connections and never answers: one line after GANZOO_HUB_TIMEOUT seconds, naming the
    endpoint and the variable (the client alone retries for ~6.5 min whatever HF_HUB_ETAG_TIMEOUT says)."""
    repo = _repo()
    sha = push_folder(folder, repo).commit
    ganzoo.load(f"hf-hub:{repo}@{sha}")  # cached at a pinned commit
    monkeypatch.setenv("GANZOO_HUB_TIMEOUT", "1")
    with hub.inject("hang"):
        start = time.monotonic()
        msg = raises_one_line(HubUnreachableError, ganzoo.load, f"hf-hub:{repo}", match="has not answered for 1 s")
        took = time.monotonic() - start
        assert hub.url in msg and "GANZOO_HUB_TIMEOUT" in msg
        assert took < 8, f"gave up after {took:.1f} s"
        start = time.monotonic()
        with pytest.raises(HubUnreachableError, match="GANZOO_HUB_TIMEOUT"):
            push_folder(folder, _repo())
        assert time.monotonic() - start < 8
        hub.clear_requests()
        ganzoo.load(f"hf-hub:{repo}@{sha}")  # a cached pinned commit needs no answer at all
        assert hub.requests == []


def test_hub_timeout_setting(monkeypatch) -> None:
    from huggingface_hub import constants

    from ganzoo.hubio import hub_timeout

    monkeypatch.delenv("GANZOO_HUB_TIMEOUT", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_ETAG_TIMEOUT", 2)
    assert hub_timeout() == 6.0  # three etag timeouts by default
    monkeypatch.setenv("GANZOO_HUB_TIMEOUT", "45")
    assert hub_timeout() == 45.0
    for bad in ("0", "-1", "soon"):
        monkeypatch.setenv("GANZOO_HUB_TIMEOUT", bad)
        raises_one_line(UsageError, hub_timeout, match="GANZOO_HUB_TIMEOUT must be a positive number")


def test_an_oversized_config_on_the_hub_is_refused_before_downloading_weights(hub, hf_cache, folder: Path) -> None:
    """The plan is made from config.json alone: networks its weights cannot hold stop the load before any weight
    file is fetched (so a hostile repo cannot make the client download or allocate gigabytes)."""
    repo = _repo()
    cfg = json.loads((folder / "config.json").read_text())
    cfg["config"]["hidden"] = 100_000
    hub.commit_files(repo, {"config.json": json.dumps(cfg).encode(),
                            "G.safetensors": (folder / "G.safetensors").read_bytes(),
                            "D.safetensors": (folder / "D.safetensors").read_bytes()})
    hub.clear_requests()
    with pytest.raises(ganzoo.WeightsError, match="cannot hold"):
        ganzoo.load(f"hf-hub:{repo}")
    assert _files_requested(hub) == ["config.json", "config.json"]  # HEAD + GET, no weights


def test_nothing_is_written_outside_the_cache_by_a_load(hub, hf_cache, folder: Path, tmp_path: Path) -> None:
    repo = _repo()
    push_folder(folder, repo)
    before = {p for p in tmp_path.rglob("*") if not p.is_relative_to(hf_cache)}
    ganzoo.load(f"hf-hub:{repo}")
    ganzoo.pull(f"hf-hub:{repo}")
    after = {p for p in tmp_path.rglob("*") if not p.is_relative_to(hf_cache)}
    assert after == before
    assert os.listdir(hf_cache)
    assert all(p.name.startswith(("models--", ".locks", "CACHEDIR")) for p in hf_cache.iterdir())


def test_one_load_plans_once(hub, hf_cache, folder: Path, monkeypatch) -> None:
    """The plan made from config.json before the weights are fetched is the one that builds the model."""
    import ganzoo.hubio
    import ganzoo.loading

    calls: list[str] = []
    real = ganzoo.loading.plan_load

    def counting(data, **kwargs):
        calls.append(kwargs["where"])
        return real(data, **kwargs)

    monkeypatch.setattr(ganzoo.loading, "plan_load", counting)
    monkeypatch.setattr(ganzoo.hubio, "plan_load", counting)
    repo = _repo()
    push_folder(folder, repo)
    ganzoo.load(f"hf-hub:{repo}")
    assert len(calls) == 1 and calls[0].startswith(f"hf-hub:{repo}@")
    ganzoo.load(str(folder))
    assert len(calls) == 2
