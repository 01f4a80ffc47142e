"""The image-to-image demos trained here (issue 4) — none is bundled at present: pix2pix-openmoji-line2color lost
to identity on SSIM, cyclegan-noto2twemoji on KID (docs/i2i.md, docs/unsupervised.md). A bundled demo loads offline,
translate any image size, and their cards carry the measured metrics with protocols, the training command and
the data's licence; and the rule benchmarks/eval_i2i.py applies before bundling one (it must beat every trivial
baseline). No data is downloaded: the inputs are synthetic."""

from __future__ import annotations

import pytest
import torch

import ganzoo
from ganzoo.registry import list_models

DEMOS = {
    # id: (the metrics the card must hold, the dataset licence it must name, the weights licence)
}


def _entry(model_id: str):
    from conftest import builtin_plugin

    builtin_plugin(model_id.split("-", 1)[0])
    entries = {e.id: e for e in list_models()}
    assert model_id in entries, f"{model_id} is not listed: is cards/{model_id}/ installed (pip install -e .)?"
    return entries[model_id]


def _synthetic(h: int, w: int) -> torch.Tensor:
    """A white canvas with a black ring and a filled disc: emoji-like line art at an odd size, in [-1, 1]."""
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    r = (xx ** 2 + yy ** 2).sqrt()
    img = torch.ones(3, h, w)
    img[:, (r > 0.7) & (r < 0.8)] = -1.0
    img[0, r < 0.3] = 0.8
    img[1:, r < 0.3] = -0.6
    return img[None]


@pytest.mark.parametrize("model_id", sorted(DEMOS))
def test_demo_is_bundled_and_translates_any_size(model_id, offline):
    entry = _entry(model_id)
    assert entry.bundled, f"{model_id} should ship its weights"
    model = ganzoo.load(model_id)
    x = _synthetic(37, 53)
    directions = ("AtoB", "BtoA") if model.plugin.name == "cyclegan" else (None,)
    for direction in directions:
        kwargs = {"direction": direction} if direction else {}
        y = model.sample(condition=x, seed=0, **kwargs)
        assert y.shape == x.shape, (direction, y.shape)
        assert torch.isfinite(y).all() and y.min() >= -1 and y.max() <= 1
        assert (y - x).abs().mean() > 0.01, "a trained translator changes its input"
    kw = {"direction": "AtoB"} if directions[0] else {}
    assert torch.equal(model.sample(condition=x, seed=0, **kw), model.sample(condition=x, seed=0, **kw)), \
        "a fixed seed gives the same output"


@pytest.mark.parametrize("model_id", sorted(DEMOS))
def test_demo_card_records_training_data_licence_and_metrics(model_id):
    wanted, data_licence, weights_licence = DEMOS[model_id]
    card = _entry(model_id).card
    block = card.metadata["ganzoo"]
    assert card.license == weights_licence and card.weights_license == weights_licence
    assert data_licence in block["dataset"]["license"] and "scripts/fetch_emoji.py" in block["dataset"]["source"]
    trained = block["trained_with"]
    assert trained["command"].startswith(f"ganzoo train {card.plugin} --data data/")
    assert trained["steps"] == trained["max_steps"] > 1000 and trained["wall_time_s"] > 0
    by_name = {m["name"]: m for m in card.metrics}
    assert wanted <= set(by_name), sorted(by_name)
    for name in wanted:
        m = by_name[name]
        proto = m["protocol"]
        data = "openmoji-line2color" if card.plugin == "pix2pix" else "emoji-noto2twemoji"
        assert proto["reference"] == f"data/{data}"
        assert proto["split"] == "test" and proto["n_generated"] > 100 and proto["seed"] == 0
        assert proto["command"] and proto["weights_sha256"]
        if name.startswith("kid"):
            assert proto["extractor"] == "effnet" and proto["extractor_sha256"]
        else:
            assert 0 <= m["value"] < 100 and proto["pairs"] == proto["n_generated"]


def _benchmark():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "benchmarks" / "eval_i2i.py"
    spec = importlib.util.spec_from_file_location("eval_i2i", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _report(model: dict, baselines: dict):
    """An EvalReport with the given model values and {baseline: {metric: value}}."""
    from ganzoo.metrics.report import BaselineResult, EvalReport, MetricResult

    def results(values):
        return [MetricResult(name=k, value=v) for k, v in values.items()]

    return EvalReport(model="m", plugin="pix2pix", task="paired-translation", results=results(model), protocol={},
                      timings={}, cache={}, baselines=[BaselineResult(name=b, description=b, results=results(v))
                                                       for b, v in baselines.items()])


def test_bundling_rule_names_every_metric_a_demo_loses_or_ties_on():
    mod = _benchmark()
    names, bases = ("psnr", "ssim", "l1", "kid"), ("identity", "colour-transfer")
    base = {"identity": {"psnr": 16.31, "ssim": 0.9098, "l1": 0.0659, "kid": 0.069},
            "colour-transfer": {"psnr": 15.94, "ssim": 0.9085, "l1": 0.1012, "kid": 0.063}}
    winner = _report({"psnr": 17.6, "ssim": 0.92, "l1": 0.06, "kid": 0.03}, base)
    assert mod.shortfalls(winner, names, bases) == []
    # higher-is-better and lower-is-better both count, and a tie is not a win
    loser = _report({"psnr": 17.6, "ssim": 0.8922, "l1": 0.0659, "kid": 0.03}, base)
    assert mod.shortfalls(loser, names, bases) == [
        "ssim 0.8922 vs identity 0.9098", "ssim 0.8922 vs colour-transfer 0.9085", "l1 0.0659 vs identity 0.0659"]
    with pytest.raises(KeyError, match="colour-transfer"):
        mod.shortfalls(loser, names, ("colour-transfer", "nope"))


def test_make_cards_does_not_bundle_a_demo_that_loses(tmp_path, monkeypatch, capsys):
    """--make-cards measures a gated demo's run folder first and writes no card when it loses a metric."""
    import ganzoo.metrics

    mod = _benchmark()
    mid = "pix2pix-openmoji-line2color"
    assert set(mod.MODELS[mid]["must_beat"]) == {"identity", "colour-transfer"}
    base = {"identity": {"psnr": 16.3, "ssim": 0.91, "l1": 0.066, "kid": 0.069},
            "colour-transfer": {"psnr": 15.9, "ssim": 0.908, "l1": 0.10, "kid": 0.063}}
    seen = []

    def fake_evaluate(folder, data, **kw):
        seen.append((folder, data, kw["metrics"], kw["seed"], kw["extractor"]))
        return _report({"psnr": 17.6, "ssim": 0.8922, "l1": 0.0616, "kid": 0.035}, base)

    monkeypatch.setattr(ganzoo.metrics, "evaluate", fake_evaluate)
    monkeypatch.setattr(mod, "ROOT", tmp_path)
    monkeypatch.chdir(tmp_path)  # main() changes into ROOT; restored afterwards
    assert mod.main(["--make-cards", "--only", mid, "--out", str(tmp_path / "results")]) == 0
    assert seen == [(str(tmp_path / mod.MODELS[mid]["run"]), str(tmp_path / mod.MODELS[mid]["data"]),
                     "psnr,ssim,l1,kid", 0, "effnet")]
    out = capsys.readouterr().out
    assert f"not bundling {mid}" in out and "ssim 0.8922 vs identity 0.91" in out
    assert not (tmp_path / "cards" / mid).exists()

