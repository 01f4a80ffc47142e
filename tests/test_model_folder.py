"""Model folders: strict, verified, safetensors-only loading; atomic saves; every refusal is one clear line.

Core tests: the toy plugin ``toygan`` (tests/toyzoo) stands for any plugin; no built-in plugin is needed.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import time
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo.errors import ConfigError, IntegrityError, ModelFolderError, UsageError, WeightsError
from ganzoo.files import atomic_write, sha256_file
from ganzoo.folder import save_model_folder
from ganzoo.testing import raises_one_line


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return ganzoo.build("toygan", seed=0).save_pretrained(tmp_path / "m")


def _rehash(folder: Path, comp: str = "G") -> None:
    """Make config.json vouch for the current bytes of a component (to reach the checks behind the hash)."""
    cfg = json.loads((folder / "config.json").read_text())
    f = folder / cfg["components"][comp]["file"]
    cfg["components"][comp].update(sha256=sha256_file(f), size=f.stat().st_size)
    (folder / "config.json").write_text(json.dumps(cfg))


def _edit_config(folder: Path, **fields: object) -> None:
    cfg = json.loads((folder / "config.json").read_text())
    cfg["config"].update(fields)
    (folder / "config.json").write_text(json.dumps(cfg))


def _weights(model: ganzoo.GanModel, comp: str = "G") -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.components[comp].state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# -- layout and round trip ----------------------------------------------------------------------------------


def test_folder_layout_and_round_trip(folder: Path) -> None:
    """README.md + config.json + one safetensors per component; loading gives identical samples in eval mode."""
    assert sorted(p.name for p in folder.iterdir()) == ["D.safetensors", "G.safetensors", "README.md", "config.json"]
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["plugin"] == "toygan" and cfg["plugin_version"] == "0.1.0" and cfg["config"]["hidden"] == 16
    assert set(cfg["components"]) == {"G", "D"}
    model = ganzoo.build("toygan", seed=0).eval()
    loaded = ganzoo.load(str(folder))
    assert not loaded.training and loaded.card is not None
    assert torch.equal(model.sample(4, seed=3), loaded.sample(4, seed=3))
    assert loaded.loaded_components == {"G": "G"}  # only the inference network by default


def test_same_weights_give_the_same_bytes(tmp_path: Path) -> None:
    """safetensors headers are canonical: saving twice gives identical hashes."""
    a = ganzoo.build("toygan", seed=0).save_pretrained(tmp_path / "a")
    b = ganzoo.build("toygan", seed=0).save_pretrained(tmp_path / "b")
    assert sha256_file(a / "G.safetensors") == sha256_file(b / "G.safetensors")


def test_save_creates_missing_parents_and_says_when_it_cannot(tmp_path: Path) -> None:
    """Outputs are created like `mkdir -p`; a file in the way is one line, not a traceback."""
    deep = ganzoo.build("toygan").save_pretrained(tmp_path / "runs" / "2024" / "mine")
    assert (deep / "config.json").is_file()
    (tmp_path / "blocker").write_text("a file")
    raises_one_line(UsageError, ganzoo.build("toygan").save_pretrained, tmp_path / "blocker" / "m",
                    match="Cannot create the model folder .* is a file")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    """Files ganzoo writes get 0o666 & ~umask like any `open()`, not mkstemp's 0600."""
    old = os.umask(umask)
    try:
        folder = ganzoo.build("toygan").save_pretrained(tmp_path / "m")
        with atomic_write(tmp_path / "plain.bin") as f:
            f.write(b"x")
    finally:
        os.umask(old)
    for path in [*folder.iterdir(), tmp_path / "plain.bin"]:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path.name
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask


# -- integrity -----------------------------------------------------------------------------------------------


def test_missing_weights_file(folder: Path) -> None:
    (folder / "G.safetensors").unlink()
    raises_one_line(ModelFolderError, ganzoo.load, str(folder), match="missing G.safetensors")


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
    size = (folder / "G.safetensors").stat().st_size
    (folder / "G.safetensors").write_bytes(b"\x00" * size)
    _rehash(folder)
    with pytest.raises(WeightsError, match="not a readable safetensors file"):
        ganzoo.load(str(folder))


