"""ganzoo against the original code's way of running CycleGAN and pix2pix, side by side in one process, on a CPU.

Three cases (the issue's): CycleGAN training at 128², batch 1 (ResNet-9 generators, ngf 64, 70×70 PatchGANs);
pix2pix training at 256², batch 1 (``unet_256``, batch norm, dropout, 70×70 PatchGAN); CycleGAN generator
inference at 256², batch 4. The reference is ``original_style.py``: the original implementation's layers,
``optimize_parameters()`` and ``test()``, written independently, on the *same weights* (ganzoo's state dicts load
into it key for key, which also checks that the architectures match).

Timing is interleaved because the machine is shared and its load drifts within seconds:

* training — ganzoo's ordinary ``Trainer.fit`` (accelerate, the data loader reading a synthetic image folder,
  loss bookkeeping, the LR schedule, logging) runs, and each ``on_step_end`` callback runs one original
  iteration on ready-made tensors of the same size (its data loading is *not* timed: a handicap for ganzoo).
  Each pair gives ganzoo's step (from the end of one callback to the start of the next) and the original's
  (the callback's own duration), back to back under the same load;
* inference — ``model.sample(condition=x)`` (the public API: size fitting, mode switching) and the original's
  ``test()`` alternate, A B A B.

After ``--warmup`` pairs, each case reports the median of the per-pair ratios ganzoo / original, with the
interquartile range of the ratios, and the median step times. Same thread count for both
(``--threads``, default 1).

    python benchmarks/vs_original.py                     # the README's table (about 10 minutes on 1 thread)
    python benchmarks/vs_original.py --cases pix2pix-train --pairs 5
    python benchmarks/vs_original.py --tiny              # toy sizes: a smoke test of the script (seconds)
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import original_style as O  # noqa: E402

CASES = ("cyclegan-train", "pix2pix-train", "cyclegan-infer")


def _sizes(tiny: bool) -> dict[str, dict[str, Any]]:
    if tiny:
        return {"cyclegan-train": dict(size=32, ngf=8, ndf=8, n_blocks=2, batch=1),
                "pix2pix-train": dict(size=32, ngf=8, ndf=8, num_downs=5, batch=1),
                "cyclegan-infer": dict(size=32, ngf=8, ndf=8, n_blocks=2, batch=2)}
    return {"cyclegan-train": dict(size=128, ngf=64, ndf=64, n_blocks=9, batch=1),
            "pix2pix-train": dict(size=256, ngf=64, ndf=64, num_downs=8, batch=1),
            "cyclegan-infer": dict(size=256, ngf=64, ndf=64, n_blocks=9, batch=4)}


def build_cyclegan(s: dict[str, Any]):
    """(ganzoo model, the original loop on copies of its weights)."""
    import ganzoo

    model = ganzoo.build("cyclegan", seed=0, image_size=s["size"], load_size=s["size"], flip=False, ngf=s["ngf"],
                         ndf=s["ndf"], n_blocks=s["n_blocks"])
    nets = {"G_A": O.ResnetGenerator(ngf=s["ngf"], n_blocks=s["n_blocks"]),
            "G_B": O.ResnetGenerator(ngf=s["ngf"], n_blocks=s["n_blocks"]),
            "D_A": O.NLayerDiscriminator(ndf=s["ndf"], norm="instance"),
            "D_B": O.NLayerDiscriminator(ndf=s["ndf"], norm="instance")}
    # the original's netD_A judges domain B: ganzoo's D_B
    for ours, theirs in (("G_AB", "G_A"), ("G_BA", "G_B"), ("D_B", "D_A"), ("D_A", "D_B")):
        nets[theirs].load_state_dict(model.components[ours].state_dict())
    return model, O.CycleGANLoop(nets["G_A"], nets["G_B"], nets["D_A"], nets["D_B"])


def build_pix2pix(s: dict[str, Any]):
    import ganzoo

    model = ganzoo.build("pix2pix", seed=0, image_size=s["size"], load_size=s["size"], flip=False, ngf=s["ngf"],
                         ndf=s["ndf"], num_downs=s["num_downs"])
    g = O.UnetGenerator(num_downs=s["num_downs"], ngf=s["ngf"])
    d = O.NLayerDiscriminator(6, s["ndf"])
    g.load_state_dict(model.G.state_dict())
    d.load_state_dict(model.D.state_dict())
    return model, O.Pix2PixLoop(g, d)


def _batch(s: dict[str, Any], seed: int = 1) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    shape = (s["batch"], 3, s["size"], s["size"])
    return {"A": torch.rand(shape, generator=gen) * 2 - 1, "B": torch.rand(shape, generator=gen) * 2 - 1}


def time_training(case: str, s: dict[str, Any], args: argparse.Namespace) -> tuple[list[float], list[float]]:
    """(ganzoo step times, original step times), paired, after warm-up."""
    from ganzoo.training import Trainer, TrainerOptions

    model, original = (build_cyclegan if case.startswith("cyclegan") else build_pix2pix)(s)
    original.set_input(_batch(s))
    ours: list[float] = []
    theirs: list[float] = []
    last_exit: list[float] = []

    def on_step_end(trainer: Any) -> None:
        enter = time.perf_counter()
        if last_exit:
            ours.append(enter - last_exit[0])
        original.optimize_parameters()
        leave = time.perf_counter()
        if last_exit:
            theirs.append(leave - enter)
        last_exit[:] = [leave]

    opts = TrainerOptions(max_steps=args.warmup + args.pairs + 1, batch_size=s["batch"], sample_every=0,
                          checkpoint_every=0, progress=False, log_every=10)
    with tempfile.TemporaryDirectory() as tmp:
        data = model.task.write_dataset(Path(tmp) / "data", model.config, n=8)
        Trainer(model, data, Path(tmp) / "run", opts, callbacks={"on_step_end": [on_step_end]}).fit()
    return ours[args.warmup:], theirs[args.warmup:]


def time_inference(case: str, s: dict[str, Any], args: argparse.Namespace) -> tuple[list[float], list[float]]:
    model, original = build_cyclegan(s)
    model.eval()
    original.netG_A.eval()
    x = _batch(s)["A"]
    original.set_input({"A": x, "B": x})
    y_ours, y_theirs = model.sample(condition=x), original.test()
    diff = (y_ours - y_theirs).abs().max().item()
    if diff > 1e-4:
        raise SystemExit(f"ganzoo and the original disagree on the same weights: max |diff| = {diff:.2e}")
    calls: dict[str, Callable[[], Any]] = {"ours": lambda: model.sample(condition=x), "theirs": original.test}
    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    for i in range(args.warmup + args.pairs):
        for who in (("ours", "theirs") if i % 2 == 0 else ("theirs", "ours")):
            t = time.perf_counter()
            calls[who]()
            if i >= args.warmup:
                times[who].append(time.perf_counter() - t)
    return times["ours"], times["theirs"]


def _quartiles(v: list[float]) -> tuple[float, float]:
    if len(v) < 2:
        return v[0], v[0]
    q = statistics.quantiles(v, n=4)
    return q[0], q[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {', '.join(CASES)}")
    ap.add_argument("--pairs", type=int, default=7, help="timed pairs per case (medians need ≥ 5)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads, the same for both")
    ap.add_argument("--tiny", action="store_true", help="toy sizes (a smoke test of this script)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s) {unknown}; choose from {', '.join(CASES)}")
    torch.set_num_threads(args.threads)
    logging.getLogger("ganzoo").setLevel(logging.WARNING)
    sizes = _sizes(args.tiny)
    rows = []
    for case in cases:
        s = sizes[case]
        ours, theirs = (time_inference if case.endswith("infer") else time_training)(case, s, args)
        ratios = [a / b for a, b in zip(ours, theirs)]
        q1, q3 = _quartiles(ratios)
        row = {"case": case, **s, "ours_s": round(statistics.median(ours), 4),
               "original_s": round(statistics.median(theirs), 4), "ratio": round(statistics.median(ratios), 3),
               "ratio_q1": round(q1, 3), "ratio_q3": round(q3, 3), "pairs": len(ratios)}
        rows.append(row)
        print(f"{case}: ganzoo {row['ours_s']:.3f} s, original {row['original_s']:.3f} s, ratio {row['ratio']:.3f} "
              f"(IQR {q1:.3f}–{q3:.3f}, {len(ratios)} pairs)", flush=True)
    print("\n| work | size | batch | ganzoo s | original s | ganzoo / original (IQR) |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['size']}² | {r['batch']} | {r['ours_s']:.3f} | {r['original_s']:.3f} | "
              f"**{r['ratio']:.2f}** ({r['ratio_q1']:.2f}–{r['ratio_q3']:.2f}) |")
    if args.json:
        args.json.write_text(json.dumps({
            "machine": f"{platform.machine()}, {platform.python_version()}, torch {torch.__version__}",
            "threads": args.threads, "warmup": args.warmup, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
