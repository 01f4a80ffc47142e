"""``ganzoo eval`` of pix2pix on the built-in aligned pairs (edges → digits): the test pairs are translated and
scored beside the identity and colour-transfer baselines (the issue: this ended in "unexpected KeyError: 'A'")."""

from __future__ import annotations

from click.testing import CliRunner

from ganzoo.cli import cli
from ganzoo.metrics import evaluate
from ganzoo.testing import tiny_model


def test_pix2pix_eval_on_builtin_digit_edges(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    model = tiny_model("pix2pix").eval()
    report = evaluate(model, "builtin:digit-edges", n=24, extractor="digits", name="pix2pix-tiny")
    assert [r.name for r in report.results] == ["psnr", "ssim", "l1", "kid", "fid"]
    assert report.protocol["split"] == "test" and report.protocol["n_generated"] == 24
    assert [b.name for b in report.baselines] == ["identity", "colour-transfer"]
    assert report.baseline("identity")["psnr"].protocol["pairs"] == 24
    folder = model.save_pretrained(tmp_path / "p2p")
    res = CliRunner().invoke(cli, ["eval", str(folder), "--data", "builtin:digit-edges", "-n", "12", "--extractor",
                                   "digits", "--metrics", "l1,kid"])
    assert res.exit_code == 0, res.output
    assert "identity" in res.output and "reproduce: ganzoo eval" in res.output