def test_shape_mismatch_names_component_and_keys(folder: Path, tmp_path: Path) -> None:
    other = ganzoo.build("toygan", seed=0, hidden=32).save_pretrained(tmp_path / "wide")
    (folder / "G.safetensors").write_bytes((other / "G.safetensors").read_bytes())
    _rehash(folder)
    with pytest.raises(WeightsError, match=r"does not fit toygan\.G: shape mismatch net\.0\.weight \(32, 4\) vs"):
        ganzoo.load(str(folder))


def test_key_mismatch_names_the_keys(folder: Path) -> None:
    from safetensors.torch import load_file, save_file

    state = load_file(folder / "G.safetensors")
    state["extra.weight"] = torch.zeros(1)
    state.pop("net.0.bias")
    save_file(state, folder / "G.safetensors", metadata={"ganzoo_component": "G", "ganzoo_plugin": "toygan"})
    _rehash(folder)
    with pytest.raises(WeightsError, match="missing keys net.0.bias; unexpected keys extra.weight"):
        ganzoo.load(str(folder))


def test_weights_of_another_component_are_refused(folder: Path) -> None:
    (folder / "G.safetensors").write_bytes((folder / "D.safetensors").read_bytes())
    _rehash(folder)
    with pytest.raises(WeightsError, match="holds toygan.D, not toygan.G"):
        ganzoo.load(str(folder))


# -- config.json is untrusted data ---------------------------------------------------------------------------


def test_config_json_with_unknown_field(folder: Path) -> None:
    _edit_config(folder, hiden=3)
    with pytest.raises(ConfigError, match=r"unknown field 'hiden' \(did you mean hidden"):
        ganzoo.load(str(folder))


def test_config_json_with_missing_field(folder: Path) -> None:
    cfg = json.loads((folder / "config.json").read_text())
    del cfg["config"]["nz"]
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match="missing field nz"):
        ganzoo.load(str(folder))


@pytest.mark.parametrize("text, match", [
    ("{not json", "not valid JSON"),
    ('{"plugin": "toygan", "config": {}, "components": {"G": {"file": "../../etc/x.safetensors", "sha256": "'
     + "a" * 64 + '", "size": 1}}}', "plain \\*.safetensors name"),
    ('{"plugin": "toygan", "config": {}, "components": {"G": {"file": "G.bin", "sha256": "' + "a" * 64
     + '", "size": 1}}}', "plain \\*.safetensors name"),
    ('{"plugin": "toygan", "config": {}, "components": {}, "exec": "rm -rf /"}', "unknown top-level keys"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"plugin": "toygan", "pad": "' + "x" * (1 << 20) + '"}', "more than the 1,048,576 a ganzoo file may have"),
])
def test_bad_config_json(folder: Path, text: str, match: str) -> None:
    """config.json is data: only plain safetensors names, no unknown keys, bounded size and depth, nothing run."""
    (folder / "config.json").write_text(text)
    raises_one_line(ConfigError, ganzoo.load, str(folder), match=match)


def test_an_oversized_config_is_refused_before_anything_is_allocated(folder: Path, monkeypatch) -> None:
    """`hidden=100000` would build ~27 MB of networks: the config is checked against the listed weight files
    on the meta device first (no real build happens), and refused in one line."""
    from toyzoo.model import ToyGan

    devices: list[str] = []
    real_build = ToyGan.build

    def spy(self, config):
        devices.append(torch.empty(0).device.type)  # "meta" inside the size check, "cpu" for a real build
        return real_build(self, config)

    monkeypatch.setattr(ToyGan, "build", spy)
    _edit_config(folder, hidden=100_000)
    raises_one_line(WeightsError, ganzoo.load, str(folder), match="cannot hold: config and weights disagree")
    assert devices == ["meta"]
    _edit_config(folder, hidden=16)  # the honest config still loads (one meta build, one real build)
    ganzoo.load(str(folder))
    assert devices == ["meta", "meta", "cpu"]


