"""Video metrics: per-horizon curves, sharpness, KID on frames, copy-last-frame, on the toy video plugin."""

from __future__ import annotations

import math

import pytest
import torch

import ganzoo
from ganzoo.errors import DataError, UsageError
from ganzoo.metrics.video import copy_last_frame, evaluate_video, frame_metrics, kid

pytestmark = pytest.mark.usefixtures("one_thread")


def _moving_bar(n: int, t: int, size: int = 16, *, seed: int = 0) -> torch.Tensor:
    """Clips of a bright 3-px bar moving one pixel per frame (wrapping): (n, t, 1, size, size) in [-1, 1]."""
    g = torch.Generator().manual_seed(seed)
    out = -torch.ones(n, t, 1, size, size)
    starts = torch.randint(0, size, (n,), generator=g)
    for i in range(n):
        for k in range(t):
            out[i, k, 0, 4:12, [(int(starts[i]) + k + j) % size for j in range(3)]] = 1.0
    return out


def test_frame_metrics_of_perfect_and_wrong_predictions() -> None:
    x = _moving_bar(3, 4)
    m = frame_metrics(x, x)
    assert set(m) == {"mse", "psnr", "ssim", "sharpness", "sharpness_truth", "sharp_diff"}
    assert all(v.shape == (3, 4) for v in m.values())
    assert torch.all(m["mse"] == 0) and torch.all(m["psnr"] == 100)
    assert torch.allclose(m["ssim"], torch.ones(3, 4, dtype=torch.float64))
    assert torch.all(m["sharp_diff"] == 100) and torch.allclose(m["sharpness"], m["sharpness_truth"])
    grey = torch.zeros_like(x)  # mid-grey everywhere: error 0.5 on bar pixels and background alike
    m = frame_metrics(grey, x)
    assert torch.allclose(m["mse"], torch.full((3, 4), 0.25, dtype=torch.float64))
    assert torch.allclose(m["psnr"], torch.full((3, 4), 10 * math.log10(4), dtype=torch.float64))
    assert torch.all(m["sharpness"] == 0) and torch.all(m["sharpness_truth"] > 0)
    blurred = torch.nn.functional.avg_pool3d(x, (1, 3, 3), stride=1, padding=(0, 1, 1), count_include_pad=False)
    mb = frame_metrics(blurred, x)
    assert torch.all(mb["sharpness"] < mb["sharpness_truth"]) and torch.all(mb["sharp_diff"] < 100)
    with pytest.raises(UsageError, match="two .* clips of one shape"):
        frame_metrics(x, x[:, :2])


def test_copy_last_frame_and_kid() -> None:
    x = _moving_bar(2, 5)
    c = copy_last_frame(x[:, :3], 4)
    assert c.shape == (2, 4, 1, 16, 16) and torch.equal(c[:, 2], x[:, 2])
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(300, 8, generator=g), torch.randn(300, 8, generator=g)
    same, _ = kid(a, b, subset_size=100, subsets=20)
    shifted, std = kid(a, b + 2, subset_size=100, subsets=20)
    assert abs(same) < 0.05 and shifted > 0.5 and std >= 0
    with pytest.raises(UsageError, match="at least 2 samples"):
        kid(a[:1], b)


def test_evaluate_video_measures_the_model_beside_the_baselines() -> None:
    model = ganzoo.build("toyvideo", seed=0).eval()  # context 2, predicts 2 frames, 8×8
    clips = _moving_bar(12, 5, size=8)
    data = [{"frames": c} for c in clips]

    def oracle(context: torch.Tensor, horizon: int) -> torch.Tensor:  # knows the motion: shifts the last frame
        return torch.stack([torch.roll(context[:, -1], k + 1, dims=-1) for k in range(horizon)], 1)

    report = evaluate_video(model, data, horizon=2, n=10, seed=0, batch_size=4, extractor=None,
                            baselines={"oracle": oracle})
    assert report.systems == ["model", "copy_last_frame", "oracle"]
    assert report.protocol["clips"] == 10 and report.protocol["horizon"] == 2
    assert len(report.curves["model"]["psnr"]) == 2
    assert report.value("mse", "oracle") == 0 and report.value("psnr", "oracle") == 100
    assert report.beats("copy_last_frame", "psnr", system="oracle")
    assert report.curves["copy_last_frame"]["mse"][1] > report.curves["copy_last_frame"]["mse"][0] > 0
    assert "| oracle |" in report.table()
    with pytest.raises(UsageError, match="predicts 2 frames per call and has no horizon option"):
        evaluate_video(model, data, horizon=3, n=4, extractor=None)
    with pytest.raises(DataError, match="context 2 \\+ horizon 4 need 6"):
        evaluate_video(model, data, horizon=4, n=4, extractor=None, baselines={})
    with pytest.raises(UsageError, match="horizon must be a positive integer"):
        evaluate_video(model, data, horizon=0)


