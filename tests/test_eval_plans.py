"""Evaluation plans: ``ganzoo eval`` asks the task's plan (generation, paired and unpaired translation), built-in
data with its splits, the translation baselines (identity, colour transfer) measured beside the model and written
into cards, refusals, the CLI's options, and the plan interface itself driven by a non-image plan.

Core tests: only the toy plugins of tests/toyzoo (``GANZOO_DISABLE_PLUGINS='ganzoo-*'`` passes)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
import yaml
from click.testing import CliRunner

import ganzoo
from ganzoo.cards import read_card_info, split_front_matter
from ganzoo.cli import cli
from ganzoo.errors import DataError, UsageError
from ganzoo.metrics import (
    METRICS,
    Baseline,
    EvalPlan,
    MetricInfo,
    MetricResult,
    PixelMetrics,
    evaluate,
    quantize,
    write_card_metrics,
)
from ganzoo.metrics.registry import parse_metrics, register_metric
from ganzoo.metrics.translation import ColourTransferBaseline, IdentityBaseline, to_channels
from ganzoo.tasks import TASKS, get_task

N_TEST = 359  # scikit-learn's 1,797 digits, i % 5 == 4


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))


def _manual_pixels(task: str, data: str, cfg: Any, split: str = "test") -> dict[str, float]:
    """PSNR/SSIM/L1 of the untranslated inputs against the targets, computed here from the built-in pairs."""
    ds = get_task(task).dataset(cfg, data, split=split, augment=False)
    a = torch.stack([ds[i]["A"] for i in range(len(ds))])
    b = torch.stack([ds[i]["B"] for i in range(len(ds))])
    acc = PixelMetrics(cfg.image_size)
    acc.update(quantize(a), b)
    return {k: v for k, (v, _) in acc.compute().items()}


# ---------------------------------------------------------------------------------------------------------
# translation on built-in data, beside the baselines


def test_paired_builtin_digit_edges_with_baselines():
    model = ganzoo.build("toypair", image_size=16, seed=0).eval()
    report = evaluate(model, "builtin:digit-edges", batch_size=128, name="toypair-edges")
    assert [r.name for r in report.results] == ["psnr", "ssim", "l1", "kid", "fid"]
    p = report.protocol
    assert p["split"] == "test" and p["reference_count"] == N_TEST and p["n_generated"] == N_TEST
    assert p["extractor"] == "digits" and "--split test" in p["command"] and "builtin:digit-edges" in p["command"]
    assert [b.name for b in report.baselines] == ["identity", "colour-transfer"]
    identity = report.baseline("identity")
    assert [r.name for r in identity.results] == ["psnr", "ssim", "l1", "kid", "fid"]
    manual = _manual_pixels("paired-translation", "builtin:digit-edges", model.config)
    for k in ("psnr", "ssim", "l1"):
        assert identity[k].value == pytest.approx(manual[k], rel=1e-6)
    for r in identity.results:
        assert r.protocol["baseline"] == "identity" and r.protocol["sampling"].startswith("identity")
        assert r.protocol["reference_fingerprint"] == report["kid"].protocol["reference_fingerprint"]
    ct = report.baseline("colour-transfer")
    assert "from 1438 training targets (train split)" in ct["kid"].protocol["baseline_fit"]
    assert ct["l1"].value != identity["l1"].value
    # another split is honoured, and said so
    train = evaluate(model, "builtin:digit-edges", split="train", n=40, metrics="psnr,kid", baselines=False)
    assert train.protocol["split"] == "train" and train.protocol["reference_count"] == 40
    assert "--split train" in train.protocol["command"] and train.baselines == []


def test_unpaired_builtin_digit_bold_knows_its_test_pairs():
    model = ganzoo.build("toyunpair", image_size=16, seed=0).eval()
    report = evaluate(model, "builtin:digit-bold", n=60, name="toyunpair-bold")
    assert [r.name for r in report.results] == ["psnr", "ssim", "l1", "kid", "fid"]
    assert report.protocol["n_generated"] == 60 and report.protocol["reference_count"] == N_TEST
    assert report.protocol["sampling"].startswith("translate every A image of builtin:digit-bold (split test)")
    identity = report.baseline("identity")
    assert identity["psnr"].protocol["pairs"] == 60
    full = evaluate(model, "builtin:digit-bold", metrics="psnr,ssim,l1", batch_size=400)
    manual = _manual_pixels("unpaired-translation", "builtin:digit-bold", model.config)
    for k in ("psnr", "ssim", "l1"):
        assert full.baseline("identity")[k].value == pytest.approx(manual[k], rel=1e-6)
    # the train split is shuffled apart: no pairs, so no pixel metrics by default, a clear refusal on request
    train = evaluate(model, "builtin:digit-bold", split="train", n=40, baselines=False)
    assert [r.name for r in train.results] == ["kid", "fid"]
    with pytest.raises(UsageError, match="known pairs; builtin:digit-bold holds them in its test split only"):
        evaluate(model, "builtin:digit-bold", split="train", metrics="psnr")


def test_unpaired_folder_pairs_by_name(tmp_path):
    from ganzoo.testing import write_dataset

    model = ganzoo.build("toyunpair", image_size=8, seed=0).eval()
    data = write_dataset("unpaired-translation", tmp_path / "un", model.config, n=12)
    for side in "AB":
        (data / f"train{side}").rename(data / f"test{side}")
    report = evaluate(model, data, extractor="digits")  # names match, but only asked pixel metrics trust them
    assert [r.name for r in report.results] == ["kid", "fid"]
    assert "reference images" in report.baseline("colour-transfer")["kid"].protocol["baseline_fit"]
    paired = evaluate(model, data, metrics="psnr,l1", baselines=False)
    assert paired["psnr"].protocol["pairs"] == 12
    (data / "testB" / "0003.png").rename(data / "testB" / "other.png")
    with pytest.raises(UsageError, match="1 of the 12 testA/ names have no testB/ twin"):
        evaluate(model, data, metrics="psnr")


def test_translation_eval_cli_and_card(tmp_path):
    folder = ganzoo.build("toypair", image_size=16, seed=0).eval().save_pretrained(tmp_path / "toypair")
    runner = CliRunner()
    res = runner.invoke(cli, ["eval", str(folder), "--data", "builtin:digit-edges", "-n", "40", "--write-card"])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.output.splitlines() if not line.startswith("Warning: FID")]
    assert "split test" in lines[0] and lines[1].split() == ["metric", "value", "±", "std", "identity",
                                                             "colour-transfer"]
    assert any(line.startswith("baseline colour transfer") and "train split" in line for line in lines)
    (cmd,) = [line for line in lines if line.startswith("reproduce: ")]
    assert "--split test" in cmd and " -n 40 " in cmd
    text = (folder / "README.md").read_text()
    assert "Beside trivial baselines" in text and "| metric | model | identity | colour-transfer |" in text
    info = read_card_info(text)
    assert sum(1 for m in info.metrics if m["protocol"].get("baseline") == "identity") == 5
    meta = yaml.safe_load(split_front_matter(text)[0])
    assert len(meta["model-index"][0]["results"][0]["metrics"]) == 5  # the model's own numbers only
    write_card_metrics(folder, evaluate(str(folder), "builtin:digit-edges", n=40))  # replaces, not appends
    assert len(read_card_info((folder / "README.md").read_text()).metrics) == 15
    # the hidden old spelling --n still works and means the same; two disagreeing counts are refused
    res = runner.invoke(cli, ["eval", str(folder), "--data", "builtin:digit-edges", "--n", "40", "--json",
                              "--no-baselines", "--metrics", "l1"])
    out = json.loads(res.output)
    assert out["protocol"]["n_generated"] == 40 and out["baselines"] == []
    res = runner.invoke(cli, ["eval", str(folder), "--data", "builtin:digit-edges", "-n", "40", "--n", "41"])
    assert res.exit_code == 1 and "disagree" in res.output


# ---------------------------------------------------------------------------------------------------------
# generation on built-in data


def test_builtin_split_is_honoured_for_generation():
    model = ganzoo.build("toygan", image_size=16, seed=0).eval()
    test = evaluate(model, "builtin:digits", metrics="kid", n=50)
    train = evaluate(model, "builtin:digits", split="train", metrics="kid", n=50)
    assert (test.protocol["split"], test.protocol["reference_count"]) == ("test", N_TEST)
    assert (train.protocol["split"], train.protocol["reference_count"]) == ("train", 1797 - N_TEST)
    assert test.protocol["reference_fingerprint"] != train.protocol["reference_fingerprint"]
    assert "--split train" in train.protocol["command"] and test.baselines == []


def test_reconstruction_and_conditional_defaults():
    ae = ganzoo.build("toyae", image_size=16, seed=0).eval()
    report = evaluate(ae, "builtin:digits", n=50)
    assert [r.name for r in report.results] == ["kid", "fid", "precision", "recall", "is", "coverage", "psnr",
                                                 "ssim", "l1"]
    assert report["psnr"].protocol["pairs"] == N_TEST
    cond = ganzoo.build("toycond", image_size=16, seed=0).eval()  # 3 labels: not the digit classifier's 10
    assert [r.name for r in evaluate(cond, "builtin:digits", n=60, name="toycond").results] == [
        "kid", "fid", "precision", "recall", "is", "coverage", "kid_per_class"]
    with pytest.raises(UsageError, match="accuracy uses the shipped 10-class digit classifier; toycond has 3"):
        evaluate(cond, "builtin:digits", metrics="accuracy", name="toycond")


# ---------------------------------------------------------------------------------------------------------
# refusals


def test_foreign_builtin_data_is_refused_in_one_line(tmp_path):
    pair = ganzoo.build("toypair", image_size=8).eval()
    with pytest.raises(DataError, match=r"builtin:digits is not a dataset for paired-translation models; they read "
                                        r"builtin:digit-edges, or a folder in their layout: aligned pairs"):
        evaluate(pair, "builtin:digits")
    gan = ganzoo.build("toygan", image_size=8).eval()
    with pytest.raises(DataError, match="they read builtin:digits"):
        evaluate(gan, "builtin:digit-bold")
    folder = ganzoo.build("toyunpair", image_size=8).save_pretrained(tmp_path / "toyunpair")
    res = CliRunner().invoke(cli, ["eval", str(folder), "--data", "builtin:digit-edges"])
    assert res.exit_code == 1 and res.output.startswith("Error: builtin:digit-edges is not a dataset for unpaired")
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


def test_task_without_plan_is_refused(monkeypatch):
    model = ganzoo.build("toyvideo").eval()
    monkeypatch.setattr(type(model.task), "eval_plan", lambda self: None)
    planned = [t.name for t in TASKS.values() if t.eval_plan()]
    with pytest.raises(UsageError, match="no evaluation plan for video-prediction models .*" + ", ".join(planned)):
        evaluate(model, "data/video")


# ---------------------------------------------------------------------------------------------------------
# baselines and the registry


def test_colour_transfer_matches_target_statistics():
    target = [{"B": torch.full((3, 4, 4), v)} for v in (-0.2, 0.0, 0.2, 0.4)]

    class Stub:
        channels = 3
        request = type("R", (), {"batch_size": 3})()

        def target_statistics_source(self):
            return target, "B", "stub targets"

    ct = ColourTransferBaseline()
    note = ct.fit(Stub())["baseline_fit"]
    assert "from 4 stub targets" in note
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 0.3
    out = ct(x).double()
    want_std = torch.tensor([0.2, 0.4, 0.6, 0.8]).var(unbiased=False).sqrt() / 2 * 2
    torch.testing.assert_close(out.mean(dim=(2, 3)), torch.full((2, 3), 0.1, dtype=torch.float64), atol=1e-5,
                               rtol=0)
    torch.testing.assert_close(out.std(dim=(2, 3), unbiased=False), torch.full((2, 3), float(want_std),
                                                                                dtype=torch.float64), atol=1e-5, rtol=0)
    flat = ct(torch.zeros(1, 3, 4, 4))
    assert torch.allclose(flat, torch.full_like(flat, 0.1))


def test_identity_converts_channels_like_pil():
    from PIL import Image

    from ganzoo.data import to_tensor

    rgb = torch.randint(0, 256, (5, 7, 3), dtype=torch.uint8).numpy()
    x = to_tensor(Image.fromarray(rgb))[None]
    grey = to_tensor(Image.fromarray(rgb).convert("L"))[None]
    assert (to_channels(x, 1) - grey).abs().max() <= 1 / 127.5 + 1e-6  # PIL rounds to 8 bits
    ident = IdentityBaseline()
    ident.fit(type("P", (), {"channels": 3})())
    assert ident(grey).shape == (1, 3, 5, 7) and torch.equal(ident(x), x)


def test_registry():
    assert "unconditional" in METRICS["kid"].tasks and METRICS["accuracy"].tasks == ("class-conditional",)
    assert "unpaired-translation" in METRICS["psnr"].tasks and METRICS["pr"].result_names() == ("precision",
                                                                                                "recall")
    assert parse_metrics(" KID, fid,kid ") == ["kid", "fid"] and parse_metrics("") is None
    with pytest.raises(ValueError, match="already registered"):
        register_metric(MetricInfo("kid", "another kid", "features", False))


# ---------------------------------------------------------------------------------------------------------
# the plan interface, driven by a plan that is not about images (what an audio or video plan plugs in)


class NoisyInput(Baseline):
    name = "noisy-input"
    description = "the noisy input, unchanged"

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs


class MsePlan(EvalPlan):
    """Mean squared error of enhanced against clean waveforms of a synthetic batch, beside the noisy input."""

    baselines = (NoisyInput,)

    def prepare(self, names: list[str], extractor: Any) -> None:
        self.batch = self.task.example_batch(self.config, 6, seed=self.request.seed)
        self.n_generated = 6

    def measure(self, baseline: Baseline | None = None) -> float:
        noisy, clean = self.batch["noisy"], self.batch["clean"]
        with torch.no_grad():
            out = self.model.sample(condition=noisy, seed=0) if baseline is None else baseline(noisy)
        return float(((out - clean) ** 2).mean())

    def score(self, measured: float, protocol: dict[str, Any]) -> list[MetricResult]:
        return [MetricResult("mse_test", measured, None, {}, dict(protocol))]

    def protocol(self) -> dict[str, Any]:
        return {"extractor": None, "reference": self.request.data, "split": self.request.split,
                "reference_count": 6, "n_generated": 6, "seed": self.request.seed, "sampling": "enhance"}


def test_plan_interface_with_a_non_image_plan(monkeypatch):
    task = type(TASKS["speech-enhancement"])
    monkeypatch.setitem(METRICS, "mse_test", MetricInfo("mse_test", "test MSE", "waveforms", False))
    monkeypatch.setattr(task, "metrics", ("mse_test",))
    monkeypatch.setattr(task, "eval_plan", lambda self: f"{__name__}:MsePlan")
    report = evaluate(ganzoo.build("toyspeech", seed=0).eval(), "synthetic", name="toyspeech")
    assert [r.name for r in report.results] == ["mse_test"] and report.task == "speech-enhancement"
    (noisy,) = report.baselines
    assert noisy.name == "noisy-input" and noisy["mse_test"].protocol["baseline"] == "noisy-input"
    assert noisy["mse_test"].value == pytest.approx(0.01, rel=0.2)  # the noise's variance
    assert report.protocol["command"].endswith("--metrics mse_test -n 6 --seed 0 --batch-size 64")
    data = report.to_dict()
    assert data["baselines"][0]["metrics"][0]["protocol"] == {"sampling": "the noisy input, unchanged",
                                                              "baseline": "noisy-input"}
    with pytest.raises(UsageError, match="kid does not apply to toyspeech"):
        evaluate(ganzoo.build("toyspeech").eval(), "synthetic", metrics="kid", name="toyspeech")


def test_eval_help_is_consistent():
    from ganzoo.cli.evaluate import evaluate as command

    res = CliRunner().invoke(cli, ["eval", "--help"])
    assert res.exit_code == 0 and "-n, --num" in res.output and "builtin:digit-edges" in res.output
    assert "--n " not in res.output.replace("--n-real", "")
    for param in command.params:
        if hasattr(param, "hidden") and not param.hidden and param.param_type_name == "option":
            assert param.help, f"{param.name} has no help"
            assert "[" not in param.help, f"{param.name}: defaults go in show_default"


def test_metric_names_for():
    from ganzoo.metrics import metric_names_for

    pair, unpair = ganzoo.build("toypair").eval(), ganzoo.build("toyunpair").eval()
    assert metric_names_for(pair, "digits") == ["psnr", "ssim", "l1", "kid", "fid"]
    assert metric_names_for(unpair, "digits") == ["kid", "fid"]
    assert metric_names_for(unpair, "digits", data="builtin:digit-bold") == ["psnr", "ssim", "l1", "kid", "fid"]
    assert metric_names_for(ganzoo.build("toygan").eval(), "digits") == ["kid", "fid", "pr", "is", "coverage"]
    assert metric_names_for(ganzoo.build("toyvideo").eval(), "digits") == ["mse", "psnr", "ssim", "frame_sharpness",
                                                                           "sharp_diff", "kid"]
    assert "kid" in metric_names_for(ganzoo.build("toydomain").eval(), "digits")  # multi-domain: MultiDomainPlan