_BIG_D_PLUGIN = '''
from dataclasses import dataclass
from torch import nn
from ganzoo import Plugin
from ganzoo.config import ImageConfig
from ganzoo.impl import GanImpl

plugin = Plugin(name="bigd", task="unconditional", summary="fake plugin for tests", paper="https://arxiv.org/abs/1",
                config="fake_bigd:BigDConfig", impl="fake_bigd:BigD", components=("G", "D"), inference=("G",))

@dataclass
class BigDConfig(ImageConfig):
    image_size: int = 4
    channels: int = 1
    ndf: int = 4

class BigD(GanImpl):
    def build(self, config):
        return self.new_model(config, {"G": nn.Linear(2, config.image_size ** 2), "D": nn.Linear(16, config.ndf)})

    def train_step(self, model, batch, step):
        return {"loss": model.G.weight.sum() + model.D.weight.sum()}

    def sample(self, model, n=None, *, condition=None, seed=None):
        z = self.noise(n or 1, (2,), seed=seed)
        return model.G(z).tanh().reshape(-1, 1, 4, 4)
'''


def test_a_fresh_network_out_of_proportion_is_refused(tmp_path: Path, fake_site) -> None:
    """A network the folder has no weights for gets fresh weights: its config may not make it enormous."""
    fake_site.add("fake-bigd", entry_points={"bigd": "fake_bigd:plugin"}, modules={"fake_bigd.py": _BIG_D_PLUGIN})
    folder = save_model_folder(ganzoo.build("bigd"), tmp_path / "m", components=["G"])
    assert ganzoo.load(str(folder)).loaded_components == {"G": "G"}
    _edit_config(folder, ndf=50_000_000)  # D would be 16 × 50M floats = 3.2 GB
    raises_one_line(ConfigError, ganzoo.load, str(folder), match="out of all proportion")


# -- choosing components -------------------------------------------------------------------------------------


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
    model = ganzoo.build("toygan", seed=0)
    ema = ganzoo.build("toygan", seed=1).G
    folder = save_model_folder(model, tmp_path / "m", extra_components={"G_ema": ema})
    loaded = ganzoo.load(str(folder))
    assert loaded.loaded_components == {"G": "G_ema"}
    raw = ganzoo.load(str(folder), ema=False)
    assert raw.loaded_components == {"G": "G"}
    assert not torch.equal(loaded.sample(2, seed=0), raw.sample(2, seed=0))


def test_resaving_an_inference_load_writes_only_what_was_loaded(folder: Path, tmp_path: Path, caplog,
                                                                monkeypatch) -> None:
    """load() fetches G only; saving it again must not publish the fresh, random D as if it were trained."""
    monkeypatch.setattr(logging.getLogger("ganzoo"), "propagate", True)  # the CLI, run in-process, stops it
    loaded = ganzoo.load(str(folder))
    with caplog.at_level(logging.WARNING, logger="ganzoo"):
        again = loaded.save_pretrained(tmp_path / "again")
    assert set(json.loads((again / "config.json").read_text())["components"]) == {"G"}
    assert not (again / "D.safetensors").exists()
    assert any("Saving G only: D was not loaded" in r.getMessage() and 'components="all"' in r.getMessage()
               for r in caplog.records)
    assert torch.equal(ganzoo.load(str(again)).sample(3, seed=0), loaded.sample(3, seed=0))
    # every network loaded, or named explicitly, or changed since the load (trained): saved
    full = ganzoo.load(str(folder), components="all").save_pretrained(tmp_path / "full")
    assert set(json.loads((full / "config.json").read_text())["components"]) == {"G", "D"}
    named = loaded.save_pretrained(tmp_path / "named", components=["G", "D"])
    assert (named / "D.safetensors").exists()
    with torch.no_grad():
        loaded.D.net[0].weight.add_(1.0)  # what an optimizer step does
    trained = loaded.save_pretrained(tmp_path / "trained")
    assert (trained / "D.safetensors").exists()


