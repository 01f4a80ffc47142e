"""The declared plugin contract and the task objects, on the toy plugins (one per task kind; no built-in plugin).

* every toy passes the public conformance kit, the trainer included;
* every task writes its own outputs (PNG grid, translated images, a row per domain, WAV, GIF);
* validate_impl catches misspelt hooks, bad signatures, overridden helpers, configs off the task's base, and
  ``ganzoo doctor`` reports them;
* the core derives sample() from latent + generate, refuses unknown sample options and conditions for
  unconditional models.
"""

from __future__ import annotations

import textwrap
import wave
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import ganzoo
from ganzoo import registry
from ganzoo.cli import cli
from ganzoo.errors import PluginValidationError, UsageError
from ganzoo.impl import GanImpl, validate_impl
from ganzoo.tasks import TASKS
from ganzoo.testing import check_plugin

TOYS = {"unconditional": "toygan", "class-conditional": "toycond", "reconstruction": "toyae",
        "paired-translation": "toypair", "unpaired-translation": "toyunpair", "multi-domain-translation": "toydomain",
        "speech-enhancement": "toyspeech", "video-prediction": "toyvideo"}


def test_every_task_kind_has_a_toy() -> None:
    assert set(TOYS) == set(TASKS)
    assert {r.name for r in registry.list_plugins()} >= set(TOYS.values())


@pytest.mark.parametrize("task", sorted(TOYS))
def test_toy_conforms(task: str, tmp_path: Path) -> None:
    """Discovery, contract, build, one step of each phase, two trainer steps, sample, save → load, card."""
    report = check_plugin(TOYS[task], tmp_path=tmp_path)
    latent = ["latent"] if task in ("unconditional", "class-conditional") else []
    assert report.passed == ["discovery", "contract", "config", "build", "losses", "gradients", "trainer", "sample",
                             *latent, "round trip", "card"]
    previews = list((tmp_path / "run" / "samples").iterdir())
    suffix = {"speech-enhancement": ".wav", "video-prediction": ".gif"}.get(task, ".png")
    assert previews and all(p.suffix == suffix for p in previews)


# -- writers, through the CLI -------------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path: Path):
    def make(name: str) -> Path:
        model = ganzoo.build(name, seed=0)
        return model.save_pretrained(tmp_path / name)
    return make


def _wav(path: Path, x: np.ndarray, sr: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def test_unconditional_and_conditional_write_grids(saved, tmp_path: Path) -> None:
    run = CliRunner().invoke
    res = run(cli, ["sample", str(saved("toygan")), "-n", "4", "-o", str(tmp_path / "g.png")])
    assert res.exit_code == 0, res.output
    assert Image.open(tmp_path / "g.png").size == (2 * 8 + 3 * 2, 2 * 8 + 3 * 2)
    res = run(cli, ["sample", str(saved("toycond")), "--condition", "all", "-n", "2", "-o", str(tmp_path / "c.png")])
    assert res.exit_code == 0, res.output
    # a label given to an unconditional model, and an output the task cannot write: one line each
    res = run(cli, ["sample", str(saved("toygan")), "--condition", "3", "-o", str(tmp_path / "x.png")])
    assert res.exit_code == 1 and "class labels of a class-conditional model" in res.output
    res = run(cli, ["sample", str(saved("toygan")), "-o", str(tmp_path / "x.xyz")])
    assert res.exit_code == 1 and "use .png or .jpg or .jpeg" in res.output and not (tmp_path / "x.xyz").exists()


def test_multi_domain_writes_a_row_per_domain(saved, tmp_path: Path) -> None:
    folder = saved("toydomain")
    Image.fromarray(np.full((8, 8), 128, np.uint8)).save(tmp_path / "in.png")
    run = CliRunner().invoke
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "in.png"), "--domain", "all",
                    "-o", str(tmp_path / "rows.png")])
    assert res.exit_code == 0, res.output
    assert Image.open(tmp_path / "rows.png").size == (4 * 8 + 5 * 2, 8 + 2 * 2)  # input + 3 domains
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "in.png"), "--domain", "green",
                    "-o", str(tmp_path / "g.png")])
    assert res.exit_code == 0 and Image.open(tmp_path / "g.png").size == (8, 8)
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "in.png"), "--domain", "purple",
                    "-o", str(tmp_path / "p.png")])
    assert res.exit_code == 1 and "unknown domain 'purple'; domains: red, green, blue" in res.output
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "in.png"), "-o", str(tmp_path / "n.png")])
    assert res.exit_code == 1 and "--domain NAME|INDEX or --domain all" in res.output


