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


def test_a_plugin_is_discovered_through_its_entry_point() -> None:
    """A plugin is found through its distribution's entry point, with the distribution and version."""
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
