"""Model folders: strict, verified, safetensors-only loading; atomic writes; every refusal is one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo.errors import ConfigError, IntegrityError, ModelFolderError, UsageError, WeightsError
from ganzoo.hub import atomic_write, sha256_file

TINY = dict(image_size=16, channels=1, nz=8, ngf=8, ndf=8)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    model = ganzoo.build("dcgan", seed=0, **TINY)
    return model.save_pretrained(tmp_path / "m")


def _rehash(folder: Path, comp: str = "G") -> None:
    """Make config.json vouch for the current bytes of a component (to reach the checks behind the hash)."""
    cfg = json.loads((folder / "config.json").read_text())
    f = folder / cfg["components"][comp]["file"]
    cfg["components"][comp].update(sha256=sha256_file(f), size=f.stat().st_size)
    (folder / "config.json").write_text(json.dumps(cfg))


def test_folder_layout_and_round_trip(folder: Path) -> None:
    """README.md + config.json + one safetensors per component; loading gives identical samples in eval mode."""
    assert sorted(p.name for p in folder.iterdir()) == ["D.safetensors", "G.safetensors", "README.md", "config.json"]
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["plugin"] == "dcgan" and cfg["plugin_version"] and cfg["config"]["ngf"] == 8
    assert set(cfg["components"]) == {"G", "D"}
    model = ganzoo.build("dcgan", seed=0, **TINY).eval()
    loaded = ganzoo.load(str(folder))
    assert not loaded.training and loaded.card is not None
    assert torch.equal(model.sample(4, seed=3), loaded.sample(4, seed=3))
    assert loaded.loaded_components == {"G": "G"}  # only the inference network by default


def test_same_weights_give_the_same_bytes(tmp_path: Path) -> None:
    """safetensors headers are canonical: saving twice gives identical hashes."""
    a = ganzoo.build("dcgan", seed=0, **TINY).save_pretrained(tmp_path / "a")
    b = ganzoo.build("dcgan", seed=0, **TINY).save_pretrained(tmp_path / "b")
    assert sha256_file(a / "G.safetensors") == sha256_file(b / "G.safetensors")


def test_missing_weights_file(folder: Path) -> None:
    (folder / "G.safetensors").unlink()
    with pytest.raises(ModelFolderError, match="missing G.safetensors"):
        ganzoo.load(str(folder))


def test_hash_mismatch_is_refused(folder: Path) -> None:
    data = bytearray((folder / "G.safetensors").read_bytes())
    data[-1] ^= 0xFF  # same size, one bit pattern changed
    (folder / "G.safetensors").write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="sha256 .* does not match config.json"):
        ganzoo.load(str(folder))


def test_truncated_file_is_refused(folder: Path) -> None:
    data = (folder / "G.safetensors").read_bytes()
    (folder / "G.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(IntegrityError, match="truncated or replaced"):
        ganzoo.load(str(folder))


def test_corrupt_safetensors_is_refused_even_with_a_matching_hash(folder: Path) -> None:
    (folder / "G.safetensors").write_bytes(b"\x00" * 64)
    _rehash(folder)
    with pytest.raises(WeightsError, match="not a readable safetensors file"):
        ganzoo.load(str(folder))


def test_shape_mismatch_names_component_and_keys(folder: Path, tmp_path: Path) -> None:
    other = ganzoo.build("dcgan", seed=0, **{**TINY, "ngf": 16}).save_pretrained(tmp_path / "wide")
    (folder / "G.safetensors").write_bytes((other / "G.safetensors").read_bytes())
    _rehash(folder)
    with pytest.raises(WeightsError, match=r"does not fit dcgan\.G: shape mismatch main\.0\.weight"):
        ganzoo.load(str(folder))


def test_key_mismatch_names_the_keys(folder: Path) -> None:
    from safetensors.torch import load_file, save_file

    state = load_file(folder / "G.safetensors")
    state["extra.weight"] = torch.zeros(1)
    state.pop("main.1.running_mean")
    save_file(state, folder / "G.safetensors", metadata={"ganzoo_component": "G", "ganzoo_plugin": "dcgan"})
    _rehash(folder)
    with pytest.raises(WeightsError, match="missing keys main.1.running_mean; unexpected keys extra.weight"):
        ganzoo.load(str(folder))


def test_weights_of_another_component_are_refused(folder: Path) -> None:
    (folder / "G.safetensors").write_bytes((folder / "D.safetensors").read_bytes())
    _rehash(folder)
    with pytest.raises(WeightsError, match="holds dcgan.D, not dcgan.G"):
        ganzoo.load(str(folder))


def test_config_json_with_unknown_field(folder: Path) -> None:
    cfg = json.loads((folder / "config.json").read_text())
    cfg["config"]["n_gf"] = 3
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match=r"unknown field 'n_gf' \(did you mean ngf"):
        ganzoo.load(str(folder))


def test_config_json_with_missing_field(folder: Path) -> None:
    cfg = json.loads((folder / "config.json").read_text())
    del cfg["config"]["nz"]
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match="missing field nz"):
        ganzoo.load(str(folder))


@pytest.mark.parametrize("text, match", [
    ("{not json", "not valid JSON"),
    ('{"plugin": "dcgan", "config": {}, "components": {"G": {"file": "../../etc/x.safetensors", "sha256": "'
     + "a" * 64 + '", "size": 1}}}', "plain \\*.safetensors name"),
    ('{"plugin": "dcgan", "config": {}, "components": {"G": {"file": "G.bin", "sha256": "' + "a" * 64
     + '", "size": 1}}}', "plain \\*.safetensors name"),
    ('{"plugin": "dcgan", "config": {}, "components": {}, "exec": "rm -rf /"}', "unknown top-level keys"),
])
def test_bad_config_json(folder: Path, text: str, match: str) -> None:
    """config.json is data: only plain safetensors names, no unknown keys, nothing executed."""
    (folder / "config.json").write_text(text)
    with pytest.raises(ConfigError, match=match):
        ganzoo.load(str(folder))


def test_not_a_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelFolderError, match="has no config.json"):
        ganzoo.load(str(tmp_path))
    with pytest.raises(ModelFolderError, match="No such model folder"):
        ganzoo.load(str(tmp_path / "missing"))


def test_load_all_components_and_a_subset(folder: Path) -> None:
    full = ganzoo.load(str(folder), components="all")
    assert set(full.loaded_components) == {"G", "D"}
    with pytest.raises(UsageError, match="no component"):
        ganzoo.load(str(folder), components=["X"])


def test_ema_component_is_preferred_for_sampling(tmp_path: Path) -> None:
    model = ganzoo.build("dcgan", seed=0, **TINY)
    ema = ganzoo.build("dcgan", seed=1, **TINY).G
    folder = ganzoo.hub.save_model_folder(model, tmp_path / "m", extra_components={"G_ema": ema})
    loaded = ganzoo.load(str(folder))
    assert loaded.loaded_components == {"G": "G_ema"}
    raw = ganzoo.load(str(folder), ema=False)
    assert raw.loaded_components == {"G": "G"}
    assert not torch.equal(loaded.sample(2, seed=0), raw.sample(2, seed=0))


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write(b"new partial")
            raise RuntimeError("crash mid-write")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_interrupted_save_leaves_the_previous_folder_loadable(folder: Path, monkeypatch) -> None:
    """A crash while writing new weights leaves the old files (and so a loadable folder)."""
    before = sha256_file(folder / "G.safetensors")
    import ganzoo.hub as hubmod

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(hubmod, "canonical_safetensors", boom)
    with pytest.raises(KeyboardInterrupt):
        ganzoo.build("dcgan", seed=5, **TINY).save_pretrained(folder)
    monkeypatch.undo()
    assert sha256_file(folder / "G.safetensors") == before
    ganzoo.load(str(folder))


def test_build_refuses_model_ids_and_bad_overrides() -> None:
    with pytest.raises(UsageError, match="ganzoo.load\\('dcgan-digits'\\)"):
        ganzoo.build("dcgan-digits")
    with pytest.raises(ConfigError, match="image_size must be a power of two"):
        ganzoo.build("dcgan", image_size=30)
    with pytest.raises(ConfigError, match="unknown field 'size'"):
        ganzoo.build("dcgan", size=32)


def test_build_seed_is_reproducible_and_leaves_global_rng() -> None:
    state = torch.get_rng_state()
    a, b = ganzoo.build("dcgan", seed=7, **TINY), ganzoo.build("dcgan", seed=7, **TINY)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_sample_rejects_bad_n(n) -> None:
    model = ganzoo.build("dcgan", **TINY)
    with pytest.raises(UsageError, match="positive integer"):
        model.sample(n)


def test_unconditional_model_refuses_a_condition() -> None:
    with pytest.raises(UsageError, match="unconditional"):
        ganzoo.build("dcgan", **TINY).sample(2, condition=torch.tensor([1, 2]))


def test_resave_keeps_card_prose_and_metadata_in_step(folder: Path) -> None:
    """After saving new weights, the card's Files table shows the same hashes as config.json."""
    ganzoo.build("dcgan", seed=1, **TINY).save_pretrained(folder)
    cfg = json.loads((folder / "config.json").read_text())
    files_section = (folder / "README.md").read_text().split("## Files")[1]
    assert cfg["components"]["G"]["sha256"] in files_section
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp files left
