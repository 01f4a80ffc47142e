"""Name resolution, config validation and card metadata: the error messages users meet first.

Core tests: toy plugins and fake distributions only (``GANZOO_DISABLE_PLUGINS='ganzoo-*'`` passes).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Literal

import pytest
import torch

import ganzoo
from ganzoo import names, registry
from ganzoo.cards import GanCardData, load_card, make_card, read_card_info, validate_metadata
from ganzoo.config import describe, from_dict, override, parse_value, to_dict
from ganzoo.errors import CardError, ConfigError, HubNameError, UnknownNameError, UnknownTagError, UsageError

# -- names ---------------------------------------------------------------------------------------------------

def test_hub_names_parse_with_and_without_revision() -> None:
    r = names.resolve("hf-hub:org/repo@v1.0")
    assert (r.kind, r.repo_id, r.revision) == ("hub", "org/repo", "v1.0")
    assert names.resolve("hf-hub:org/repo").revision is None


def test_bare_repo_id_is_refused_with_the_fix() -> None:
    with pytest.raises(HubNameError, match="hf-hub:someorg/somerepo"):
        names.resolve("someorg/somerepo")


def test_bad_hub_name() -> None:
    with pytest.raises(UsageError, match="hf-hub:<org>/<repo>"):
        names.resolve("hf-hub:not a repo")


def test_local_paths_resolve_to_folders(tmp_path, monkeypatch) -> None:
    assert names.resolve(str(tmp_path)).kind == "local"
    assert names.resolve("./nonexistent-folder").kind == "local"
    assert names.resolve("local-dir:anything").path == Path("anything")
    assert names.resolve("~/runs/x").path == Path.home() / "runs" / "x"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "org" / "repo").mkdir(parents=True)
    assert names.resolve("org/repo").kind == "local"  # an existing folder is a folder
    (tmp_path / "myrun").mkdir()
    assert names.resolve("myrun").kind == "local"  # no registry id by that name: the folder
    with pytest.raises(UsageError, match="local-dir:<path>"):
        names.resolve("local-dir:")


@pytest.mark.parametrize("revision", ["main", "v1.0", "release/2024", "refs/pr/1", "a" * 40, "my_branch-2"])
def test_ref_shaped_revisions_are_accepted(revision: str) -> None:
    assert names.check_revision(revision) == revision
    assert names.resolve(f"hf-hub:org/repo@{revision}").revision == revision


@pytest.mark.parametrize("revision", ["../../x", "..", "a/../b", "/abs", "x/", "a//b", ".hidden", "v1.lock",
                                      "a b", "a\\b", "x\n", "-rf", "a" * 300])
def test_revisions_that_could_become_paths_are_refused(revision: str) -> None:
    with pytest.raises(UsageError, match="not a branch, tag or commit name") as err:
        names.check_revision(revision)
    assert "\n" not in str(err.value)
    if revision == revision.strip():  # names are stripped of surrounding blanks first
        with pytest.raises(UsageError, match="not a branch, tag or commit name"):
            names.resolve(f"hf-hub:org/repo@{revision}")


def test_unknown_tag_lists_the_plugins_tags() -> None:
    with pytest.raises(UnknownTagError) as err:
        names.resolve("toygan-mnist")
    assert "has no pretrained model tagged 'mnist'" in str(err.value) and "ganzoo.build('toygan')" in str(err.value)


def test_unknown_name_suggests() -> None:
    with pytest.raises(UnknownNameError) as err:
        names.resolve("toygan_x")
    assert "toygan" in str(err.value)
    assert str(err.value).startswith("Unknown")  # no KeyError quoting


def _bundled_model(fake_site, tmp_path: Path) -> torch.Tensor:
    """A plugin 'shadow' whose distribution bundles the model shadow-demo; returns its samples."""
    from conftest import spec_module
    from ganzoo.folder import save_model_folder

    fake_site.add("fake-shadow", entry_points={"shadow": "fake_shadow:plugin"},
                  modules={"fake_shadow/__init__.py": spec_module("shadow", 'cards="fake_shadow:cards"')})
    model = ganzoo.build("shadow", seed=0)
    model.name = "shadow-demo"
    save_model_folder(model, fake_site.root / "fake_shadow" / "cards" / "shadow-demo")
    registry.refresh()
    return model.eval().sample(2, seed=0)


def test_a_folder_never_shadows_a_registry_id(fake_site, tmp_path, monkeypatch, caplog) -> None:
    """`ganzoo train … --out shadow-demo` then `load("shadow-demo")`: the registry model, and a warning naming
    the folder and how to load it; `./shadow-demo` and `local-dir:shadow-demo` load the folder."""
    monkeypatch.setattr(logging.getLogger("ganzoo"), "propagate", True)  # the CLI, run in-process, stops it
    bundled = _bundled_model(fake_site, tmp_path)
    monkeypatch.chdir(tmp_path)
    ganzoo.build("shadow", seed=1).save_pretrained("shadow-demo")  # the run folder of a training in the cwd
    local = ganzoo.load("./shadow-demo").sample(2, seed=0)
    assert not torch.equal(local, bundled)
    with caplog.at_level(logging.WARNING, logger="ganzoo.names"):
        assert torch.equal(ganzoo.load("shadow-demo").sample(2, seed=0), bundled)
        assert torch.equal(ganzoo.load("shadow").sample(2, seed=0), bundled)  # the plugin's only model
    warnings = [r.getMessage() for r in caplog.records if r.name == "ganzoo.names"]
    assert warnings and all("\n" not in w for w in warnings)
    assert "'shadow-demo' is the registry model shadow-demo" in warnings[0]
    assert "'./shadow-demo'" in warnings[0] and "'local-dir:shadow-demo'" in warnings[0]
    assert torch.equal(ganzoo.load("local-dir:shadow-demo").sample(2, seed=0), local)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ganzoo.names"):
        ganzoo.load("./shadow-demo")
        assert names.get_model("shadow-demo").id == "shadow-demo"  # asking the registry itself: no warning
    assert not [r for r in caplog.records if r.name == "ganzoo.names"]


def test_split_name_at_first_hyphen() -> None:
    assert names.split_name("cyclegan-horse2zebra") == ("cyclegan", "horse2zebra")
    assert names.split_name("pix2pix-facades-label2photo") == ("pix2pix", "facades-label2photo")
    assert names.split_name("toygan") == ("toygan", None)


# -- configs -------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Cfg:
    size: int = 32
    rate: float = 1e-3
    mode: Literal["a", "b"] = "a"
    dims: tuple[int, ...] = (1, 2)
    name: str | None = None
    flag: bool = False


def test_from_dict_names_unknown_keys_and_suggests() -> None:
    with pytest.raises(ConfigError, match=r"unknown field 'sise' \(did you mean size.*valid fields: size, rate"):
        from_dict(Cfg, {"sise": 3}, strict=False)


def test_from_dict_strict_names_missing_keys() -> None:
    with pytest.raises(ConfigError, match="missing fields rate, mode, dims, name, flag"):
        from_dict(Cfg, {"size": 3})


@pytest.mark.parametrize("key, value", [("size", "32"), ("size", 3.5), ("size", True), ("rate", "x"),
                                        ("mode", "c"), ("dims", [1, "a"]), ("flag", 1)])
def test_from_dict_checks_types(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=key):
        from_dict(Cfg, {key: value}, strict=False)


def test_override_parses_strings_and_drops_none() -> None:
    cfg = override(Cfg(), {"size": "64", "rate": "2e-4", "dims": "[3, 4]", "flag": "true", "name": None,
                           "mode": "b"})
    assert (cfg.size, cfg.rate, cfg.dims, cfg.flag, cfg.name, cfg.mode) == (64, 2e-4, (3, 4), True, None, "b")
    assert to_dict(cfg)["dims"] == [3, 4]
    assert parse_value("2e-4") == 2e-4 and parse_value("abc") == "abc"


def test_describe_lists_fields_with_defaults() -> None:
    fields = {f.name: f for f in describe(Cfg)}
    assert fields["size"].default == 32 and fields["mode"].type == "'a' | 'b'"


# -- cards ---------------------------------------------------------------------------------------------------

META = {"library_name": "ganzoo", "license": "mit", "ganzoo": {"plugin": "dcgan", "tag": "t"}}


@pytest.mark.parametrize("patch, field", [
    ({"library_name": "timm"}, "library_name"),
    ({"ganzoo": {"plugin": "Bad-Name", "tag": "t"}}, "ganzoo.plugin"),
    ({"ganzoo": {"plugin": "dcgan", "tag": "T T"}}, "ganzoo.tag"),
    ({"ganzoo": {"plugin": "dcgan", "tag": "t", "revision": "main", "repo_id": "o/r"}}, "ganzoo.revision"),
    ({"ganzoo": {"plugin": "dcgan", "tag": "t", "revision": "a" * 40}}, "ganzoo.revision"),
    ({"ganzoo": {"plugin": "dcgan", "tag": "t", "repo_id": "noslash"}}, "ganzoo.repo_id"),
    ({"ganzoo": {"plugin": "dcgan", "tag": "t", "sha256": {"G.safetensors": "xyz"}}}, "ganzoo.sha256.G.safetensors"),
    ({"ganzoo": {"plugin": "dcgan", "tag": "t", "sha256": {"G.bin": "a" * 64}}}, "ganzoo.sha256"),
    ({"ganzoo": {"plugin": "dcgan", "tag": "t", "metrics": [{"name": "kid", "value": 0.1}]}}, "ganzoo.metrics[0].protocol"),
    ({"ganzoo": {"plugin": "dcgan", "tag": "t", "metrics": [{"name": "kid", "value": 0.1,
                                                             "protocol": {"extractor": "x"}}]}}, "missing reference"),
    ({"ganzoo": {"plugin": "dcgan", "tag": "t", "parameters": -1}}, "ganzoo.parameters"),
])
def test_card_validation_names_the_field(patch: dict, field: str) -> None:
    with pytest.raises(CardError, match=field.replace("[", r"\[").replace("]", r"\]")) as err:
        validate_metadata({**META, **patch}, path="cards/x/README.md")
    assert "cards/x/README.md" in str(err.value)


def test_card_without_front_matter() -> None:
    with pytest.raises(CardError, match="no YAML front matter"):
        read_card_info("# just prose", path="p")


def test_card_data_is_validated_at_construction() -> None:
    with pytest.raises(CardError):
        GanCardData(ganzoo={"plugin": "dcgan", "tag": "t", "revision": "nope", "repo_id": "o/r"})


def test_rendered_card_round_trips_through_both_readers(tmp_path) -> None:
    """The template renders; PyYAML-only listing and huggingface_hub's ModelCard agree on the metadata."""
    spec = registry.get_plugin("toygan")
    block = {"repo_id": "o/r", "revision": "c" * 40, "sha256": {"G.safetensors": "d" * 64},
             "parameters": {"total": 10, "inference": 5},
             "metrics": [{"name": "kid", "value": 0.5, "protocol": {"extractor": "e", "reference": "r",
                                                                    "n_generated": 10, "seed": 0}}],
             "trained_with": {"command": "ganzoo train toygan …", "steps": 3}}
    card = make_card(plugin=spec, tag="demo", ganzoo=block, license="apache-2.0", datasets=["digits"])
    path = tmp_path / "README.md"
    card.save(path)
    info = read_card_info(path.read_text(), path=str(path))
    assert (info.plugin, info.tag, info.revision, info.parameters, info.dataset) == ("toygan", "demo", "c" * 40, 10,
                                                                                     "digits")
    loaded = load_card(path)
    assert loaded.data.ganzoo["sha256"] == {"G.safetensors": "d" * 64}
    text = path.read_text()
    assert "ganzoo train toygan" in text and "| kid | 0.5 |" in text
