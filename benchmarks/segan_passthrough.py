"""Can a SEGAN generator give its input back? The bug check behind docs/speech.md's "Why" paragraph.

    python benchmarks/segan_passthrough.py --data data/speech --steps 400 --eval-every 200 \\
        --g-channels 2,4,4,8,8,16,16,32,32,64,128
    python benchmarks/segan_passthrough.py --data data/speech --linear 2,16 --steps 500

Default mode: G (``--g-channels``, z 8×128, Glorot) is trained on λ·L1 alone (λ = 100, RMSprop 2e-4, batch 16) with
the pre-emphasised noisy training windows as both input and target, and every ``--eval-every`` steps the noisy
test utterances (every 8th) are enhanced and scored against *themselves* (identity: PESQ 4.64, STOI 1.0).
``--linear C1,C2…``: only G's outermost linear path (strided conv 1→C, kernel 31 → transposed conv C→1) trained the
same way, reporting its reconstruction SNR on the training batch.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]


def batches(ds, steps: int, seed: int = 0):
    """``steps`` batches of 16 pre-emphasised noisy windows (B, 1, T), drawn with replacement."""
    from ganzoo.data.audio import pre_emphasis

    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        items = [ds[i] for i in torch.randint(len(ds), (16,), generator=g).tolist()]
        yield pre_emphasis(torch.stack([x["noisy"] for x in items]), 0.95)[:, None]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="data/speech")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--g-channels", default="2,4,4,8,8,16,16,32,32,64,128")
    ap.add_argument("--linear", default="", help="channel counts: measure the outermost linear path only")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import ganzoo
    from ganzoo.data.audio import SpeechPairWindows, read_audio
    from ganzoo.metrics.audio import pesq_wb, stoi

    torch.set_num_threads(1)
    ds = SpeechPairWindows(args.data, sample_rate=16000, segment=16384, split="train")
    if args.linear:
        for c in (int(x) for x in args.linear.split(",")):
            torch.manual_seed(0)
            enc = torch.nn.Conv1d(1, c, 31, 2, 15, bias=False)
            dec = torch.nn.ConvTranspose1d(c, 1, 31, 2, 15, output_padding=1, bias=False)
            torch.nn.init.xavier_normal_(enc.weight)
            torch.nn.init.xavier_normal_(dec.weight)
            opt = torch.optim.RMSprop([enc.weight, dec.weight], lr=2e-4, alpha=0.9)
            for step, n in enumerate(batches(ds, args.steps), 1):
                y = dec(enc(n))
                loss = (y - n).abs().mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                if step % args.eval_every == 0 or step == args.steps:
                    snr = 10 * np.log10(float((n ** 2).sum() / ((y.detach() - n) ** 2).sum()))
                    print(f"linear path C={c}, step {step}: reconstruction SNR {snr:.1f} dB", flush=True)
        return
    chans = [int(x) for x in args.g_channels.split(",")]
    torch.manual_seed(0)
    model = ganzoo.build("segan", g_channels=chans, d_channels=[2, 4, 4, 8, 8, 16, 16, 32, 32, 64, 128],
                         z_channels=128, init="glorot")
    opt = model.impl.configure_optimizers(model)["G"]
    root = Path(args.data) / "test"
    names = sorted(p.name for p in (root / "noisy").iterdir())[::8]

    def evaluate(step: int) -> None:
        model.G.eval()
        scores = []
        for name in names:
            x = read_audio(root / "noisy" / name).mono()
            y = model.sample(condition=torch.from_numpy(x)[None], seed=0)[0].numpy()
            scores.append((pesq_wb(x, y), stoi(x, y)))
        model.G.train()
        p, s = np.nanmean(np.array(scores), 0)
        print(f"g_channels {chans}, step {step}: G(noisy) against noisy PESQ {p:.3f} STOI {s:.3f} "
              f"({len(names)} files)", flush=True)

    evaluate(0)
    t0 = time.time()
    for step, n in enumerate(batches(ds, args.steps), 1):
        loss = model.config.l1_weight * (model.G(n) - n).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % args.eval_every == 0 or step == args.steps:
            print(f"step {step}: 100·L1 {float(loss.detach()):.4f} ({time.time() - t0:.0f} s)", flush=True)
            evaluate(step)


if __name__ == "__main__":
    main()
