"""``ganzoo eval`` on the cgan plugin: every conditional metric runs on an untrained model and reports all ten
labels (the core's metric tests use the toy plugins; this one checks the real plugin's data and sampling path)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ganzoo.metrics import evaluate
from ganzoo.testing import tiny_model


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """scikit-learn digits as class folders: test/ 200 images."""
    from ganzoo.data.digits import load_sklearn_digits, write_class_folders

    images, labels = load_sklearn_digits()
    root = tmp_path_factory.mktemp("digits")
    write_class_folders(images[300:500], labels[300:500], root / "test", indices=np.arange(300, 500))
    return root


def test_cgan_eval_smoke(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    model = tiny_model("cgan", image_size=16, channels=1, num_classes=10).eval()
    report = evaluate(model, digits, n=100, name="cgan-test")
    names = [r.name for r in report.results]
    assert {"kid", "fid", "accuracy", "kid_per_class", "is", "coverage"} <= set(names)
    assert 0.0 <= report.value("accuracy") <= 1.0 and len(report["accuracy"].details["per_label"]) == 10
    assert report.baselines == []  # generation has no trivial system to beat; its floor is real-vs-real


def test_drs_effect_script_conditional(tmp_path, monkeypatch):
    """benchmarks/drs_effect.py on a conditional model: per-label DRS and the classifier's label accuracy."""
    import importlib.util
    import json

    from ganzoo.data.digits import load_sklearn_digits, write_class_folders

    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    images, labels = load_sklearn_digits()
    data = tmp_path / "digits"
    write_class_folders(images[:300], labels[:300], data / "train")
    write_class_folders(images[300:500], labels[300:500], data / "test", indices=np.arange(300, 500))
    folder = tiny_model("cgan", num_classes=10).save_pretrained(tmp_path / "cgan")
    path = Path(__file__).parents[3] / "benchmarks" / "drs_effect.py"
    spec = importlib.util.spec_from_file_location("drs_effect", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "out"
    assert mod.main(["--model", str(folder), "--data", str(data), "--n", "30", "--out", str(out)]) == 0
    records = json.loads((out / "drs.json").read_text())
    assert [r["variant"] for r in records] == ["plain", "DRS, raw logits", "DRS, calibrated"]
    assert all(r["n"] == 30 and 0 <= r["accuracy"] <= 1 and np.isfinite(r["kid"]) for r in records)
