"""The CLI as users meet it: output, exit codes, one-line errors, no traceback, no torch for `list`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import spec_module

from ganzoo.cli import cli

TINY = ["--set", "image_size=16", "--set", "channels=1", "--set", "nz=8", "--set", "ngf=8", "--set", "ndf=8"]


def run(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed `ganzoo` console script in a subprocess (what a user runs)."""
    return subprocess.run([sys.executable, "-m", "ganzoo.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=120)


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Path:
    import ganzoo

    return ganzoo.build("dcgan", seed=0, image_size=16, channels=1, nz=8, ngf=8, ndf=8).save_pretrained(tmp_path / "m")


def test_list_shows_plugins_and_models() -> None:
    result = CliRunner().invoke(cli, ["list"])
    assert result.exit_code == 0, result.output
    assert "dcgan" in result.output and "ganzoo-dcgan" in result.output
    assert "Pretrained models" in result.output


def test_list_json_filter_and_task() -> None:
    out = json.loads(CliRunner().invoke(cli, ["list", "--json", "dcgan*"]).output)
    assert [p["name"] for p in out["plugins"]] == ["dcgan"]
    assert all(m["plugin"] == "dcgan" for m in out["models"])
    empty = json.loads(CliRunner().invoke(cli, ["list", "--json", "--task", "speech-enhancement", "dcgan"]).output)
    assert empty["plugins"] == [] and empty["models"] == []
    bad = CliRunner().invoke(cli, ["list", "--task", "nonsense"])
    assert bad.exit_code == 2 and "nonsense" in bad.output
    # a filter that matches nothing says so (not "none installed")
    text = CliRunner().invoke(cli, ["list", "no-such-thing-xyz"]).output
    assert text.count("none match 'no-such-thing-xyz'") == 2 and "none installed" not in text


def test_list_imports_no_torch_and_makes_no_request(hub) -> None:
    """`ganzoo list` reads metadata only: torch is never imported, the Hub is never asked."""
    code = ("import sys, runpy; sys.argv = ['ganzoo', 'list', '--json'];\n"
            "try:\n    runpy.run_module('ganzoo.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "assert 'huggingface_hub.file_download' not in sys.modules\n")
    hub.clear_requests()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["plugins"]
    assert hub.requests == []


def test_list_survives_a_broken_plugin_and_doctor_reports_it(fake_site) -> None:
    fake_site.add("fake-broken", entry_points={"brokengan": "fake_broken:plugin"},
                  modules={"fake_broken.py": "import nonexistent_module_xyz\n"})
    env = {"PYTHONPATH": str(fake_site.root)}
    listed = run("list", env=env)
    assert listed.returncode == 0 and "dcgan" in listed.stdout
    assert "1 problem(s) skipped: run `ganzoo doctor`" in listed.stderr
    doctor = run("doctor", env=env)
    assert doctor.returncode == 1
    assert "FAIL brokengan (fake-broken 0.1.0)" in doctor.stdout and "nonexistent_module_xyz" in doctor.stdout
    assert "Traceback" not in doctor.stdout + doctor.stderr


def test_list_shows_a_conflict_once(fake_site) -> None:
    fake_site.add("fake-one", entry_points={"twin": "fake_one:plugin"}, modules={"fake_one.py": spec_module("twin")})
    fake_site.add("fake-two", entry_points={"twin": "fake_two:plugin"}, modules={"fake_two.py": spec_module("twin")})
    env = {"PYTHONPATH": str(fake_site.root)}
    listed = run("list", env=env)
    assert listed.stdout.count("twin") == 1 and "CONFLICT" in listed.stdout
    built = run("sample", "twin", env=env)
    assert built.returncode == 1 and "fake-one and fake-two" in built.stderr


def test_doctor_is_clean_on_a_good_install() -> None:
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "ok   dcgan" in result.output and "No problems found." in result.output


def test_info_for_plugin_and_model(tiny_folder: Path) -> None:
    plugin = CliRunner().invoke(cli, ["info", "dcgan"])
    assert plugin.exit_code == 0
    assert "https://arxiv.org/abs/1511.06434" in plugin.output and "ngf" in plugin.output and "64" in plugin.output
    card = CliRunner().invoke(cli, ["info", str(tiny_folder)])
    assert card.exit_code == 0 and "library_name: ganzoo" not in card.output  # facts + prose, not raw YAML
    assert "status:      local folder" in card.output and "G.safetensors (sha256 " in card.output
    assert "plugin:      dcgan" in card.output and "\n# " in card.output
    raw = CliRunner().invoke(cli, ["info", str(tiny_folder), "--raw"])
    assert raw.exit_code == 0 and raw.output.startswith("---\n") and "library_name: ganzoo" in raw.output
    bundled = CliRunner().invoke(cli, ["info", "dcgan-digits"])
    assert "status:      bundled" in bundled.output and "ganzoo train dcgan" in bundled.output


def test_sample_writes_a_grid(tiny_folder: Path, tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "grid.png"
    result = CliRunner().invoke(cli, ["sample", str(tiny_folder), "-n", "9", "--seed", "3", "-o", str(out),
                                      "--device", "cpu"])
    assert result.exit_code == 0, result.output
    img = Image.open(out)
    assert img.size == (3 * 16 + 4 * 2, 3 * 16 + 4 * 2)  # 3×3 grid with 2-px padding
    again = tmp_path / "again.png"
    CliRunner().invoke(cli, ["sample", str(tiny_folder), "-n", "9", "--seed", "3", "-o", str(again), "--device", "cpu"])
    assert out.read_bytes() == again.read_bytes()


@pytest.mark.parametrize("args, message", [
    (["sample", "dcgn-digits"], "Did you mean"),
    (["sample", "dcgan-nope"], "has no pretrained model tagged 'nope'"),
    (["sample", "someorg/somerepo"], "use 'hf-hub:someorg/somerepo'"),
    (["sample", "./no/such/folder"], "No such model folder"),
    (["info", "nothing-like-it"], "Unknown"),
    (["build-me"], "No such command"),
])
def test_errors_are_one_line_without_traceback(args: list[str], message: str) -> None:
    proc = run(*args)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    error_lines = [line for line in proc.stderr.splitlines() if line.startswith("Error")]
    assert len(error_lines) == 1


def test_sample_n_zero_and_missing_output_dir(tiny_folder: Path, tmp_path: Path) -> None:
    zero = CliRunner().invoke(cli, ["sample", str(tiny_folder), "-n", "0"])
    assert zero.exit_code == 2 and "0 is not in the range x>=1" in zero.output
    neg = CliRunner().invoke(cli, ["sample", str(tiny_folder), "-n", "-4"])
    assert neg.exit_code == 2
    missing = CliRunner().invoke(cli, ["sample", str(tiny_folder), "-o", str(tmp_path / "nope" / "g.png")])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    assert not (tmp_path / "nope").exists()


def test_debug_env_shows_the_traceback() -> None:
    proc = run("sample", "dcgn-digits", env={"GANZOO_DEBUG": "1"})
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_push_and_pull_from_the_cli(hub, hf_cache, tiny_folder: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["push", str(tiny_folder), "ganzoo-tests/cli-push"])
    assert result.exit_code == 0, result.output
    commit = result.output.strip().splitlines()[-1]
    assert len(commit) == 40 and commit in hub.resolve_revision("ganzoo-tests/cli-push")
    pulled = CliRunner().invoke(cli, ["pull", f"hf-hub:ganzoo-tests/cli-push@{commit}", "--all-components"])
    assert pulled.exit_code == 0 and commit in pulled.output


def test_push_pin_card_writes_a_registry_card(hub, hf_cache, tmp_path: Path) -> None:
    import ganzoo
    from ganzoo.cards import read_card_info

    model = ganzoo.build("dcgan", seed=0, image_size=16, channels=1, nz=8, ngf=8, ndf=8)
    model.name = "dcgan-pinme"
    folder = model.save_pretrained(tmp_path / "m")
    card_dir = tmp_path / "cards" / "dcgan-pinme"
    result = CliRunner().invoke(cli, ["push", str(folder), "ganzoo-tests/pinme", "--pin-card", str(card_dir)])
    assert result.exit_code == 0, result.output
    info = read_card_info((card_dir / "README.md").read_text())
    assert info.repo_id == "ganzoo-tests/pinme" and info.revision == result.output.strip().splitlines()[-1]
    assert set(info.sha256) == {"config.json", "G.safetensors", "D.safetensors"}
    wrong = CliRunner().invoke(cli, ["push", str(folder), "ganzoo-tests/pinme", "--pin-card", str(tmp_path / "x")])
    assert wrong.exit_code == 1 and "named after the model id" in wrong.output


def test_train_then_sample_then_push_the_run_folder(hub, hf_cache, tmp_path: Path) -> None:
    """`--out` is a model folder: sample and push take it directly; checkpoints stay local."""
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "dcgan", "--data", "builtin:digits", "--out", str(out), "--max-steps",
                                      "2", "--batch-size", "8", *TINY, "--set", "progress=false"])
    assert result.exit_code == 0, result.output
    assert (out / "checkpoints").is_dir()
    sampled = CliRunner().invoke(cli, ["sample", str(out), "-n", "4", "-o", str(tmp_path / "s.png"), "--device", "cpu"])
    assert sampled.exit_code == 0, sampled.output
    pushed = CliRunner().invoke(cli, ["push", str(out), "ganzoo-tests/run-folder"])
    assert pushed.exit_code == 0, pushed.output
    assert not any("checkpoints" in f for f in hub.list_files("ganzoo-tests/run-folder"))


def test_new_plugin_installs_and_passes_the_kit(tmp_path: Path) -> None:
    """A scaffolded third-party package, pip-installed (outside plugins/), is discovered and passes check_plugin."""
    result = CliRunner().invoke(cli, ["new-plugin", "thirdparty", "--dir", str(tmp_path / "pkg")])
    assert result.exit_code == 0, result.output
    target = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                          "--target", str(target), str(tmp_path / "pkg")], capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr
    env = {"PYTHONPATH": str(target)}
    listed = run("list", "--json", env=env)
    assert "thirdparty" in [p["name"] for p in json.loads(listed.stdout)["plugins"]]
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "pkg" / "tests")],
                           capture_output=True, text=True, env={**os.environ, **env}, timeout=300, cwd=tmp_path)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    again = CliRunner().invoke(cli, ["new-plugin", "thirdparty", "--dir", str(tmp_path / "pkg")])
    assert again.exit_code == 1 and "not empty" in again.output
    bad = CliRunner().invoke(cli, ["new-plugin", "Bad-Name"])
    assert bad.exit_code == 1 and "not a valid plugin id" in bad.output