def test_kid_on_frames_uses_the_digit_features() -> None:
    model = ganzoo.build("toyvideo", seed=0).eval()
    data = [{"frames": c} for c in _moving_bar(8, 4, size=8)]
    report = evaluate_video(model, data, horizon=2, n=8, extractor="digits", kid_subset_size=8)
    assert report.protocol["extractor"] == "digits" and len(report.protocol["extractor_sha256"]) == 64
    assert report.value("kid", "copy_last_frame") < report.value("kid", "model")  # copies are real frames


def test_the_benchmark_writes_tables_json_gifs_and_card_metrics(tmp_path) -> None:
    import importlib.util
    import json
    from pathlib import Path

    import numpy as np
    from PIL import Image

    from ganzoo.cards import load_card

    script = Path(__file__).parents[1] / "benchmarks" / "eval_video.py"
    spec = importlib.util.spec_from_file_location("eval_video", script)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    folder = ganzoo.build("toyvideo", seed=0).save_pretrained(tmp_path / "toy")
    for c in range(3):
        clip = tmp_path / "data" / "test" / f"c{c}"
        clip.mkdir(parents=True)
        for t in range(5):
            Image.fromarray(np.roll(np.eye(8, dtype=np.uint8) * 255, t + c, axis=1)).save(clip / f"{t:03d}.png")
    argv = ["real", "--model", str(folder), "--data", str(tmp_path / "data"), "--horizon", "2", "--n", "3",
            "--extractor", "none", "--baseline", f"same={folder}", "--out", str(tmp_path / "res"),
            "--gifs", str(tmp_path / "gifs"), "--write-card", str(folder)]
    assert bench.main(argv) == 0
    result = json.loads((tmp_path / "res" / "video-real.json").read_text())
    assert result["video"]["systems"] == ["model", "copy_last_frame", "same"]
    assert result["video"]["summary"]["model"]["psnr"] == result["video"]["summary"]["same"]["psnr"]
    assert "| copy_last_frame |" in (tmp_path / "res" / "video-real.md").read_text()
    with Image.open(tmp_path / "gifs" / "video-real.gif") as im:
        assert im.n_frames >= 2
    metrics = load_card(folder / "README.md").data.ganzoo["metrics"]
    psnr = [m for m in metrics if m["name"] == "psnr"]
    assert [m["protocol"].get("baseline") for m in psnr] == [None, "copy_last_frame", "same"]
    assert len(psnr[0]["details"]["per_horizon"]) == 2 and "--write-card" not in psnr[0]["protocol"]["command"]


def _clip_folder(root, n: int = 6, t: int = 4, size: int = 8):
    """``root/test/c<i>/<t>.png``: a diagonal line moving one pixel per frame (the task's folder layout)."""
    import numpy as np
    from PIL import Image

    for c in range(n):
        clip = root / "test" / f"c{c}"
        clip.mkdir(parents=True)
        for k in range(t):
            Image.fromarray(np.roll(np.eye(size, dtype=np.uint8) * 255, k + c, axis=1)).save(clip / f"{k:03d}.png")
    return root


