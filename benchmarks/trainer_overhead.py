"""Per-step overhead of the shared Trainer against a bare PyTorch loop of the same networks and optimisers.

Both loops train the same DCGAN (same seed, same weights) with the plugin's own ``discriminator_loss`` /
``generator_loss`` and Adam optimisers, on batches of the same dataset through a ``DataLoader``: one D update
(G frozen) then one G update (D frozen) per step. The bare loop is what one writes by hand; the Trainer adds
everything around it: accelerate, the step-noise generator, the freeze plan, loss bookkeeping, the LR scheduler,
the per-step non-finite check, the progress bar and metrics (CSV, JSONL, TensorBoard) every ``log_every`` steps
(the defaults). Checkpoints and previews are off (periodic I/O, not per-step cost).

Interleaved timing (the default), because a shared machine's load drifts by tens of per cent within seconds:
the bare loop runs *inside* the Trainer's run, one bare step in each ``on_step_end`` callback. Each pair gives
the Trainer's step (from the end of one callback to the start of the next: data, both updates, bookkeeping,
logging) and the bare step (the callback's own duration, data included), measured back to back under the same
load. After ``--warmup`` pairs, the overhead is the median of the per-pair ratios; the step times are
medians too. ``--mode sequential`` runs the two loops one after the other instead (more exposed to drift).

    python benchmarks/trainer_overhead.py                      # the README's numbers
    python benchmarks/trainer_overhead.py --steps 100 --repeats 1   # a quick look
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
from typing import Callable, Iterator

import torch


def build(args: argparse.Namespace):
    import ganzoo

    return ganzoo.build("dcgan", seed=0, image_size=args.image_size, channels=1, nz=args.nz, ngf=args.width,
                        ndf=args.width)


def bare_stepper(args: argparse.Namespace) -> Callable[[], None]:
    """A hand-written training step over its own model, optimisers and data loader."""
    from torch.utils.data import DataLoader

    model = build(args)
    model.train()
    impl = model.impl
    dataset = impl.make_dataset(model, "builtin:digits")
    opts = impl.configure_optimizers(model)
    opt_g, opt_d = opts["G"], opts["D"]
    g_params, d_params = list(model.G.parameters()), list(model.D.parameters())
    gen = torch.Generator().manual_seed(0)

    def batches() -> Iterator[dict[str, torch.Tensor]]:
        while True:
            yield from DataLoader(dataset, batch_size=args.batch_size, shuffle=True, drop_last=True, generator=gen)

    it = batches()

    def step() -> None:
        batch = next(it)
        for p in g_params:  # D step, G fixed
            p.requires_grad_(False)
        opt_d.zero_grad(set_to_none=True)
        losses = impl.discriminator_loss(model, batch)
        (losses["d_real"] + losses["d_fake"]).backward()
        opt_d.step()
        for p in g_params:
            p.requires_grad_(True)
        for p in d_params:  # G step, D fixed
            p.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        impl.generator_loss(model, batch)["g_adv"].backward()
        opt_g.step()
        for p in d_params:
            p.requires_grad_(True)

    return step


def run_trainer(args: argparse.Namespace, on_step_end: Callable) -> None:
    from ganzoo.training import Trainer, TrainerOptions

    opts = TrainerOptions(max_steps=args.warmup + args.steps, batch_size=args.batch_size, sample_every=0,
                          checkpoint_every=0, progress=not args.no_progress, log_every=args.log_every)
    with tempfile.TemporaryDirectory() as tmp:
        Trainer(build(args), "builtin:digits", Path(tmp) / "run", opts, callbacks={"on_step_end": [on_step_end]}).fit()


def interleaved(args: argparse.Namespace) -> tuple[list[float], list[float]]:
    """(trainer step times, bare step times), paired, after warm-up."""
    bare = bare_stepper(args)
    trainer_times: list[float] = []
    bare_times: list[float] = []
    last_exit: list[float] = []

    def on_step_end(trainer) -> None:
        enter = time.perf_counter()
        if last_exit:
            trainer_times.append(enter - last_exit[0])
        bare()
        leave = time.perf_counter()
        if last_exit:
            bare_times.append(leave - enter)
        last_exit[:] = [leave]

    run_trainer(args, on_step_end)
    return trainer_times[args.warmup:], bare_times[args.warmup:]


def sequential(args: argparse.Namespace) -> tuple[list[float], list[float]]:
    stamps: list[float] = []
    run_trainer(args, lambda t: stamps.append(time.perf_counter()))
    trainer_times = [b - a for a, b in zip(stamps, stamps[1:])][args.warmup:]
    bare = bare_stepper(args)
    bare_times = []
    for i in range(args.warmup + args.steps):
        t = time.perf_counter()
        bare()
        if i >= args.warmup:
            bare_times.append(time.perf_counter() - t)
    return trainer_times, bare_times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--width", type=int, default=32, help="DCGAN ngf = ndf")
    ap.add_argument("--nz", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=300, help="timed steps per repeat")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (fixed for both loops)")
    ap.add_argument("--log-every", type=int, default=10, help="the Trainer's metrics interval (its default: 10)")
    ap.add_argument("--no-progress", action="store_true", help="switch the Trainer's progress bar off")
    ap.add_argument("--mode", choices=["interleaved", "sequential"], default="interleaved")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("ganzoo").setLevel(logging.WARNING)

    trainer_all: list[float] = []
    bare_all: list[float] = []
    ratios: list[float] = []
    per_repeat = []
    for r in range(args.repeats):
        t_times, b_times = (interleaved if args.mode == "interleaved" else sequential)(args)
        trainer_all += t_times
        bare_all += b_times
        if args.mode == "interleaved":
            ratios += [t / b for t, b in zip(t_times, b_times)]
        t_med, b_med = statistics.median(t_times) * 1e3, statistics.median(b_times) * 1e3
        per_repeat.append({"trainer_ms": round(t_med, 3), "bare_ms": round(b_med, 3)})
        print(f"repeat {r + 1}/{args.repeats}: Trainer {t_med:.3f} ms/step, bare {b_med:.3f} ms/step", file=sys.stderr,
              flush=True)
    t_med, b_med = statistics.median(trainer_all) * 1e3, statistics.median(bare_all) * 1e3
    overhead = (statistics.median(ratios) - 1) * 100 if ratios else (t_med / b_med - 1) * 100
    result = {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": f"{platform.machine()}, {platform.python_version()}, torch {torch.__version__}",
        "trainer_ms": round(t_med, 3),
        "bare_ms": round(b_med, 3),
        "overhead_pct": round(overhead, 2),
        "steps_timed": len(trainer_all),
        "per_repeat": per_repeat,
    }
    print(f"DCGAN {args.image_size}x{args.image_size}, width {args.width}, batch {args.batch_size}, "
          f"{args.threads} thread(s), {args.mode}: Trainer {t_med:.3f} ms/step, bare {b_med:.3f} ms/step, "
          f"overhead {overhead:+.2f} % ({'median of paired ratios' if ratios else 'ratio of medians'}, "
          f"{len(trainer_all)} steps)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
