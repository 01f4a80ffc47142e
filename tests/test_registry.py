"""Discovery through entry points: valid, broken, conflicting and blocked plugins; plugin-shipped cards."""

from __future__ import annotations

import pytest

import ganzoo
from conftest import spec_module
from ganzoo import names, registry
from ganzoo.errors import (
    PluginConflictError,
    PluginLoadError,
    PluginValidationError,
    UnknownNameError,
)
from ganzoo.plugin import Plugin

VALID = dict(name="x", task="unconditional", summary="s", paper="https://arxiv.org/abs/1",
             config="m:C", impl="m:I", components=("G", "D"))


def test_plugins_are_discovered_through_their_entry_points() -> None:
    """The toy plugins are found like any third-party one, with their distribution and version."""
    record = registry.get_record("toygan")
    assert record.distribution == "toyzoo"
    assert record.version == "0.1.0"
    assert record.plugin is not None and record.plugin.task == "unconditional"


@pytest.mark.parametrize("change, field", [
    ({"name": "cycle-gan"}, "name"),
    ({"name": "Cyc"}, "name"),
    ({"task": "denoising"}, "task"),
    ({"config": "no_colon"}, "config"),
    ({"impl": "m:"}, "impl"),
    ({"components": ()}, "components"),
    ({"components": ("G", "G")}, "duplicates"),
    ({"components": ("G", "bad name")}, "component"),
    ({"inference": ("X",)}, "inference"),
    ({"default_tag": "Bad Tag"}, "default_tag"),
    ({"summary": " "}, "summary"),
])
def test_spec_validation_names_the_field(change: dict, field: str) -> None:
    """Every contract violation is caught at construction, with the plugin and the field in the message."""
    with pytest.raises(PluginValidationError, match=field):
        Plugin(**{**VALID, **change})


def test_spec_defaults_inference_to_the_first_component() -> None:
    assert Plugin(**VALID).inference == ("G",)


def test_broken_plugin_is_reported_and_skipped(fake_site, capsys) -> None:
    """A plugin that raises on import is skipped; listing still works; doctor and load name the failure."""
    fake_site.add("fake-broken", entry_points={"brokengan": "fake_broken:plugin"},
                  modules={"fake_broken.py": "raise RuntimeError('boom at import')\n"})
    names = [r.name for r in ganzoo.list_plugins()]
    assert "toygan" in names and "brokengan" not in names
    problems = registry.problems()
    assert any(p.name == "brokengan" and "boom at import" in p.message for p in problems)
    with pytest.raises(PluginLoadError, match="boom at import"):
        ganzoo.build("brokengan")


def test_spec_of_the_wrong_type_or_name_is_rejected(fake_site) -> None:
    fake_site.add("fake-wrongtype", entry_points={"wrongtype": "fake_wrongtype:plugin",
                                                  "misnamed": "fake_misnamed:plugin"},
                  modules={"fake_wrongtype.py": "plugin = {'name': 'wrongtype'}\n",
                           "fake_misnamed.py": spec_module("othername")})
    messages = {p.name: p.message for p in registry.problems()}
    assert "not a ganzoo.Plugin" in messages["wrongtype"]
    assert "spec says name='othername'" in messages["misnamed"]


def test_two_distributions_with_one_name_conflict(fake_site) -> None:
    """Neither provider wins: list marks the conflict, build/load refuse it naming both, doctor reports it."""
    fake_site.add("fake-one", entry_points={"twin": "fake_one:plugin"}, modules={"fake_one.py": spec_module("twin")})
    fake_site.add("fake-two", entry_points={"twin": "fake_two:plugin"}, modules={"fake_two.py": spec_module("twin")})
    assert "twin" in registry.conflicts()
    assert "twin" not in [r.name for r in ganzoo.list_plugins()]
    with pytest.raises(PluginConflictError) as err:
        ganzoo.build("twin")
    assert "fake-one" in str(err.value) and "fake-two" in str(err.value)
    assert "GANZOO_DISABLE_PLUGINS" in str(err.value)


