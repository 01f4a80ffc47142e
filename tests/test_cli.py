"""The CLI as users meet it: output, exit codes, one-line errors, no traceback, no torch for `list`.

Core tests: they use the toy plugins (tests/toyzoo), so they pass with every built-in plugin blocked
(``GANZOO_DISABLE_PLUGINS='ganzoo-*'``); tests about a built-in plugin or a bundled model live in its
``plugins/<name>/tests``.
"""

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

TINY = ["--set", "image_size=8", "--set", "channels=1", "--set", "nz=4", "--set", "hidden=8"]


def run(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed `ganzoo` console script in a subprocess (what a user runs)."""
    return subprocess.run([sys.executable, "-m", "ganzoo.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=120)


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Path:
    import ganzoo

    return ganzoo.build("toygan", seed=0).save_pretrained(tmp_path / "m")


def test_list_shows_plugins_and_models() -> None:
    result = CliRunner().invoke(cli, ["list"])
    assert result.exit_code == 0, result.output
    assert "toygan" in result.output and "toyzoo 0.1.0" in result.output
    assert "Pretrained models" in result.output


def test_list_json_filter_and_task() -> None:
    out = json.loads(CliRunner().invoke(cli, ["list", "--json", "toygan"]).output)
    assert [p["name"] for p in out["plugins"]] == ["toygan"]
    assert all(m["plugin"] == "toygan" for m in out["models"])
    empty = json.loads(CliRunner().invoke(cli, ["list", "--json", "--task", "speech-enhancement", "toygan"]).output)
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
    env = {"PYTHONPATH": os.pathsep.join([str(fake_site.root), os.environ["PYTHONPATH"]])}
    listed = run("list", env=env)
    assert listed.returncode == 0 and "toygan" in listed.stdout
    assert "1 problem(s) skipped: run `ganzoo doctor`" in listed.stderr
    doctor = run("doctor", env=env)
    assert doctor.returncode == 1
    assert "FAIL brokengan (fake-broken 0.1.0)" in doctor.stdout and "nonexistent_module_xyz" in doctor.stdout
    assert "Traceback" not in doctor.stdout + doctor.stderr


def test_list_shows_a_conflict_once(fake_site) -> None:
    fake_site.add("fake-one", entry_points={"twin": "fake_one:plugin"}, modules={"fake_one.py": spec_module("twin")})
    fake_site.add("fake-two", entry_points={"twin": "fake_two:plugin"}, modules={"fake_two.py": spec_module("twin")})
    env = {"PYTHONPATH": os.pathsep.join([str(fake_site.root), os.environ["PYTHONPATH"]])}
    listed = run("list", env=env)
    assert listed.stdout.count("twin") == 1 and "CONFLICT" in listed.stdout
    built = run("sample", "twin", env=env)
    assert built.returncode == 1 and "fake-one and fake-two" in built.stderr


def test_doctor_is_clean_on_a_good_install() -> None:
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "ok   toygan" in result.output and "No problems found." in result.output


def test_info_for_plugin_and_model(tiny_folder: Path) -> None:
    plugin = CliRunner().invoke(cli, ["info", "toygan"])
    assert plugin.exit_code == 0
    assert "https://arxiv.org/abs/1406.2661" in plugin.output and "hidden" in plugin.output and "16" in plugin.output
    assert "builtin:digits" in plugin.output  # the data the plugin trains on
    card = CliRunner().invoke(cli, ["info", str(tiny_folder)])
    assert card.exit_code == 0 and "library_name: ganzoo" not in card.output  # facts + prose, not raw YAML
    assert "status:      local folder" in card.output and "G.safetensors (sha256 " in card.output
    assert "plugin:      toygan" in card.output and "\n# " in card.output
    raw = CliRunner().invoke(cli, ["info", str(tiny_folder), "--raw"])
    assert raw.exit_code == 0 and raw.output.startswith("---\n") and "library_name: ganzoo" in raw.output


def test_sample_writes_a_grid(tiny_folder: Path, tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "grid.png"
    result = CliRunner().invoke(cli, ["sample", str(tiny_folder), "-n", "9", "--seed", "3", "-o", str(out),
                                      "--device", "cpu"])
    assert result.exit_code == 0, result.output
    img = Image.open(out)
    assert img.size == (3 * 8 + 4 * 2, 3 * 8 + 4 * 2)  # 3×3 grid with 2-px padding
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


def test_sample_n_zero_and_output_folders(tiny_folder: Path, tmp_path: Path) -> None:
    zero = CliRunner().invoke(cli, ["sample", str(tiny_folder), "-n", "0"])
    assert zero.exit_code == 2 and "0 is not in the range x>=1" in zero.output
    neg = CliRunner().invoke(cli, ["sample", str(tiny_folder), "-n", "-4"])
    assert neg.exit_code == 2
    # missing parent folders are created, as mkdir -p would
    nested = tmp_path / "runs" / "deep" / "g.png"
    made = CliRunner().invoke(cli, ["sample", str(tiny_folder), "-n", "4", "-o", str(nested), "--device", "cpu"])
    assert made.exit_code == 0, made.output
    assert nested.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a file where a folder should be: one line, nothing written
    (tmp_path / "afile").write_text("keep me")
    blocked = CliRunner().invoke(cli, ["sample", str(tiny_folder), "-o", str(tmp_path / "afile" / "g.png")])
    assert blocked.exit_code == 1 and "is not a folder" in blocked.output
    assert (tmp_path / "afile").read_text() == "keep me"


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

    model = ganzoo.build("toygan", seed=0)
    model.name = "toygan-pinme"
    folder = model.save_pretrained(tmp_path / "m")
    card_dir = tmp_path / "cards" / "toygan-pinme"
    result = CliRunner().invoke(cli, ["push", str(folder), "ganzoo-tests/pinme", "--pin-card", str(card_dir)])
    assert result.exit_code == 0, result.output
    info = read_card_info((card_dir / "README.md").read_text())
    assert info.repo_id == "ganzoo-tests/pinme" and info.revision == result.output.strip().splitlines()[-1]
    assert set(info.sha256) == {"config.json", "G.safetensors", "D.safetensors"}
    wrong = CliRunner().invoke(cli, ["push", str(folder), "ganzoo-tests/pinme", "--pin-card", str(tmp_path / "x")])
    assert wrong.exit_code == 1 and "named after the model id" in wrong.output


def test_train_then_sample_then_push_the_run_folder(hub, hf_cache, tmp_path: Path) -> None:
    """`--out` is a model folder (its missing parents created, as `--out runs/x` in a fresh clone needs): sample and
    push take it directly; checkpoints stay local."""
    out = tmp_path / "runs" / "run"
    result = CliRunner().invoke(cli, ["train", "toygan", "--data", "builtin:digits", "--out", str(out), "--max-steps",
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
    # its distribution is ganzoo-thirdparty: not blocked even when GANZOO_DISABLE_PLUGINS='ganzoo-*' is set
    env = {"PYTHONPATH": os.pathsep.join([str(target), os.environ["PYTHONPATH"]]), "GANZOO_DISABLE_PLUGINS": ""}
    listed = run("list", "--json", env=env)
    assert "thirdparty" in [p["name"] for p in json.loads(listed.stdout)["plugins"]]
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(tmp_path / "pkg" / "tests")], capture_output=True, text=True,
                           env={**os.environ, **env}, timeout=300, cwd=tmp_path)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    again = CliRunner().invoke(cli, ["new-plugin", "thirdparty", "--dir", str(tmp_path / "pkg")])
    assert again.exit_code == 1 and "not empty" in again.output
    bad = CliRunner().invoke(cli, ["new-plugin", "Bad-Name"])
    assert bad.exit_code == 1 and "not a valid plugin id" in bad.output


# ---------------------------------------------------------------------------------------------------------
# help: examples, option help, one style of default


COMMANDS = ["list", "info", "doctor", "sample", "train", "eval", "convert", "export", "push", "pull", "new-plugin"]


def _command(name: str):
    import click

    cmd = cli.get_command(click.Context(cli), name)
    assert cmd is not None, name
    return cmd


def test_every_command_is_listed() -> None:
    import click

    assert set(COMMANDS) <= set(cli.list_commands(click.Context(cli)))


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_examples_and_every_option_help(name: str) -> None:
    """Each verb's help shows runnable examples; each option says what it does; defaults appear one way only."""
    import re

    import click

    cmd = _command(name)
    text = CliRunner().invoke(cli, [name, "--help"], terminal_width=200).output
    assert re.search(rf"^\s+ganzoo {name}\b", text, re.M), f"`ganzoo {name} --help` shows no example"
    unset = getattr(click.core, "UNSET", None)  # click >= 8.3: the default of an option given none
    for opt in cmd.params:
        if not isinstance(opt, click.Option) or opt.hidden or opt.name == "help":
            continue
        assert opt.help, f"ganzoo {name} {opt.opts[0]} has no help"
        # a default is shown by click's [default: …], never written into the help text by hand
        assert not re.search(r"\[[^\]]*\]\s*$", opt.help), f"ganzoo {name} {opt.opts[0]}: {opt.help!r}"
        if opt.default is not unset and opt.default not in (None, False, ()) and not opt.is_flag:
            assert opt.show_default, f"ganzoo {name} {opt.opts[0]} hides its default {opt.default!r}"


def test_train_help_lists_trainer_options_and_points_to_model_fields() -> None:
    from ganzoo.config import describe
    from ganzoo.training.options import TrainerOptions

    text = CliRunner().invoke(cli, ["train", "--help"], terminal_width=200).output
    for f in describe(TrainerOptions):
        assert f"{f.name}=" in text and f.help.split(";")[0][:30] in text, f.name
    assert "ganzoo info PLUGIN" in text


@pytest.mark.parametrize("name", ["sample", "eval"])
def test_counts_are_spelt_n_num(name: str) -> None:
    opt = next(p for p in _command(name).params if p.name == "n")
    assert "-n" in opt.opts and "--num" in opt.opts, opt.opts


# ---------------------------------------------------------------------------------------------------------
# messages that tell the user what to do


def test_sample_input_on_a_noise_model_points_to_translators(tiny_folder: Path, tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "x.png")
    res = CliRunner().invoke(cli, ["sample", str(tiny_folder), "--input", str(tmp_path / "x.png")])
    assert res.exit_code == 1 and res.output.count("\n") == 1
    assert "draws samples from noise" in res.output and "ganzoo list --task paired-translation" in res.output
    assert "class-conditional" not in res.output


@pytest.mark.parametrize("plugin", ["toygan", "toyae"])
def test_condition_on_a_model_without_labels_is_one_clear_line(plugin: str, tmp_path: Path) -> None:
    import ganzoo

    folder = ganzoo.build(plugin, seed=0).save_pretrained(tmp_path / plugin)
    res = CliRunner().invoke(cli, ["sample", str(folder), "--condition", "3", "-o", str(tmp_path / "g.png")])
    assert res.exit_code == 1 and res.output.count("\n") == 1, res.output
    assert "takes no --condition" in res.output and "ganzoo list --task class-conditional" in res.output
    assert "dtype" not in res.output and "Tensor" not in res.output and not (tmp_path / "g.png").exists()


@pytest.fixture
def pair_folder(tmp_path: Path) -> Path:
    import ganzoo

    return ganzoo.build("toypair", seed=0).save_pretrained(tmp_path / "pair")


def test_every_output_path_checks_the_suffix(tiny_folder: Path, pair_folder: Path, tmp_path: Path) -> None:
    """-o x.xyz is refused before anything is written, whether sampling or translating a file or a folder."""
    from PIL import Image

    Image.new("L", (12, 12), 128).save(tmp_path / "in.png")
    (tmp_path / "dir").mkdir()
    Image.new("L", (12, 12), 64).save(tmp_path / "dir" / "a.png")
    bad = str(tmp_path / "new" / "x.xyz")
    for args in (["sample", str(tiny_folder), "-o", bad],
                 ["sample", str(pair_folder), "--input", str(tmp_path / "in.png"), "-o", bad],
                 ["sample", str(pair_folder), "--input", str(tmp_path / "dir"), "-o", bad]):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 1 and res.output.count("\n") == 1, res.output
        assert "x.xyz" in res.output
        assert not (tmp_path / "new").exists()  # nothing written, not even the folder
    # the suffix decides the format, for samples and translations alike
    res = CliRunner().invoke(cli, ["sample", str(tiny_folder), "-n", "4", "-o", str(tmp_path / "g.JPG")])
    assert res.exit_code == 0 and (tmp_path / "g.JPG").read_bytes()[:2] == b"\xff\xd8"
    res = CliRunner().invoke(cli, ["sample", str(pair_folder), "--input", str(tmp_path / "in.png"),
                                   "-o", str(tmp_path / "deep" / "er" / "t.jpg")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "deep" / "er" / "t.jpg").read_bytes()[:2] == b"\xff\xd8"
    res = CliRunner().invoke(cli, ["sample", str(pair_folder), "--input", str(tmp_path / "dir"),
                                   "-o", str(tmp_path / "outdir" / "nested")])
    assert res.exit_code == 0 and (tmp_path / "outdir" / "nested" / "a.png").is_file()


def test_list_shows_where_weights_come_from(fake_site, hf_cache, tmp_path: Path, monkeypatch) -> None:
    """The weights column (bundled, hub, source, not published) and the status column, in text and JSON; a source
    is read from the card cache's listing fields like the rest (a warm listing reads no card); a converted source
    or a Hub snapshot in the caches is `cached`."""
    from conftest import spec_module
    from ganzoo import cards

    card = ("---\nlibrary_name: ganzoo\nlicense: apache-2.0\nganzoo:\n  plugin: wsrc\n  tag: {tag}\n"
            "  repo_id: {repo}\n  revision: {rev}\n{extra}---\n# card\n")
    url = "https://example.org/weights/orig.pth"
    fake_site.add("fake-wsrc", entry_points={"wsrc": "fake_wsrc:plugin"},
                  modules={"fake_wsrc/__init__.py": spec_module("wsrc", 'cards="fake_wsrc:cards"')},
                  files={"fake_wsrc/cards/wsrc-local/README.md": card.format(tag="local", repo="null", rev="null",
                                                                             extra=""),
                         "fake_wsrc/cards/wsrc-local/config.json": "{}",
                         "fake_wsrc/cards/wsrc-remote/README.md": card.format(tag="remote", repo="o/r", rev="a" * 40,
                                                                              extra=""),
                         "fake_wsrc/cards/wsrc-orig/README.md": card.format(tag="orig", repo="null", rev="null",
                                                                            extra=f"  source:\n    url: {url}\n"),
                         "fake_wsrc/cards/wsrc-later/README.md": card.format(tag="later", repo="o/r", rev="null",
                                                                             extra="")})
    text = CliRunner().invoke(cli, ["list", "wsrc"], terminal_width=200).output
    lines = text.splitlines()
    assert lines[lines.index("Pretrained models (4)") + 1].split()[-2:] == ["weights", "status"]
    rows = {line.split()[0]: " ".join(line.split()[5:]) for line in lines if line.startswith("wsrc-")}
    assert rows == {"wsrc-local": "bundled bundled", "wsrc-remote": "hub hub", "wsrc-orig": "source on first use",
                    "wsrc-later": "not published unpublished"}
    import os

    from ganzoo import registry

    for readme in (fake_site.root / "fake_wsrc" / "cards").glob("*/README.md"):  # older than the racy window
        os.utime(readme, ns=(readme.stat().st_mtime_ns - 3600 * 10**9,) * 2)
    registry.refresh()
    CliRunner().invoke(cli, ["list", "wsrc"])  # fills the card cache
    registry.refresh()
    parsed: list[str] = []
    real = cards._parse_yaml
    monkeypatch.setattr(cards, "_parse_yaml", lambda text, path: parsed.append(path) or real(text, path))
    data = json.loads(CliRunner().invoke(cli, ["list", "--json", "wsrc"]).output)
    assert parsed == []  # the source came from the card cache like the other listing fields
    models = {m["id"]: m for m in data["models"]}
    assert {k: (m["weights"], m["status"], m["cached"], m["source"]) for k, m in models.items()} == {
        "wsrc-later": ("not published", "unpublished", False, None), "wsrc-local": ("bundled", "bundled", True, None),
        "wsrc-orig": ("source", "on first use", False, url), "wsrc-remote": ("hub", "hub", False, None)}

    from ganzoo import sources
    from ganzoo.names import get_model

    converted = sources._folder(sources.source_of(get_model("wsrc-orig")))
    snapshot = hf_cache / "models--o--r" / "snapshots" / ("a" * 40)
    for folder, stamp in ((converted, sources.STAMP_NAME), (snapshot, None)):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
        if stamp:
            (folder / stamp).write_text("{}")
    data = json.loads(CliRunner().invoke(cli, ["list", "--json", "wsrc"]).output)
    assert {m["id"]: (m["status"], m["cached"]) for m in data["models"]} == {
        "wsrc-later": ("unpublished", False), "wsrc-local": ("bundled", True), "wsrc-orig": ("cached", True),
        "wsrc-remote": ("cached", True)}


def test_doctor_reports_every_contract_problem_of_a_plugin(fake_site) -> None:
    """A hook with the wrong signature and a config off its task's base, in one plugin: both reported, each on its
    own line naming the part to fix, without the "run ganzoo doctor" advice meant for other commands."""
    import textwrap

    model = textwrap.dedent('''
        from dataclasses import dataclass
        from toyzoo.model import ToyGan

        class WrongSig(ToyGan):
            def latent(self, model, n, seed, extra):
                return super().latent(model, n, seed=seed)

        @dataclass
        class Loose:
            image_size: int = 8
    ''')
    spec = ('from ganzoo import Plugin\n'
            'twofold = Plugin(name="twofold", task="unconditional", summary="x", paper="https://x.org",\n'
            '                 config="fake_two_bad.model:Loose", impl="fake_two_bad.model:WrongSig",\n'
            '                 components=("G", "D"))\n')
    fake_site.add("fake-two-bad", entry_points={"twofold": "fake_two_bad:twofold"},
                  modules={"fake_two_bad/__init__.py": spec, "fake_two_bad/model.py": model})
    res = CliRunner().invoke(cli, ["doctor"], terminal_width=200)
    assert res.exit_code == 1
    lines = res.output.splitlines()
    head = lines.index("  FAIL twofold (fake-two-bad 0.1.0): breaks the plugin contract (2 problems)")
    assert lines[head + 1].strip().startswith("config fake_two_bad.model:Loose:")
    assert "must derive from ganzoo.config.ImageConfig" in lines[head + 1]
    assert lines[head + 2].strip().startswith("impl fake_two_bad.model:WrongSig: WrongSig.latent() requires")
    assert "the core calls latent(self, model" in lines[head + 2]
    assert "ok   toygan" in res.output and "Run `ganzoo doctor`" not in res.output
    assert "is invalid:" not in res.output
    shallow = CliRunner().invoke(cli, ["doctor", "--shallow"])
    assert shallow.exit_code == 0 and "ok   twofold" in shallow.output and "shallow" in shallow.output
