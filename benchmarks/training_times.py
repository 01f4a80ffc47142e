"""Wall time of the training examples in README.md and docs/, measured on this machine (docs/training.md).

* ``smoke`` runs the smoke command of docs/training.md in full, as a subprocess (interpreter start, data,
  200 steps, the final preview and checkpoint), and copies its preview grid to ``--grid``;
* every other example is timed as users run it — the same plugin, config, batch size and image size — for a few
  steps after a warm-up, and its full length is extrapolated from the median step time (steps from
  ``--max-steps``, or epochs × the dataset's size / batch). Image-to-image examples train on a synthetic dataset
  of the right image size, since only the step time matters.

One thread (``OMP_NUM_THREADS=1``, as the bundled models' cards were trained) unless ``--threads``. Both wall time
and CPU time are recorded: on a shared machine the wall time measures the neighbours too, while the CPU time
of a one-thread run is what the wall time is on an idle core. The load average is recorded with the results.

    python benchmarks/training_times.py                      # every example
    python benchmarks/training_times.py --only smoke --grid docs/images/training-smoke.png
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: id -> (command as documented, plugin, config overrides, batch size, full length in steps, timed steps)
EXAMPLES: dict[str, tuple[str, str, dict[str, Any], int, int, int]] = {
    "readme-cli": ("ganzoo train dcgan --data DIR --out runs/x --max-steps 2000 --batch-size 64 --set image_size=32 "
                   "--set channels=1", "dcgan", {"image_size": 32, "channels": 1}, 64, 2000, 30),
    "readme-python": ('ganzoo.train(ganzoo.build("dcgan", image_size=64, seed=0), "path/to/images", '
                      'out="runs/mine", max_steps=2000, batch_size=64)', "dcgan", {"image_size": 64}, 64, 2000, 10),
    # facades: 400 training pairs; horse2zebra: 1,067 horses and 1,334 zebras (an epoch is the larger set)
    "pix2pix-facades": ("ganzoo train pix2pix --data datasets/facades --out runs/facades --epochs 200 "
                        "--set direction=BtoA", "pix2pix", {"direction": "BtoA"}, 1, 200 * 400, 6),
    "cyclegan-horse2zebra": ("ganzoo train cyclegan --data datasets/horse2zebra --out runs/h2z --epochs 200",
                             "cyclegan", {}, 1, 200 * 1334, 4),
}

SMOKE = ["train", "dcgan", "--data", "builtin:digits", "--max-steps", "200", "--batch-size", "32", "--set",
         "image_size=32", "--set", "channels=1"]


def _children_cpu() -> float:
    import resource

    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def time_smoke(grid: Path | None, threads: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "runs" / "smoke"
        cmd = [sys.executable, "-m", "ganzoo.cli", *SMOKE, "--out", str(out), "--set", "progress=false"]
        t0, c0 = time.perf_counter(), _children_cpu()
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              env={**os.environ, "OMP_NUM_THREADS": str(threads)})
        wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
        if proc.returncode != 0:
            raise SystemExit(f"the smoke run failed: {proc.stderr[-2000:]}")
        rows = [json.loads(line) for line in (out / "logs" / "metrics.jsonl").read_text().splitlines()]
        if grid is not None:
            grid.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(out / "samples" / "final.png", grid)
        return {"command": "ganzoo " + " ".join(SMOKE[:4]) + " --out runs/smoke " + " ".join(SMOKE[4:]),
                "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "threads": threads, "steps": rows[-1]["step"],
                "last_losses": {k: round(v, 3) for k, v in rows[-1].items() if k in ("d_real", "d_fake", "g_adv")}}


def time_example(name: str, warmup: int) -> dict[str, Any]:
    import torch

    import ganzoo
    from ganzoo.testing import write_dataset
    from ganzoo.training import Trainer, TrainerOptions

    command, plugin, config, batch, full_steps, timed = EXAMPLES[name]
    model = ganzoo.build(plugin, seed=0, **config)
    stamps: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if model.task.name == "unconditional":
            data = "builtin:digits"
        else:  # the right image size; a handful of items is enough for a few steps at batch 1
            data = str(write_dataset(model.task.name, Path(tmp) / "data", model.config, n=warmup + timed + 2))
        opts = TrainerOptions(max_steps=warmup + timed, batch_size=batch, sample_every=0, checkpoint_every=0,
                              progress=False)
        Trainer(model, data, Path(tmp) / "run", opts,
                callbacks={"on_step_end": [lambda t: stamps.append((time.perf_counter(), time.process_time()))]}
                ).fit()
    pairs = list(zip(stamps, stamps[1:]))[max(0, warmup - 1):]
    wall = statistics.median(b[0] - a[0] for a, b in pairs)
    cpu = statistics.median(b[1] - a[1] for a, b in pairs)
    return {"command": command, "wall_s_per_step": round(wall, 4), "cpu_s_per_step": round(cpu, 4),
            "steps": full_steps, "timed_steps": len(pairs), "expected_wall_s": round(wall * full_steps),
            "expected_cpu_s": round(cpu * full_steps), "threads": torch.get_num_threads()}


def _hms(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 60} min {seconds % 60:02d} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="+", choices=["smoke", *EXAMPLES], help="examples to time (default: all)")
    ap.add_argument("--warmup", type=int, default=3, help="steps before timing starts")
    ap.add_argument("--threads", type=int, default=1, help="threads per process (default 1)")
    ap.add_argument("--grid", type=Path, help="copy the smoke run's preview grid here")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    import logging

    logging.getLogger("ganzoo").setLevel(logging.WARNING)
    chosen = args.only or ["smoke", *EXAMPLES]
    results: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                                          f"{platform.python_version()}", "load_before": os.getloadavg()[0]}
    for name in chosen:
        results[name] = time_smoke(args.grid, args.threads) if name == "smoke" else time_example(name, args.warmup)
        r = results[name]
        shown = f"{r['wall_s']} s wall, {r['cpu_s']} s CPU in all" if name == "smoke" else \
            (f"{r['wall_s_per_step']} s/step wall, {r['cpu_s_per_step']} s/step CPU × {r['steps']} steps ≈ "
             f"{_hms(r['expected_wall_s'])} wall, {_hms(r['expected_cpu_s'])} CPU")
        print(f"{name}: {shown}  ({r['command']})", flush=True)
    results["load_after"] = os.getloadavg()[0]
    print(f"load average: {results['load_before']:.1f} before, {results['load_after']:.1f} after")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