def test_disable_plugins_resolves_a_conflict(fake_site, monkeypatch) -> None:
    fake_site.add("fake-one", entry_points={"twin": "fake_one:plugin"}, modules={"fake_one.py": spec_module("twin")})
    fake_site.add("fake-two", entry_points={"twin": "fake_two:plugin"}, modules={"fake_two.py": spec_module("twin")})
    monkeypatch.setenv("GANZOO_DISABLE_PLUGINS", "fake-two")
    registry.refresh()
    assert registry.get_record("twin").distribution == "fake-one"


def test_unknown_plugin_suggests_close_names() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean: toygan"):
        registry.get_plugin("toygn")


CARD = """---
library_name: ganzoo
license: apache-2.0
ganzoo:
  plugin: {plugin}
  tag: {tag}
  repo_id: {repo}
  revision: {rev}
---
# a card
"""


def test_plugin_shipped_cards_are_listed(fake_site) -> None:
    """A plugin's own cards folder adds pretrained models; a malformed card there is reported and skipped."""
    fake_site.add("fake-carded", entry_points={"carded": "fake_carded:plugin"},
                  modules={"fake_carded/__init__.py": spec_module("carded", 'cards="fake_carded:cards"')},
                  files={"fake_carded/cards/carded-good/README.md": CARD.format(plugin="carded", tag="good", repo="o/r",
                                                                                 rev="a" * 40),
                         "fake_carded/cards/carded-bad/README.md": CARD.format(plugin="carded", tag="bad", repo="o/r",
                                                                                rev="not-a-sha"),
                         "fake_carded/cards/carded-broken/README.md": "---\nlibrary_name: [unclosed\n---\n",
                         "fake_carded/cards/carded-wrongname/README.md": CARD.format(plugin="carded", tag="other",
                                                                                      repo="o/r", rev="b" * 40)})
    ids = [m.id for m in ganzoo.list_models()]
    assert "carded-good" in ids
    assert not {"carded-bad", "carded-broken", "carded-wrongname"} & set(ids)
    msgs = [p.message for p in registry.problems() if p.kind == "card"]
    assert any("carded-bad" in m and "ganzoo.revision" in m for m in msgs)
    assert any("carded-broken" in m and "not valid YAML" in m for m in msgs)
    assert any("carded-wrongname" in m and "must agree" in m for m in msgs)
    entry = names.get_model("carded-good")
    assert entry.provider == "fake-carded" and not entry.bundled
    assert names.resolve("carded").entry is entry  # one model: the bare plugin name means it


# ---------------------------------------------------------------------------------------------------------
# the card cache


def _carded_site(fake_site, n: int = 3) -> list:
    """A plugin shipping ``n`` valid cards, all an hour old (older than the cache's two-second racy window)."""
    import os
    import time

    files = {f"fake_cached/cards/cached-t{i}/README.md": CARD.format(plugin="cached", tag=f"t{i}", repo="o/r",
                                                                      rev="abcdef"[i] * 40) for i in range(n)}
    fake_site.add("fake-cached", entry_points={"cached": "fake_cached:plugin"},
                  modules={"fake_cached/__init__.py": spec_module("cached", 'cards="fake_cached:cards"')}, files=files)
    readmes = [fake_site.root / f for f in files]
    past = time.time() - 3600
    for p in readmes:
        os.utime(p, (past, past))
    return readmes


def _cache_files(root) -> list:
    return sorted((root / "cards").glob("*.json"))