def test_speech_enhancement_reads_and_writes_wav(saved, tmp_path: Path) -> None:
    folder = saved("toyspeech")
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    for name, length in (("a.wav", 3000), ("b.wav", 500)):
        _wav(tmp_path / "in" / name, 0.1 * rng.standard_normal(length), 8000)
    run = CliRunner().invoke
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "in" / "a.wav"), "-o", str(tmp_path / "a.wav")])
    assert res.exit_code == 0, res.output
    with wave.open(str(tmp_path / "a.wav")) as w:
        assert (w.getframerate(), w.getnframes(), w.getnchannels()) == (8000, 3000, 1)
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "in"), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0 and sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.wav", "b.wav"]
    _wav(tmp_path / "fast.wav", 0.1 * rng.standard_normal(100), 16000)  # resampled through the model's 8 kHz
    res = run(cli, ["sample", str(folder), "--input", str(tmp_path / "fast.wav"), "-o", str(tmp_path / "f.wav")])
    assert res.exit_code == 0, res.output
    with wave.open(str(tmp_path / "f.wav")) as w:
        assert (w.getframerate(), w.getnframes(), w.getnchannels()) == (16000, 100, 1)
    res = run(cli, ["sample", str(folder), "-o", str(tmp_path / "x.wav")])
    assert res.exit_code == 1 and "give --input PATH" in res.output


def test_video_prediction_writes_a_gif(saved, tmp_path: Path) -> None:
    folder = saved("toyvideo")
    frames = tmp_path / "clip"
    frames.mkdir()
    for i in range(3):
        Image.fromarray(np.roll(np.eye(8, dtype=np.uint8) * 255, i, axis=1)).save(frames / f"{i:03d}.png")
    res = CliRunner().invoke(cli, ["sample", str(folder), "--input", str(frames), "-o", str(tmp_path / "v.gif")])
    assert res.exit_code == 0, res.output
    with Image.open(tmp_path / "v.gif") as im:
        assert im.n_frames == 4  # the 2 context frames + 2 predicted
    (frames / "002.png").unlink()
    (frames / "001.png").unlink()
    res = CliRunner().invoke(cli, ["sample", str(folder), "--input", str(frames), "-o", str(tmp_path / "w.gif")])
    assert res.exit_code == 1 and "has 1 frames" in res.output and "needs at least 2" in res.output


# -- what the core derives and refuses ---------------------------------------------------------------------


def test_core_derives_sample_from_latent_and_generate() -> None:
    model = ganzoo.build("toygan", seed=0).eval()
    z = model.impl.latent(model, 5, seed=3)
    assert torch.equal(model.sample(5, seed=3), model.impl.generate(model, z))
    assert model.impl.sample_options() == frozenset()
    with pytest.raises(UsageError, match=r"toygan.sample\(\) has no option 'batch_sise'"):
        model.sample(2, batch_sise=4)
    with pytest.raises(UsageError, match="takes no condition"):
        model.sample(2, condition=torch.tensor([1, 2]))
    pair = ganzoo.build("toypair", seed=0).eval()
    with pytest.raises(UsageError, match=r"no option 'batch_sise' \(did you mean batch_size\?\)"):
        pair.sample(condition=torch.zeros(1, 1, 8, 8), batch_sise=4)
    with pytest.raises(UsageError, match="needs an input"):
        pair.sample(2)


def test_capabilities_are_answered_by_the_contract() -> None:
    gan, ae = ganzoo.build("toygan").impl, ganzoo.build("toyae").impl
    assert gan.supports("latent") and gan.supports("discriminate") and gan.supports("adversarial")
    assert not ae.supports("latent") and ae.supports("train_step") and not ae.supports("adversarial")
    with pytest.raises(KeyError):
        gan.supports("lattent")


