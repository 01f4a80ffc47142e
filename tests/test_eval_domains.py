"""``ganzoo eval`` of multi-domain translators (ganzoo.metrics.domains): every image into every other domain,
kid/fid per target domain, pixel metrics where the pairs are known, identity and per-domain colour transfer
beside the model by the same protocol, folders with and without pairs, refusals, the CLI.

Core tests: only the toy plugins of tests/toyzoo (``GANZOO_DISABLE_PLUGINS='ganzoo-*'`` passes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import ganzoo
from ganzoo.cli import cli
from ganzoo.data import open_image, to_tensor
from ganzoo.data.builtin import STYLES
from ganzoo.errors import DataError, UsageError
from ganzoo.metrics import PixelMetrics, evaluate, load_extractor, quantize
from ganzoo.metrics.arithmetic import kid_from_features
from ganzoo.metrics.cache import subset_indices
from ganzoo.tasks import get_task

TASK = "multi-domain-translation"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))


def _styles_model():
    return ganzoo.build("toydomain", image_size=8, num_domains=4, domain_names=STYLES, seed=0).eval()


def test_the_task_names_its_plan():
    assert get_task(TASK).eval_plan() == "ganzoo.metrics.domains:MultiDomainPlan"
    assert {"psnr", "ssim", "l1", "kid", "fid"} == set(get_task(TASK).metrics)


def test_builtin_digit_styles_every_ordered_pair_with_baselines():
    model = _styles_model()
    n, k = 15, len(STYLES)
    report = evaluate(model, "builtin:digit-styles", n=n, batch_size=64, name="toydomain-styles")
    assert [r.name for r in report.results] == ["psnr", "ssim", "l1", "kid", "fid"]
    p = report.protocol
    assert p["n_generated"] == n * k * (k - 1) and p["split"] == "test" and p["reference_count"] == 359 * k
    assert " -n 15 " in p["command"] and "builtin:digit-styles" in p["command"]  # -n counts images per domain
    assert "into each of the other 3 domains" in p["sampling"]
    kid = report["kid"]
    assert list(kid.details["per_domain"]) == list(STYLES)
    assert kid.value == pytest.approx(sum(kid.details["per_domain"].values()) / k, rel=1e-4)
    assert report["psnr"].protocol["pairs"] == n * k * (k - 1)

    # identity by hand: the same fixed subset of n test digits in each style, each as its translation into the others
    ds = get_task(TASK).dataset(model.config, "builtin:digit-styles", split="test", augment=False)
    per = len(ds) // k
    keep = subset_indices(per, n)
    x = torch.stack([ds[i]["image"] for i in range(len(ds))]).view(k, per, *ds[0]["image"].shape)[:, keep]
    acc = PixelMetrics(8)
    for t in range(k):
        for s in range(k):
            if s != t:
                acc.update(quantize(x[s]), x[t])
    identity = report.baseline("identity")
    for key, (value, _) in acc.compute().items():
        assert identity[key].value == pytest.approx(value, rel=1e-5), key
    assert identity["kid"].protocol["baseline"] == "identity"
    assert identity["kid"].protocol["reference_fingerprint"] == kid.protocol["reference_fingerprint"]
    # per target domain, never pooled: pooled, identity's outputs would be real images of the set itself
    assert min(identity["kid"].details["per_domain"].values()) > 0
    ct = report.baseline("colour-transfer")
    assert "per-domain, per-channel mean/std" in ct["kid"].protocol["baseline_fit"]
    assert "training images (train split)" in ct["kid"].protocol["baseline_fit"]
    assert ct["l1"].value != identity["l1"].value


def test_colour_transfer_reaches_each_target_domains_statistics():
    from ganzoo.metrics.domains import DomainColourTransferBaseline, MultiDomainPlan
    from ganzoo.metrics.plans import EvalRequest

    model = _styles_model()
    request = EvalRequest(name="t", data="builtin:digit-styles", split="test", n=None, n_real=None, seed=0,
                          batch_size=256, device="cpu")
    base = DomainColourTransferBaseline()
    base.fit(MultiDomainPlan(model, request))
    train = get_task(TASK).dataset(model.config, "builtin:digit-styles", split="train", augment=False)
    x = torch.stack([train[i]["image"] for i in range(len(train))]).double()
    y = torch.tensor([int(train[i]["label"]) for i in range(len(train))])
    for d in range(len(STYLES)):
        assert base.mean[d, 0] == pytest.approx(float(x[y == d].mean()), abs=1e-6)
        assert base.std[d, 0] == pytest.approx(float(x[y == d].std(unbiased=False)), abs=1e-6)
    img = torch.linspace(-1, 0.2, 64).view(1, 1, 8, 8)
    out = base(img, 3)  # inverted: mostly white
    assert out.mean() > img.mean() and out.shape == img.shape
    flat = base(torch.zeros(1, 1, 8, 8), 1)  # no contrast to rescale: the target domain's mean
    assert torch.allclose(flat, base.mean[1, 0].float().clamp(-1, 1).expand(1, 1, 8, 8))


def _folder(tmp_path: Path, model, same_names: bool) -> Path:
    """test/<domain>/ with 12 images per domain: the same drawing under the same name in every domain, or not."""
    from ganzoo.testing import write_dataset

    src = write_dataset(TASK, tmp_path / "src", model.config, n=36)
    files = sorted(src.rglob("*.png"))
    root = tmp_path / "data"
    for d, name in enumerate(model.config.domain_names):
        (root / "test" / name).mkdir(parents=True)
        (root / "train" / name).mkdir(parents=True)
        for j in range(12):
            f = files[j] if same_names else files[12 * d + j]
            shutil.copy(f, root / "test" / name / (f"{j:03d}.png" if same_names else f"{name}{j:03d}.png"))
            shutil.copy(files[(j + d) % len(files)], root / "train" / name / f"{j:03d}.png")
    return root


def test_folder_with_the_same_items_in_every_domain(tmp_path):
    model = ganzoo.build("toydomain", seed=0).eval()  # 3 domains red, green, blue; 8 px grey
    root = _folder(tmp_path, model, same_names=True)
    # a folder's names are trusted on request only
    assert [r.name for r in evaluate(model, root, extractor="digits", baselines=False).results] == ["kid", "fid"]
    report = evaluate(model, root, metrics="psnr,l1,kid", extractor="digits")
    identity = report.baseline("identity")
    assert identity["l1"].value == 0 and identity["psnr"].value == pytest.approx(100)  # every domain: one drawing
    assert report["l1"].value > 0 and report["psnr"].protocol["pairs"] == 12 * 3 * 2
    assert "training images (train/)" in report.baseline("colour-transfer")["l1"].protocol["baseline_fit"]
    # KID per domain matches the arithmetic on that domain's real test images and its translations
    real = report.baseline("identity")["kid"].details["per_domain"]
    assert set(real) == {"red", "green", "blue"}
    ext = load_extractor("digits", "cpu")
    imgs = torch.stack([to_tensor(open_image(f, 1))
                        for f in sorted((root / "test" / "red").glob("*.png"))])
    feats = ext.features_and_logits(imgs)[0].float()
    same = kid_from_features(feats, torch.cat([feats, feats]), subset_size=12, seed=0)[0]
    assert real["red"] == pytest.approx(same, abs=1e-5)


def test_folder_without_pairs_and_refusals(tmp_path):
    model = ganzoo.build("toydomain", seed=0).eval()
    root = _folder(tmp_path, model, same_names=False)
    report = evaluate(model, root, extractor="digits", n=10, baselines=False)
    assert [r.name for r in report.results] == ["kid", "fid"] and report.protocol["n_generated"] == 10 * 3 * 2
    with pytest.raises(UsageError, match="need known pairs: test/<domain>/<name> the same item in every domain"):
        evaluate(model, root, metrics="psnr")
    (root / "test" / "blue").rename(root / "test" / "navy")
    with pytest.raises(DataError, match="no folder for the domain.* blue"):
        evaluate(model, root, metrics="kid", extractor="digits")
    with pytest.raises(DataError, match="No such data folder"):
        evaluate(model, tmp_path / "nowhere")
    with pytest.raises(DataError, match="is not a dataset for multi-domain-translation"):
        evaluate(model, "builtin:digit-edges")


def test_cli_table_beside_the_baselines(tmp_path):
    folder = _styles_model().save_pretrained(tmp_path / "toydomain")
    res = CliRunner().invoke(cli, ["eval", str(folder), "--data", "builtin:digit-styles", "-n", "12",
                                   "--metrics", "ssim,kid"])
    assert res.exit_code == 0, res.output
    header = next(line for line in res.output.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "value", "±", "std", "identity", "colour-transfer"]
    assert any(line.startswith("reproduce: ") and " -n 12 " in line for line in res.output.splitlines())