def test_card_cache_is_reused_and_follows_edits(fake_site, tmp_path, monkeypatch) -> None:
    """A warm cache answers without parsing YAML; an edited card is parsed again; metadata is read on demand."""
    import os

    from ganzoo import cards

    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    readmes = _carded_site(fake_site)
    first = {m.id: m for m in ganzoo.list_models("cached-*")}
    assert sorted(first) == ["cached-t0", "cached-t1", "cached-t2"]
    assert len(_cache_files(tmp_path / "cache")) >= 1

    parsed: list[str] = []
    real = cards._parse_yaml
    monkeypatch.setattr(cards, "_parse_yaml", lambda text, path: parsed.append(path) or real(text, path))
    registry.refresh()
    warm = {m.id: m for m in ganzoo.list_models("cached-*")}
    assert parsed == []  # every card came from the cache
    assert warm["cached-t1"].card.revision == "b" * 40 and warm["cached-t1"].card.repo_id == "o/r"
    assert warm["cached-t1"].card.metadata["ganzoo"]["tag"] == "t1"  # read from the card on first access
    assert len(parsed) == 1 and "cached-t1" in parsed[0]

    # an edit (new mtime) is seen; the other cards still come from the cache
    parsed.clear()
    text = readmes[2].read_text().replace("repo_id: o/r", "repo_id: other/repo")
    readmes[2].write_text(text)
    st = os.stat(readmes[0])
    os.utime(readmes[2], ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    registry.refresh()
    edited = {m.id: m for m in ganzoo.list_models("cached-*")}
    assert edited["cached-t2"].card.repo_id == "other/repo"
    assert len(parsed) == 1 and "cached-t2" in parsed[0]

    # a removed card disappears
    import shutil

    shutil.rmtree(readmes[0].parent)
    registry.refresh()
    assert sorted(m.id for m in ganzoo.list_models("cached-*")) == ["cached-t1", "cached-t2"]


def test_card_cache_skips_fresh_and_malformed_cards(fake_site, tmp_path, monkeypatch) -> None:
    """Malformed cards are reported on every scan (never cached); a card written seconds ago is not cached yet."""
    import json
    import os
    import time

    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    readmes = _carded_site(fake_site, n=2)
    broken = readmes[0].parent.parent / "cached-broken" / "README.md"
    broken.parent.mkdir()
    broken.write_text("---\nlibrary_name: [unclosed\n---\n")
    past = time.time() - 3600
    os.utime(broken, (past, past))
    now = time.time()
    os.utime(readmes[1], (now, now))  # just written: inside the racy window
    for _ in range(2):
        registry.refresh()
        assert sorted(m.id for m in ganzoo.list_models("cached-*")) == ["cached-t0", "cached-t1"]
        assert any("cached-broken" in p.message and "not valid YAML" in p.message for p in registry.problems())
    stored = [json.loads(f.read_text()) for f in _cache_files(tmp_path / "cache")]
    names = {n for s in stored for n in s["cards"]}
    assert "cached-t0" in names and "cached-t1" not in names and "cached-broken" not in names


def test_corrupt_or_unwritable_card_cache_is_ignored(fake_site, tmp_path, monkeypatch) -> None:
    """A corrupt cache file is ignored and rewritten; a cache folder that cannot be created is no error."""
    import json

    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    _carded_site(fake_site, n=2)
    ganzoo.list_models()
    files = _cache_files(tmp_path / "cache")
    assert files
    for f in files:
        f.write_text('{"root": 1, "cards": [')  # truncated JSON
    registry.refresh()
    assert sorted(m.id for m in ganzoo.list_models("cached-*")) == ["cached-t0", "cached-t1"]
    assert all(isinstance(json.loads(f.read_text())["cards"], dict) for f in files)
    for f in files:  # valid JSON of the wrong shape
        f.write_text(json.dumps({"root": "x", "validator": [], "cards": {"cached-t0": "nonsense"}}))
    registry.refresh()
    assert sorted(m.id for m in ganzoo.list_models("cached-*")) == ["cached-t0", "cached-t1"]

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("GANZOO_CACHE", str(blocker))
    registry.refresh()
    assert sorted(m.id for m in ganzoo.list_models("cached-*")) == ["cached-t0", "cached-t1"]


def test_cached_entries_equal_parsed_ones(fake_site, tmp_path, monkeypatch) -> None:
    """What the cache gives back is what parsing gives: every listing field, the bundled flag, the metadata."""
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    _carded_site(fake_site, n=2)
    parsed = {m.id: m for m in ganzoo.list_models()}
    registry.refresh()
    cached = {m.id: m for m in ganzoo.list_models()}
    assert parsed.keys() == cached.keys()
    for mid, entry in parsed.items():
        assert cached[mid].card == entry.card and cached[mid].bundled == entry.bundled
        assert cached[mid].card.metadata == entry.card.metadata and cached[mid].card.metrics == entry.card.metrics
