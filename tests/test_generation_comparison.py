"""benchmarks/compare_generation.py's sharpness and judge columns, its spread-over-training-seeds table, its sample
grids in the README, and benchmarks/digit_judge.py on its own (tiny models, scikit-learn's digits)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import ganzoo

pytestmark = pytest.mark.usefixtures("one_thread")

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _benchmark(name: str):
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[f"_bench_{name}"] = mod  # dataclasses look their module up
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(BENCH))
    return mod


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """scikit-learn digits as class folders: train/ 300 and test/ 100 images."""
    from ganzoo.data.digits import load_sklearn_digits, write_class_folders

    images, labels = load_sklearn_digits()
    root = tmp_path_factory.mktemp("digits")
    write_class_folders(images[:300], labels[:300], root / "train")
    write_class_folders(images[300:400], labels[300:400], root / "test", indices=np.arange(300, 400))
    return root


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))


def test_judge_is_calibrated_on_held_out_digits_and_scores_samples(digits):
    judge_mod = _benchmark("digit_judge")
    judge = judge_mod.DigitJudge.train(digits, seed=1)
    info = judge.info
    assert info["train_images"] + info["calibration_images"] == 300 and info["calibration_images"] == 50
    assert info["test_accuracy"] > 0.6 and 0 < info["test_confidence"] <= 1 and info["temperature"] > 0
    real, labels = judge_mod.read_split(digits, "test")
    verdict = judge.judge(real)
    assert verdict["n"] == 100 and sum(verdict["class_share"].values()) == pytest.approx(1.0, abs=1e-3)
    # noise is not a digit: the calibrated judge is far less sure of it than of real digits
    noise = torch.rand(100, 1, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert judge.judge(noise)["confidence"] < verdict["confidence"]
    # one digit repeated: every sample goes to one class, the others get none
    same = judge.judge(real[:1].repeat(50, 1, 1, 1))
    assert same["min_class_share"] == 0.0 and max(same["class_share"].values()) == 1.0
    with pytest.raises(SystemExit, match="at least 5 images of every digit"):
        small = digits.parent / "small"
        for c in range(10):
            (small / "train" / str(c)).mkdir(parents=True, exist_ok=True)
            shutil.copy(next((digits / "train" / str(c)).glob("*.png")), small / "train" / str(c) / "a.png")
        judge_mod.DigitJudge.train(small)


def test_comparison_adds_sharpness_judge_seed_spread_and_grids(digits, tmp_path):
    mod = _benchmark("compare_generation")
    model = ganzoo.build("toygan", image_size=16, channels=1, seed=0).eval()
    first = model.save_pretrained(tmp_path / "m" / "toy")
    seeds = tmp_path / "runs"
    for k in (1, 2):  # two more "training seeds": other initial weights
        ganzoo.build("toygan", image_size=16, channels=1, seed=k).eval().save_pretrained(seeds / f"toy-seed{k}")
    (seeds / "toy-seedx").mkdir()  # not a seed run: ignored
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{mod.START}\nold\n{mod.END}\nafter\n", encoding="utf-8")
    out, grids = tmp_path / "results", tmp_path / "docs" / "grids"
    assert mod.main(["--model", str(first), "--data", str(digits), "--n", "60", "--out", str(out),
                     "--seed-runs", str(seeds), "--grids", str(grids), "--readme", str(readme)]) == 0
    body = readme.read_text(encoding="utf-8")
    assert "sharpness (real = 1)" in body and "judge conf. ↑" in body and "judge min class" in body
    assert "Over training seeds" in body and f"| `{first}` | ?, 1, 2 |" in body and " ± " in body
    assert "![real (test split)](docs/grids/real.png)" in body and "![" + str(first) + "](docs/grids/toy.png)" in body
    assert (grids / "real.png").is_file() and (grids / "toy.png").is_file()
    record = json.loads((out / "generation.json").read_text())
    assert record["judge"]["calibration_images"] == 50
    (row,) = [m for m in record["models"] if m["model"] == str(first)]
    assert [r["seed"] for r in row["seed_runs"]] == [1, 2]
    (first_seed,) = row["per_seed"]
    assert first_seed["seed"] == 0 and {m["name"] for m in first_seed["metrics"]} >= {"kid", "fid", "sharpness"}
    assert 0 <= first_seed["judge"]["confidence"] <= 1
    real = record["models"][0]
    assert real["model"] == "real (train split)" and real["per_seed"][0]["sharpness"] == pytest.approx(1.0, abs=0.15)
    # the spread is the sample std over the three models' own values
    kids = [next(m["value"] for m in r["metrics"] if m["name"] == "kid") for r in [first_seed, *row["seed_runs"]]]
    assert f"{np.mean(kids):.3f} ± {np.std(kids, ddof=1):.3f}" in body
    assert mod.main(["--model", str(first), "--data", str(digits), "--seed-runs", str(tmp_path / "nope")]) == 1


def test_comparison_over_evaluation_seeds(digits, tmp_path):
    """--eval-seeds 2: each row measured with seeds 3 and 4, every cell the mean ± std of the two."""
    mod = _benchmark("compare_generation")
    folder = ganzoo.build("toygan", image_size=16, channels=1, seed=0).eval().save_pretrained(tmp_path / "toy")
    out = tmp_path / "results"
    assert mod.main(["--model", str(folder), "--data", str(digits), "--n", "60", "--seed", "3", "--eval-seeds", "2",
                     "--no-judge", "--out", str(out)]) == 0
    record = json.loads((out / "generation.json").read_text())
    (row,) = [m for m in record["models"] if m["model"] == str(folder)]
    assert [r["seed"] for r in row["per_seed"]] == [3, 4]
    kids = [next(m["value"] for m in r["metrics"] if m["name"] == "kid") for r in row["per_seed"]]
    assert kids[0] != kids[1]  # other samples and subsets per seed
    text = (out / "generation.md").read_text()
    (line,) = [ln for ln in text.splitlines() if ln.startswith(f"| `{folder}`")]
    mean, std = map(float, line.split(" | ")[2].split(" ± "))  # the KID cell (the JSON keeps rounded values)
    assert mean == pytest.approx(np.mean(kids), abs=2e-3) and std == pytest.approx(np.std(kids, ddof=1), abs=2e-3)
    assert "evaluation seeds 3, 4" in text and "--eval-seeds 2" in text
    assert [r["seed"] for r in record["models"][0]["per_seed"]] == [3, 4]  # the real row too
    assert mod.main(["--model", str(folder), "--data", str(digits), "--eval-seeds", "0"]) == 1
