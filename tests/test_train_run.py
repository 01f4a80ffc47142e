"""The trainer around its loop: options (``--set``, ``--config``, the Python API), resume refusals, the run folder
(metrics, previews, the card and the command it records, licences), ``--out`` created with its parents, and the
capsule on disk. On the trainer tests' own plugins (tests/trainer_toys.py) and the shared toy plugins.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from trainer_toys import QUIET, TOY, install_toys, train

import ganzoo
from ganzoo import registry
from ganzoo.cli import cli
from ganzoo.config import ImageConfig
from ganzoo.errors import ConfigError, DataError, TrainingError, UsageError
from ganzoo.testing import write_dataset
from ganzoo.training.checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
from ganzoo.training.cli_support import run_training

pytestmark = pytest.mark.usefixtures("one_thread")

TOY_SETS = ["--set", "image_size=8", "--set", "channels=1"]


@pytest.fixture
def toy(fake_site) -> Path:
    return install_toys(fake_site)


def one_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


# -- options -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sets, expected", [
    (["nzz=8"], ["unknown option 'nzz'", "Did you mean nz", "hidden", "max_grad_norm"]),
    (["trainer.nz=8"], ["unknown option 'trainer.nz'", "trainer options"]),
    (["nz=eight"], ["nz must be an integer, got 'eight'"]),
    (["batch_sizee=3"], ["unknown option 'batch_sizee'", "batch_size"]),
    (["grad_accum=two"], ["grad_accum must be an integer, got 'two'"]),
    (["lr_schedule=step"], ["lr_schedule must be one of 'constant', 'linear_decay', 'cosine'"]),
    (["ema_decay=2"], ["ema_decay must be in (0, 1)"]),
    (["dataset_license=my own terms"], ["dataset_license must be an SPDX licence id"]),
])
def test_bad_set_keys_and_types_name_the_valid_ones(toy: Path, tmp_path: Path, sets: list[str],
                                                    expected: list[str]) -> None:
    args = ["train", "trgan", "--data", "builtin:digits", "--out", str(tmp_path / "run"), "--max-steps", "1"]
    line = one_line(CliRunner().invoke(cli, args + [x for s in sets for x in ("--set", s)]))
    for text in expected:
        assert text in line, line
    assert not (tmp_path / "run").exists()


def test_set_needs_key_equals_value(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["train", "toygan", "--data", "builtin:digits", "--out", str(tmp_path / "r"),
                                      "--max-steps", "1", "--set", "nz"])
    assert result.exit_code == 2 and "expected key=value" in result.output


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_config_file_sets_model_and_trainer_options_and_set_wins(toy: Path, tmp_path: Path, fmt: str) -> None:
    data = {"model": {**TOY, "nz": 4, "hidden": 8}, "trainer": {"max_steps": 2, "batch_size": 4, "log_every": 1,
                                                               "sample_every": 0, "progress": False, "keep_last": 1}}
    path = tmp_path / f"opts.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(data))
    else:
        import yaml

        path.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "trgan", "--data", "builtin:digits", "--out", str(out), "--config",
                                      str(path), "--set", "nz=6"])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["nz"] == 6 and config["hidden"] == 8 and config["image_size"] == 8
    _, state = load_checkpoint(latest_checkpoint(out / "checkpoints"))
    assert state["run"]["options"]["batch_size"] == 4 and state["run"]["max_steps"] == 2
    # the card cannot point at the options file: it records the equivalent command instead
    command = ganzoo.load(str(out)).card.data.ganzoo["trained_with"]["command"]
    assert "--config" not in command and "--set nz=6" in command and "--set hidden=8" in command
    bad = tmp_path / f"bad.{fmt}"
    bad.write_text('{"trainer": {"max_stepz": 2}}' if fmt == "json" else "trainer:\n  max_stepz: 2\n")
    result = CliRunner().invoke(cli, ["train", "trgan", "--data", "builtin:digits", "--out", str(tmp_path / "r2"),
                                      "--config", str(bad)])
    assert result.exit_code == 1 and "unknown option 'trainer.max_stepz'" in result.output
    assert "max_steps" in result.output


def test_resume_refusals(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    base = ["train", "trgan", "--data", "builtin:digits", "--out", str(out), "--batch-size", "4", *TOY_SETS,
            "--set", "progress=false", "--set", "sample_every=0"]

    nothing = CliRunner().invoke(cli, base + ["--resume"])  # nothing to resume
    assert nothing.exit_code == 1 and "has no checkpoint to resume from" in nothing.output
    assert not out.exists()
    no_length = CliRunner().invoke(cli, base)
    assert no_length.exit_code == 1 and "--max-steps" in no_length.output

    first = CliRunner().invoke(cli, base + ["--max-steps", "4", "--set", "lr_schedule=linear_decay"])
    assert first.exit_code == 0, first.output
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    again = CliRunner().invoke(cli, base + ["--max-steps", "4"])  # an existing run without --resume
    assert again.exit_code == 1 and "pass --resume" in again.output and "nothing was changed" in again.output
    horizon = CliRunner().invoke(cli, base + ["--resume", "--max-steps", "8"])
    assert horizon.exit_code == 1 and "horizon" in horizon.output and "--max-steps 4" in horizon.output
    changed = CliRunner().invoke(cli, base + ["--resume", "--set", "hidden=16"])
    assert changed.exit_code == 1 and "model config differs" in changed.output and "hidden" in changed.output
    after = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert after == before  # every refusal left the folder untouched

    other = CliRunner().invoke(cli, ["train", "trae", "--data", "builtin:digits", "--out", str(out), "--resume"])
    assert other.exit_code == 1 and "is a trgan run, not trae" in other.output


def test_api_train_routes_model_and_trainer_options(toy: Path, tmp_path: Path) -> None:
    model = ganzoo.train("trgan", "builtin:digits", out=tmp_path / "run", max_steps=2, batch_size=4, seed=3,
                         lr=1e-3, hidden=8, **TOY, **QUIET)
    assert model.config.lr == 1e-3 and model.config.hidden == 8 and not model.training
    with pytest.raises(ConfigError, match="unknown option 'max_step'"):
        ganzoo.train("trgan", "builtin:digits", out=tmp_path / "r2", max_step=2)
    built = ganzoo.build("trgan", seed=0, **TOY)
    with pytest.raises(ConfigError, match="ganzoo.build"):
        ganzoo.train(built, "builtin:digits", out=tmp_path / "r3", max_steps=1, nz=4)
    with pytest.raises(UsageError, match="already holds a run"):
        ganzoo.train(built, "builtin:digits", out=tmp_path / "run", max_steps=1)


def test_epochs_set_the_length_and_the_api_resumes_a_run(toy: Path, tmp_path: Path) -> None:
    # 1,438 training digits in whole batches of 64: 22 steps per epoch, so 0.1 epoch = ceil(2.2) = 3 steps
    t = train("trgan", tmp_path / "run", **TOY, epochs=0.1, batch_size=64, **QUIET)
    assert (t.max_steps, t.step) == (3, 3)
    # the API resumes with the run's own config (8×8 grey here) and options; a new length is allowed
    model = ganzoo.train("trgan", "builtin:digits", out=tmp_path / "run", resume=True, max_steps=5)
    assert model.config.image_size == 8 and not model.training
    assert load_checkpoint(latest_checkpoint(tmp_path / "run" / "checkpoints"))[1]["step"] == 5


# -- --out ----------------------------------------------------------------------------------------------------


def test_out_is_created_with_its_parents_and_removed_again_when_the_start_fails(toy: Path, tmp_path: Path) -> None:
    deep = tmp_path / "runs" / "mine" / "x"
    result = CliRunner().invoke(cli, ["train", "trgan", "--data", "builtin:digits", "--out", str(deep),
                                      "--max-steps", "1", "--batch-size", "4", *TOY_SETS, "--set", "progress=false"])
    assert result.exit_code == 0, result.output
    assert ganzoo.load(str(deep)).card.data.ganzoo["trained_with"]["steps"] == 1
    api = ganzoo.train("trgan", "builtin:digits", out=tmp_path / "api" / "deeper" / "run", max_steps=1, batch_size=4,
                       **TOY, **QUIET)
    assert api.config.image_size == 8 and (tmp_path / "api" / "deeper" / "run" / "config.json").is_file()
    # a run that cannot start (a batch larger than the data) leaves no folder behind
    with pytest.raises(DataError, match="too few for one step's batch"):
        ganzoo.train("trgan", "builtin:digits", out=tmp_path / "new" / "run", max_steps=1, batch_size=5000, **TOY,
                     **QUIET)
    assert not (tmp_path / "new").exists()
    # --out naming a file
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        ganzoo.train("trgan", "builtin:digits", out=tmp_path / "file", max_steps=1, **TOY, **QUIET)


# -- what people watch ---------------------------------------------------------------------------------------


def test_run_folder_has_metrics_previews_and_a_card_that_records_the_run(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "trgan-digits-test"
    command = "ganzoo train trgan --data builtin:digits --out x --max-steps 4"
    trainer = run_training("trgan", "builtin:digits", out, overrides={**TOY, "progress": False, "sample_every": 2,
                                                                       "sample_n": 9, "log_every": 2},
                           flags={"max_steps": 4, "batch_size": 4}, command=command)
    assert trainer.step == 4
    csv_lines = (out / "logs" / "metrics.csv").read_text().splitlines()
    assert csv_lines[0].split(",")[:4] == ["step", "d_real", "d_fake", "D(x)"] and len(csv_lines) == 3
    rows = [json.loads(line) for line in (out / "logs" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4] and {"g_adv", "lr_G", "lr_D", "epoch"} <= set(rows[0])
    from PIL import Image

    for name in ("step-00000002.png", "final.png"):
        with Image.open(out / "samples" / name) as im:
            assert im.size == (3 * 8 + 4 * 2, 3 * 8 + 4 * 2)  # a 3×3 grid of 8×8 samples, 2 px padding
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        pass
    else:
        assert list((out / "logs" / "tb").glob("events.out.tfevents.*"))
    model = ganzoo.load(str(out))
    trained = model.card.data.ganzoo["trained_with"]
    assert trained["command"] == command and trained["data"] == "builtin:digits" and trained["steps"] == 4
    assert trained["global_batch_size"] == 4 and trained["processes"] == 1 and trained["mixed_precision"] == "no"
    assert "cpu" in trained["hardware"] and trained["wall_time_s"] >= 0 and trained["split"] == "train"
    # builtin:digits trains on its train split: 4 of every 5 of the 1,797 digits
    assert trained["dataset_items"] == 1438 and trained["epochs"] == pytest.approx(4 * 4 / 1438, abs=1e-3)
    assert model.card.data.ganzoo["tag"] == "digits-test"
    assert not (out / ".ganzoo-train.lock").exists()  # the run lock is gone with the run


def test_the_card_of_an_api_run_records_a_command_that_repeats_it(toy: Path, tmp_path: Path) -> None:
    """Python-API training records the equivalent `ganzoo train` command, every non-default option included;
    running that command gives the same weights, byte for byte."""
    api = tmp_path / "api"
    ganzoo.train("trgan", "builtin:digits", out=api, max_steps=3, batch_size=8, seed=2, hidden=24, lr=2e-3,
                 ema_decay=0.5, d_steps=2, **TOY, **QUIET)
    command = ganzoo.load(str(api)).card.data.ganzoo["trained_with"]["command"]
    words = shlex.split(command)
    assert words[:3] == ["ganzoo", "train", "trgan"] and words[words.index("--out") + 1] == str(api)
    for expected in ("--max-steps 3", "--batch-size 8", "--seed 2", "--set hidden=24", "--set lr=0.002",
                     "--set ema_decay=0.5", "--set d_steps=2", "--set log_every=1", "--set sample_every=0"):
        assert expected in command, command
    assert "image_size" not in command and "progress" not in command  # defaults (and the progress bar) left out
    again = tmp_path / "again"
    words[words.index("--out") + 1] = str(again)
    result = CliRunner().invoke(cli, words[1:] + ["--set", "progress=false"])
    assert result.exit_code == 0, result.output
    for name in ("G.safetensors", "D.safetensors", "G_ema.safetensors"):
        assert (api / name).read_bytes() == (again / name).read_bytes(), name
    # a model given to train() is noted: the command rebuilds it from --seed, which may not be how it was made
    built = ganzoo.build("trgan", seed=7, **TOY)
    ganzoo.train(built, "builtin:digits", out=tmp_path / "built", max_steps=1, batch_size=8, **QUIET)
    trained = ganzoo.load(str(tmp_path / "built")).card.data.ganzoo["trained_with"]
    assert "ganzoo.train()" in trained["started_from"]


def test_the_card_licence_is_the_weights_licence_taken_from_the_data(tmp_path: Path) -> None:
    """builtin data carry their licence; a folder without one gives `unknown` and a note; options win; the
    plugin's code licence (toygan: Apache-2.0) is never used for the weights."""
    base = {"max_steps": 1, "batch_size": 4, **QUIET}
    ganzoo.train("toygan", "builtin:digits", out=tmp_path / "builtin", **base)
    card = ganzoo.load(str(tmp_path / "builtin")).card
    assert card.data.license == "cc-by-4.0" and card.data.ganzoo["weights_license"] == "CC-BY-4.0"
    assert card.data.ganzoo["dataset"]["name"] == "builtin:digits, train split"
    assert "UCI" in card.data.ganzoo["dataset"]["source"]

    folder = write_dataset("unconditional", tmp_path / "imgs", ImageConfig(image_size=8, channels=1), n=8)
    ganzoo.train("toygan", folder, out=tmp_path / "folder", **base)
    card = ganzoo.load(str(tmp_path / "folder")).card
    assert registry.get_plugin("toygan").license == "Apache-2.0"
    assert card.data.license == "unknown" and "weights_license" not in card.data.ganzoo
    assert "The weights' licence is unknown" in card.text and "--set dataset_license=" in card.text

    ganzoo.train("toygan", folder, out=tmp_path / "stated", dataset_license="Apache-2.0 AND BSD-3-Clause", **base)
    block = ganzoo.load(str(tmp_path / "stated")).card.data
    assert block.license == "other" and block.ganzoo["weights_license"] == "Apache-2.0 AND BSD-3-Clause"
    assert block.ganzoo["dataset"] == {"name": str(folder), "license": "Apache-2.0 AND BSD-3-Clause"}

    ganzoo.train("toygan", folder, out=tmp_path / "own", dataset_license="CC-BY-4.0", weights_license="MIT", **base)
    block = ganzoo.load(str(tmp_path / "own")).card.data
    assert block.license == "mit" and block.ganzoo["dataset_license"] == "CC-BY-4.0"


