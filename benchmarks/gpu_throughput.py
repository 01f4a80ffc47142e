"""Training throughput of the shared Trainer on one accelerator: DCGAN and CycleGAN, fp32 vs bf16, channels_last,
torch.compile — iterations per second and the fraction of the chip's bf16 peak that the model FLOPs reach.

    python benchmarks/gpu_throughput.py                        # on a GPU: the issue's grid (a few minutes)
    python benchmarks/gpu_throughput.py --variants fp32,bf16   # a subset
    python benchmarks/gpu_throughput.py --quick --device cpu   # the same code path at toy sizes (smoke test)

Cases (the papers' training configurations; random-blob images written to a temporary folder, read through the
ordinary data loader with ``--workers`` processes):

* ``dcgan-64``: DCGAN 64×64 RGB, nz 100, ngf = ndf = 64, batch 128 (Radford et al.);
* ``cyclegan-256``: CycleGAN ResNet-9 generators (ngf 64), 70×70 PatchGAN discriminators, 256×256 crops of 286²
  images, batch 8 — the setting in which the original implementation trains at about 5.0 it/s on an H100 (the
  issue's reference point; goal ≥ 3×).

Variants: ``fp32``; ``bf16`` (autocast); ``bf16+cl`` (plus channels_last); ``bf16+cl+compile`` (plus
torch.compile of every component). Each run is the ordinary ``Trainer.fit`` (accelerate, loss bookkeeping, metrics
logging; previews and checkpoints only at the end, outside the timed window): ``--warmup`` steps (compilation,
cudnn autotuning) then ``--steps`` timed steps, synchronising the device at both ends; a run that passes
``--max-seconds`` stops early and reports the steps it timed.

Generator inference (the issue's second GPU target: CycleGAN's ResNet-9 G at 256², batch 16, ≥ 5,000 img/s on
an H100-class GPU) is timed per variant too: ``G_AB`` in eval mode under ``torch.inference_mode`` (autocast for
bf16, channels_last inputs and weights, ``torch.compile``), ``--warmup`` untimed batches, then ``--steps`` batches
with the device synchronised. ``--dry-run`` runs everything at toy sizes on the CPU, 2 timed steps (a smoke test).

Model FLOPs per step are counted once per case with ``torch.utils.flop_counter.FlopCounterMode`` over one D and
one G update (forward + backward, fp32); achieved TFLOP/s = FLOPs × it/s, reported against the dense bf16 peak of
the device (looked up by name, or ``--peak-tflops``). Writes ``<out>/gpu_throughput.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: Dense bf16 tensor-core peaks (TFLOP/s, no sparsity) from the vendors' datasheets, matched on the device name.
BF16_PEAKS = (("H200", 989.4), ("H100 PCIe", 756.0), ("H100", 989.4), ("A100", 312.0), ("L40S", 362.1),
              ("L4", 121.0), ("A10G", 70.0), ("RTX 4090", 165.2))

VARIANTS = {
    "fp32": dict(mixed_precision="no"),
    "bf16": dict(mixed_precision="bf16"),
    "bf16+cl": dict(mixed_precision="bf16", channels_last=True),
    "bf16+cl+compile": dict(mixed_precision="bf16", channels_last=True, compile=True),
}


def cases(quick: bool) -> list[dict[str, Any]]:
    if quick:
        return [
            dict(name="dcgan-16 (quick)", plugin="dcgan", task="unconditional", batch=8, n_images=32,
                 config=dict(image_size=16, channels=3, nz=8, ngf=8, ndf=8)),
            dict(name="cyclegan-32 (quick)", plugin="cyclegan", task="unpaired-translation", batch=2, n_images=8,
                 config=dict(image_size=32, load_size=36, ngf=8, ndf=8, n_blocks=2)),
        ]
    return [
        dict(name="dcgan-64", plugin="dcgan", task="unconditional", batch=128, n_images=1024,
             config=dict(image_size=64, channels=3, nz=100, ngf=64, ndf=64)),
        dict(name="cyclegan-256", plugin="cyclegan", task="unpaired-translation", batch=8, n_images=128,
             config=dict(image_size=256, load_size=286, ngf=64, ndf=64, n_blocks=9)),
    ]


def inference_case(quick: bool) -> dict[str, Any]:
    if quick:
        return dict(name="cyclegan-G-32 infer (quick)", batch=4, size=32, config=dict(image_size=32, ngf=8, n_blocks=2))
    return dict(name="cyclegan-G-256 infer", batch=16, size=256, config=dict(image_size=256, ngf=64, n_blocks=9))


def run_inference(case: dict[str, Any], variant: str, args: argparse.Namespace) -> dict[str, Any]:
    """Images per second of CycleGAN's generator (G_AB) on one device in ``variant``; forward FLOPs counted."""
    import contextlib

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    import ganzoo

    cuda = torch.cuda.is_available() and args.device != "cpu"
    device = "cuda" if cuda else "cpu"
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    g = ganzoo.build("cyclegan", seed=0, **case["config"]).G_AB.to(device).eval()
    x = torch.rand(case["batch"], 3, case["size"], case["size"], device=device) * 2 - 1
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        g(x)
    flops = counter.get_total_flops()
    opts = VARIANTS[variant]
    if opts.get("channels_last"):
        g = g.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    net = torch.compile(g) if opts.get("compile") else g
    amp = (torch.autocast(device, dtype=torch.bfloat16) if opts.get("mixed_precision") == "bf16"
           else contextlib.nullcontext())
    started = time.perf_counter()
    with torch.inference_mode(), amp:
        for _ in range(args.warmup):
            net(x)
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        steps = 0
        while steps < args.steps and (steps == 0 or time.perf_counter() - t0 < args.max_seconds):
            net(x)
            steps += 1
        if cuda:
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - t0
    its = steps / elapsed
    mem = torch.cuda.max_memory_allocated() / 2**30 if cuda else None
    return {"case": case["name"], "kind": "inference", "variant": variant, "batch": case["batch"],
            "steps_timed": steps, "it_per_s": its, "images_per_s": its * case["batch"], "warmup_s": t0 - started,
            "peak_memory_gib": mem, "gflop_per_step": flops / 1e9}