def _impl(body: str, base: str = "GanImpl") -> type:
    ns: dict = {"GanImpl": GanImpl, "torch": torch}
    exec(textwrap.dedent(f'''
        class Impl({base}):
            def build(self, config):
                return None
            def sample(self, model, n=None, *, condition=None, seed=None):
                return None
            def train_step(self, model, batch, step):
                return {{}}
    ''') + textwrap.indent(textwrap.dedent(body), "    "), ns)
    return ns["Impl"]


@pytest.mark.parametrize("body,message", [
    ("def discriminator_los(self, model, batch):\n    return {}",
     "discriminator_los is not a ganzoo hook; did you mean discriminator_loss?"),
    ("def previw(self, model, dataset, stem, *, n=64, seed=0):\n    return None", "did you mean preview?"),
    ("phase_ordr = ('G', 'D')", "did you mean phase_order?"),
    ("def discriminate(self, model, images):\n    return images", "does not accept the keyword 'condition'"),
    ("def latent(self, model):\n    return None\ndef generate(self, model, z, *, condition=None):\n    return z",
     "takes 1 positional argument(s)"),
    ("def generate(self, model, z, *, condition=None):\n    return z", "latent() and generate() together"),
    ("def noise(self, n, shape, *, seed=None, device='cpu'):\n    return None", "overrides the helper noise()"),
    ("def discriminator_loss(self, model, batch):\n    return {}", "but not generator_loss()"),
    ("phase_order = ('D', 'D')", "phase_order must be"),
    ("train_defaults = {'batch_sise': 4}", "unknown trainer options ['batch_sise']"),
    ("def sample(self, model, n=None, *, condition=None, seed=None, **kw):\n    return None",
     "declare each sampling option"),
])
def test_validate_impl_names_the_problem(body: str, message: str) -> None:
    with pytest.raises(PluginValidationError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]").replace("?", r"\?")):
        validate_impl("bad", _impl(body))


def test_helpers_and_private_names_are_fine() -> None:
    validate_impl("good", _impl("def encode(self, model, x):\n    return x\ndef _discriminator_los(self):\n    pass"))


def test_doctor_reports_a_misspelt_hook_and_a_config_off_its_base(fake_site) -> None:
    model = textwrap.dedent('''
        from dataclasses import dataclass
        from toyzoo.model import ToyGan, ToyGanConfig

        class Misspelt(ToyGan):
            def generator_los(self, model, batch):
                return {}

        @dataclass
        class Loose:
            image_size: int = 8
    ''')
    spec = textwrap.dedent('''
        from ganzoo import Plugin
        misspelt = Plugin(name="misspelt", task="unconditional", summary="x", paper="https://x.org",
                          config="fake_bad.model:ToyGanConfig", impl="fake_bad.model:Misspelt", components=("G", "D"))
        loose = Plugin(name="loose", task="unconditional", summary="x", paper="https://x.org",
                       config="fake_bad.model:Loose", impl="toyzoo.model:ToyGan", components=("G", "D"))
    ''')
    fake_site.add("fake-bad", entry_points={"misspelt": "fake_bad:misspelt", "loose": "fake_bad:loose"},
                  modules={"fake_bad/__init__.py": spec, "fake_bad/model.py": model})
    res = CliRunner().invoke(cli, ["doctor"])
    assert res.exit_code == 1
    assert "FAIL misspelt" in res.output and "generator_los is not a ganzoo hook; did you mean generator_loss?" \
        in res.output
    assert "FAIL loose" in res.output and "must derive from ganzoo.config.ImageConfig" in res.output
    with pytest.raises(PluginValidationError, match="generator_los"):
        ganzoo.build("misspelt")


def test_play_is_declared_on_every_task_and_refused_without_actions():
    """`--play` asks the task (no probing): a task without actions refuses it in one line."""
    import ganzoo
    from ganzoo.errors import UsageError

    model = ganzoo.build("toygan").eval()
    with pytest.raises(UsageError, match=r"^toygan is unconditional: --play rolls out action-conditioned video"):
        model.task.play(model, "LR", "x.gif")