def test_ganzoo_eval_runs_the_video_plan_beside_copy_last_frame(tmp_path) -> None:
    from ganzoo.metrics import evaluate, metric_names_for
    from ganzoo.metrics.video_plan import CopyLastFrame, VideoPlan
    from ganzoo.plugin import import_object

    model = ganzoo.build("toyvideo", seed=0).eval()  # context 2, predicts 2 frames per call, no rollout
    assert import_object(model.task.eval_plan()) is VideoPlan and VideoPlan.baselines == (CopyLastFrame,)
    assert metric_names_for(model, "digits") == ["mse", "psnr", "ssim", "frame_sharpness", "sharp_diff", "kid"]
    data = _clip_folder(tmp_path / "clips")
    report = evaluate(model, data, n=5, batch_size=2, kid_subset_size=4, name="toyvideo")
    assert [r.name for r in report.results] == ["mse", "psnr", "ssim", "frame_sharpness", "sharp_diff", "kid"]
    proto = report["psnr"].protocol
    assert proto["horizons"] == "1..2" and proto["n_generated"] == 5 and proto["pairs"] == 10
    assert proto["extractor"] == "digits" and report["kid"].protocol["kid_subset_size"] == 4
    assert proto["command"].endswith(f"--data {data} --split test --metrics mse,psnr,ssim,frame_sharpness,sharp_diff,kid "
                                     "-n 5 --extractor digits --seed 0 --batch-size 2 --kid-subset-size 4")
    assert len(report["mse"].details["per_horizon"]) == 2 and report["frame_sharpness"].details["truth"] > 0
    (copy,) = report.baselines
    assert copy.name == "copy_last_frame" and copy["psnr"].protocol["baseline"] == "copy_last_frame"
    # the same numbers as evaluate_video, which computes everything itself, on the same seeded clips
    direct = evaluate_video(model, str(data), horizon=2, n=5, seed=0, batch_size=2, extractor=None)
    for m in ("mse", "psnr", "ssim", "sharp_diff"):
        assert report[m].value == pytest.approx(direct.value(m))
        assert copy[m].value == pytest.approx(direct.value(m, "copy_last_frame"))
    # the 8-px lines move one pixel per frame: a copied frame has 16 of 64 pixels wrong by 1, at either horizon
    assert copy["mse"].details["per_horizon"] == pytest.approx([0.25, 0.25])


def test_ganzoo_eval_of_video_metrics_and_refusals(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    from ganzoo.cli import cli
    from ganzoo.metrics import evaluate

    folder = ganzoo.build("toyvideo", seed=0).save_pretrained(tmp_path / "toy")
    data = _clip_folder(tmp_path / "clips")
    res = CliRunner().invoke(cli, ["eval", str(folder), "--data", str(data), "--metrics", "sharp_diff,psnr", "-n",
                                   "3", "--json"])
    assert res.exit_code == 0, res.output
    assert '"sharp_diff"' in res.output and "copy_last_frame" in res.output
    res = CliRunner().invoke(cli, ["eval", str(folder), "--data", str(data), "--metrics", "fid"])
    assert res.exit_code != 0 and "fid does not apply to" in res.output and "sharp_diff" in res.output
    assert "Traceback" not in res.output
    from ganzoo.metrics.video_plan import VideoPlan

    model = ganzoo.build("toyvideo", seed=0).eval()
    monkeypatch.setattr(VideoPlan, "horizon", 1)
    assert evaluate(model, data, metrics="psnr", n=1, name="toy")["psnr"].protocol["horizons"] == "1..1"
    with pytest.raises(UsageError, match="kid needs at least 2 predicted frames"):
        evaluate(model, data, metrics="kid", n=1, name="toy")
    monkeypatch.undo()
    short = _clip_folder(tmp_path / "short", n=2, t=3)  # 3 frames < context 2 + 2
    with pytest.raises(DataError):
        evaluate(model, short, metrics="psnr", name="toy")


def test_metrics_of_a_plan_module_are_known_before_it_is_imported(tmp_path, monkeypatch) -> None:
    import sys

    from ganzoo.metrics import METRICS, evaluate

    monkeypatch.delitem(sys.modules, "ganzoo.metrics.video_plan")  # as in a fresh process: nothing registered yet
    monkeypatch.delitem(METRICS, "sharp_diff")
    report = evaluate(ganzoo.build("toyvideo", seed=0).eval(), _clip_folder(tmp_path / "clips"),
                      metrics="sharp_diff", n=2, name="toy")
    assert [r.name for r in report.results] == ["sharp_diff"] and "sharp_diff" in METRICS
    with pytest.raises(Exception, match="Unknown metric 'sharp_dif'"):
        evaluate(ganzoo.build("toyvideo").eval(), tmp_path / "clips", metrics="sharp_dif", name="toy")
