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


def test_the_eval_plan_runs_the_steps_of_ganzoo_eval() -> None:
    from types import SimpleNamespace

    from ganzoo.metrics.extractors import load_extractor
    from ganzoo.metrics.video_plan import VideoPlan
    from ganzoo.plugin import import_object

    model = ganzoo.build("toyvideo", seed=0).eval()
    cls = import_object(model.task.eval_plan())
    assert cls is VideoPlan
    data = [{"frames": c} for c in _moving_bar(6, 4, size=8)]
    request = SimpleNamespace(name="toy", data=data, split=None, n=None, seed=0, batch_size=4, device="cpu",
                              kid_subset_size=8)
    plan = cls(model, request)
    plan.horizon = 2  # the toy predicts two frames per call
    names, ext = plan.choose(None, None)
    assert names == ["mse", "psnr", "ssim", "sharpness", "sharp_diff", "kid"] and ext == "digits"
    with pytest.raises(UsageError, match="fid does not apply to video-prediction"):
        plan.choose(["fid"], None)
    plan.prepare(names, load_extractor(ext))
    protocol = plan.protocol()
    results = plan.score(plan.measure(), protocol)
    assert [r.name for r in results] == names and plan.n_generated == 12
    baseline = plan.make_baselines()[0]
    baseline.fit(plan)
    copied = {r.name: r for r in plan.score(plan.measure(baseline), protocol)}
    direct = evaluate_video(model, data, horizon=2, n=None, extractor=None, batch_size=4)
    assert copied["psnr"].value == pytest.approx(direct.value("psnr", "copy_last_frame"))
    assert {r.name: r for r in results}["mse"].value == pytest.approx(direct.value("mse"))