# -- the capsule on disk --------------------------------------------------------------------------------------


def test_checkpoints_are_atomic_and_pruned(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "checkpoints"
    w = {"G": {"w": torch.ones(2)}}
    state = {"epoch": 0, "batch_in_epoch": 0, "optimizers": {}, "schedulers": {}, "rng": [], "run": {}}
    for step in (1, 2, 3, 4):
        save_checkpoint(folder, step, w, {**state, "step": step}, keep_last=2)
    assert [p.name for p in list_checkpoints(folder)] == ["step-00000003", "step-00000004"]
    assert (folder / "latest").read_text().strip() == "step-00000004"

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(TrainingError, match=r"cannot write checkpoint .*step-00000005: disk full; the previous "
                                            r"checkpoint step-00000004 is intact"):
        save_checkpoint(folder, 5, w, {**state, "step": 5}, keep_last=2)
    monkeypatch.undo()
    assert latest_checkpoint(folder).name == "step-00000004"  # the previous checkpoint survives
    assert sorted(p.name for p in folder.iterdir()) == ["latest", "step-00000003", "step-00000004"]  # no debris
    weights_, loaded = load_checkpoint(latest_checkpoint(folder))
    assert loaded["step"] == 4 and torch.equal(weights_["G"]["w"], torch.ones(2))
    # a pointer to a missing folder (a crash between rename and pointer) falls back to the newest complete one
    (folder / "latest").write_text("step-00000009\n")
    assert latest_checkpoint(folder).name == "step-00000004"
    with pytest.raises(TrainingError, match="not a complete checkpoint"):
        load_checkpoint(folder / "nope")


def test_metric_logger_drops_rows_past_the_resumed_checkpoint(tmp_path: Path) -> None:
    from ganzoo.training.loggers import MetricLogger

    log = MetricLogger(tmp_path, tensorboard=False)
    for step in range(1, 11):
        log.log(step, {"loss": float(step)})
    log.close()
    log = MetricLogger(tmp_path, tensorboard=False, resume_step=6)
    log.log(7, {"loss": 70.0, "new": 1.0})  # a new column widens the CSV
    log.close()
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6, 7] and rows[-1]["loss"] == 70.0
    csv_lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert csv_lines[0] == "step,loss,new" and csv_lines[-1] == "7,70.0,1.0" and len(csv_lines) == 8



def test_docs_training_lists_every_trainer_option_with_its_default() -> None:
    import dataclasses
    import re

    from ganzoo.training.options import TrainerOptions

    text = (Path(__file__).resolve().parents[1] / "docs" / "training.md").read_text()
    documented = {k: v.strip() for k, v in re.findall(r"^\| `(\w+)` \| ([^|]+) \|", text, flags=re.M)}

    def shown(v) -> str:
        return "none" if v is None else ("true" if v else "false") if isinstance(v, bool) else str(v)

    fields = dataclasses.fields(TrainerOptions)
    assert list(documented) == [f.name for f in fields]
    assert all(documented[f.name] == shown(f.default) for f in fields)