# -- atomic writes and saves ---------------------------------------------------------------------------------


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
    """An error while writing new weights leaves the old files (a loadable folder) and no staged files."""
    before = sha256_file(folder / "G.safetensors")
    import ganzoo.files

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ganzoo.files, "canonical_safetensors", boom)
    with pytest.raises(KeyboardInterrupt):
        ganzoo.build("toygan", seed=5).save_pretrained(folder)
    monkeypatch.undo()
    assert sha256_file(folder / "G.safetensors") == before
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
    ganzoo.load(str(folder))


def _crashing_save(model: ganzoo.GanModel, folder: Path, crash_at: int) -> int:
    """Save in a forked child that dies (os._exit: no cleanup, like a kill -9) just before its `crash_at`-th
    os.replace; return the child's exit code (17: crashed there, 0: the save had fewer replaces)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            calls = 0
            real = os.replace

            def replace(src, dst):
                nonlocal calls
                calls += 1
                if calls == crash_at:
                    os._exit(17)
                real(src, dst)

            os.replace = replace
            save_model_folder(model, folder, extra_components={"G_ema": model.G})
            code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            pytest.fail("the forked save hung")
        time.sleep(0.01)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork to crash a save")
def test_a_save_killed_at_any_point_leaves_a_loadable_folder(tmp_path: Path) -> None:
    """Kill a save before each of its renames (the trainer's folder refresh makes the same save): the folder
    always loads, as the old model before config.json switches and as the new one after; the next save tidies."""
    old_model, new_model = ganzoo.build("toygan", seed=0), ganzoo.build("toygan", seed=1)
    old, new = _weights(old_model), _weights(new_model)
    seen = []
    for crash_at in range(1, 20):
        folder = tmp_path / f"crash-{crash_at}"
        save_model_folder(old_model, folder, extra_components={"G_ema": old_model.G})
        code = _crashing_save(new_model, folder, crash_at)
        loaded = ganzoo.load(str(folder), components="all")
        got = _weights(loaded)
        assert _same(got, old) or _same(got, new), f"crash before replace {crash_at}: mixed weights"
        assert _same(_weights(loaded, "D"), _weights(old_model if _same(got, old) else new_model, "D"))
        seen.append("old" if _same(got, old) else "new")
        if code == 0:
            break
        assert code == 17
        litter = [p.name for p in folder.iterdir() if p.name.startswith(".")]
        save_model_folder(ganzoo.build("toygan", seed=2), folder)  # the next save tidies up and switches
        assert not [p for p in folder.iterdir() if p.name.startswith(".")], litter
        assert _same(_weights(ganzoo.load(str(folder), ema=False)), _weights(ganzoo.build("toygan", seed=2)))
    # staged G, D, G_ema + config.json switch-over + 3 renames + README, then the complete save
    assert seen == ["old"] * 4 + ["new"] * 5, seen


def test_build_refuses_model_ids_and_bad_overrides() -> None:
    with pytest.raises(UsageError, match="ganzoo.load\\('toygan-x'\\)"):
        ganzoo.build("toygan-x")
    with pytest.raises(ConfigError, match="image_size must be a positive integer"):
        ganzoo.build("toygan", image_size=0)
    with pytest.raises(ConfigError, match="unknown field 'size'"):
        ganzoo.build("toygan", size=32)


def test_build_seed_is_reproducible_and_leaves_global_rng() -> None:
    state = torch.get_rng_state()
    a, b = ganzoo.build("toygan", seed=7), ganzoo.build("toygan", seed=7)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_sample_rejects_bad_n(n) -> None:
    model = ganzoo.build("toygan")
    with pytest.raises(UsageError, match="positive integer"):
        model.sample(n)


def test_unconditional_model_refuses_a_condition() -> None:
    with pytest.raises(UsageError, match="unconditional"):
        ganzoo.build("toygan").sample(2, condition=torch.tensor([1, 2]))


def test_resave_keeps_card_prose_and_metadata_in_step(folder: Path) -> None:
    """After saving new weights, the card's Files table shows the same hashes as config.json."""
    ganzoo.build("toygan", seed=1).save_pretrained(folder)
    cfg = json.loads((folder / "config.json").read_text())
    files_section = (folder / "README.md").read_text().split("## Files")[1]
    assert cfg["components"]["G"]["sha256"] in files_section
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp files left
