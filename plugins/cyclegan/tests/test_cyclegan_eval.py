"""``ganzoo eval`` of CycleGAN on the built-in unpaired digits (plain ↔ bold): the test split holds the exact
pairs, so the A→B outputs get pixel metrics as well as KID/FID, beside the identity and colour-transfer
baselines (the issue: this ended in "unexpected AssertionError")."""

from __future__ import annotations

import pytest

from ganzoo.errors import UsageError
from ganzoo.metrics import evaluate
from ganzoo.testing import tiny_model


def test_cyclegan_eval_on_builtin_digit_bold(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    model = tiny_model("cyclegan").eval()
    report = evaluate(model, "builtin:digit-bold", n=24, extractor="digits", name="cyclegan-tiny")
    assert [r.name for r in report.results] == ["psnr", "ssim", "l1", "kid", "fid"]
    assert report.protocol["split"] == "test" and report.protocol["reference_count"] == 359
    assert report.baseline("colour-transfer")["kid"].protocol["baseline"] == "colour-transfer"
    with pytest.raises(UsageError, match="test split only"):
        evaluate(model, "builtin:digit-bold", split="train", metrics="psnr", extractor="digits")