def bf16_peak(device_name: str) -> float | None:
    for key, peak in BF16_PEAKS:
        if key.lower() in device_name.lower():
            return peak
    return None


def step_flops(case: dict[str, Any], data: Path, device: str) -> int:
    """Model FLOPs of one training step (one D update + one G update, forward and backward), counted in fp32."""
    import torch
    from torch.utils.data import DataLoader
    from torch.utils.flop_counter import FlopCounterMode

    import ganzoo

    model = ganzoo.build(case["plugin"], seed=0, **case["config"]).to(device).train()
    impl = model.impl
    batch = next(iter(DataLoader(impl.make_dataset(model, str(data)), batch_size=case["batch"], drop_last=True)))
    batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
    order = tuple(getattr(impl, "phase_order", ("D", "G")))
    with FlopCounterMode(display=False) as counter:
        for phase in order:
            losses = impl.discriminator_loss(model, batch) if phase == "D" else impl.generator_loss(model, batch)
            sum(losses.values()).backward()
    return int(counter.get_total_flops())


def run(case: dict[str, Any], variant: str, data: Path, args: argparse.Namespace) -> dict[str, Any]:
    import torch

    import ganzoo
    from ganzoo.training import Trainer, TrainerOptions

    cuda = torch.cuda.is_available() and args.device != "cpu"
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()  # this run's peak only (not the FLOP count's or the previous run's)
    stamps: list[float] = []
    started = time.perf_counter()

    def on_step_end(trainer: Any) -> None:
        if cuda:
            torch.cuda.synchronize()
        stamps.append(time.perf_counter())
        if time.perf_counter() - started > args.max_seconds and len(stamps) > args.warmup:
            trainer.request_stop()

    opts = TrainerOptions(max_steps=args.warmup + args.steps, batch_size=case["batch"], num_workers=args.workers,
                          sample_every=0, sample_n=8, checkpoint_every=0, progress=False, log_every=50,
                          **VARIANTS[variant])
    model = ganzoo.build(case["plugin"], seed=0, **case["config"])
    with tempfile.TemporaryDirectory() as tmp:
        Trainer(model, str(data), Path(tmp) / "run", opts, callbacks={"on_step_end": [on_step_end]}).fit()
    timed = stamps[args.warmup - 1:]  # from the end of the last warm-up step
    steps = len(timed) - 1
    if steps < 1:
        raise SystemExit(f"{case['name']} {variant}: fewer than {args.warmup + 1} steps ran; raise --max-seconds")
    its = steps / (timed[-1] - timed[0])
    mem = torch.cuda.max_memory_allocated() / 2**30 if cuda else None
    return {"case": case["name"], "variant": variant, "batch": case["batch"], "steps_timed": steps,
            "it_per_s": its, "images_per_s": its * case["batch"], "warmup_s": timed[0] - started,
            "peak_memory_gib": mem}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--cases", default=None, help="comma-separated case names (default: all)")
    parser.add_argument("--steps", type=int, default=60, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=15,
                        help="untimed steps first (compilation, autotuning; at least 1)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="stop a run after this long")
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1), help="data-loader processes")
    parser.add_argument("--device", default=None, help="cpu to force the CPU (default: the accelerator if any)")
    parser.add_argument("--peak-tflops", type=float, default=None, help="the device's dense bf16 peak, if not known")
    parser.add_argument("--quick", action="store_true", help="toy sizes, for checking the script on a CPU")
    parser.add_argument("--no-inference", action="store_true", help="skip the generator-inference timing")
    parser.add_argument("--dry-run", action="store_true",
                        help="smoke test: --quick --device cpu --steps 2 --warmup 1 --workers 0")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    if args.dry_run:
        args.quick, args.device, args.steps, args.warmup, args.workers = True, "cpu", 2, 1, 0
    if args.device == "cpu":  # before anything initialises CUDA
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        os.environ["ACCELERATE_USE_CPU"] = "true"
    if args.warmup < 1 or args.steps < 1:
        parser.error("--warmup and --steps must be at least 1")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}: choose from {', '.join(VARIANTS)}")

    import torch

    import ganzoo
    from ganzoo.testing import write_dataset

    cuda = torch.cuda.is_available() and args.device != "cpu"
    device = "cuda" if cuda else "cpu"
    name = torch.cuda.get_device_name(0) if cuda else platform.processor() or platform.machine()
    peak = args.peak_tflops or (bf16_peak(name) if cuda else None)
    if cuda:
        torch.backends.cudnn.benchmark = True
    chosen = cases(args.quick)
    if args.cases:
        wanted = {c.strip() for c in args.cases.split(",")}
        chosen = [c for c in chosen if c["name"] in wanted]
        if not chosen:
            parser.error(f"no case named {', '.join(sorted(wanted))}: choose from "
                         f"{', '.join(c['name'] for c in cases(args.quick))}")
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in chosen:
            model = ganzoo.build(case["plugin"], seed=0, **case["config"])
            data = write_dataset(case["task"], Path(tmp) / case["plugin"], model.config, n=case["n_images"])
            del model
            flops = step_flops(case, data, device)
            for variant in variants:
                rec = run(case, variant, data, args)
                rec["gflop_per_step"] = flops / 1e9
                rec["achieved_tflops"] = flops * rec["it_per_s"] / 1e12
                rec["fraction_of_bf16_peak"] = rec["achieved_tflops"] / peak if peak else None
                records.append(rec)
                print(f"{case['name']:>20} {variant:<16} {rec['it_per_s']:8.2f} it/s  "
                      f"{rec['achieved_tflops']:7.2f} TFLOP/s" + (f"  {rec['fraction_of_bf16_peak']:.1%} of peak"
                                                                  if peak else ""), flush=True)
        if not args.no_inference:
            icase = inference_case(args.quick)
            for variant in variants:
                rec = run_inference(icase, variant, args)
                rec["achieved_tflops"] = rec["gflop_per_step"] * 1e9 * rec["it_per_s"] / 1e12
                rec["fraction_of_bf16_peak"] = rec["achieved_tflops"] / peak if peak else None
                records.append(rec)
                print(f"{icase['name']:>20} {variant:<16} {rec['images_per_s']:8.1f} img/s  "
                      f"{rec['achieved_tflops']:7.2f} TFLOP/s", flush=True)
    env = (f"{name}, torch {torch.__version__}" + (f", CUDA {torch.version.cuda}" if cuda else "") +
           f", {args.workers} loader workers")
    lines = ["# Trainer throughput", "",
             "| case | variant | batch | it/s | images/s | GFLOP/step | TFLOP/s | of bf16 peak | peak mem GiB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        frac = f"{r['fraction_of_bf16_peak']:.1%}" if r["fraction_of_bf16_peak"] is not None else "—"
        mem = f"{r['peak_memory_gib']:.1f}" if r["peak_memory_gib"] is not None else "—"
        lines.append(f"| {r['case']} | {r['variant']} | {r['batch']} | {r['it_per_s']:.2f} | {r['images_per_s']:.0f} | "
                     f"{r['gflop_per_step']:.1f} | {r['achieved_tflops']:.2f} | {frac} | {mem} |")
    lines += ["", f"- Device: {env}; bf16 peak {peak if peak else 'unknown'} TFLOP/s.",
              f"- {args.warmup} warm-up steps, then up to {args.steps} timed steps (device synchronised), "
              "ganzoo's Trainer end to end; model FLOPs counted by torch's FlopCounterMode (fp32, D + G step).",
              "- Regenerate: `python benchmarks/gpu_throughput.py" + (" --quick" if args.quick else "") +
              (f" --device {args.device}" if args.device else "") + "`"]
    if not args.no_inference:
        lines.insert(-1, "- Inference rows: G_AB forward only (inference_mode), batches per second in the it/s column, "
                         "forward FLOPs.")
    text = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "gpu_throughput" + ("_quick" if args.quick else "")
    (args.out / f"{stem}.md").write_text(text, encoding="utf-8")
    (args.out / f"{stem}.json").write_text(json.dumps({"environment": env, "bf16_peak_tflops": peak,
                                                      "records": records}, indent=2) + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
