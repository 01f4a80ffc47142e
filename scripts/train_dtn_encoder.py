"""Pretrain DTN's fixed encoder f as a digit classifier on the source domain, and ship it with the plugin.

    python scripts/fetch_fonts.py                 # data/digits-print2hand
    python scripts/train_dtn_encoder.py           # → plugins/dtn/ganzoo_dtn/weights/print-digits-encoder.safetensors

As the paper pretrains f on SVHN (the source domain of its digit experiment) with a classification head, this
trains :class:`ganzoo_dtn.model.Encoder` and its linear head with cross-entropy on the labelled printed digits of
``trainA`` (the source domain only: no target image is seen), and measures its accuracy on ``testA``. The weights
are written as safetensors with the run's facts in their metadata, and ``weights/README.md`` records the command,
data fingerprint, accuracy and sha256 — paste the sha256 into ``ENCODERS`` in ``ganzoo_dtn/model.py`` (the plugin
refuses a file whose hash differs).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "plugins" / "dtn" / "ganzoo_dtn" / "weights"


def _load(root: Path, split: str):
    import numpy as np
    import torch
    from PIL import Image

    rows = list(csv.DictReader(open(root / "labels" / f"{split}.csv", encoding="utf-8")))
    x = np.stack([np.asarray(Image.open(root / split / r["file"]).convert("RGB")) for r in rows])
    x = torch.from_numpy(x).permute(0, 3, 1, 2).float() / 127.5 - 1
    return x, torch.tensor([int(r["digit"]) for r in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "digits-print2hand")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file

    sys.path.insert(0, str(ROOT / "plugins" / "dtn"))
    from ganzoo_dtn.model import ENCODERS, Encoder

    if not (args.data / "SOURCE.md").is_file():
        raise SystemExit(f"{args.data} is missing: python scripts/fetch_fonts.py")
    torch.manual_seed(args.seed)
    spec = ENCODERS["print-digits"]
    x, y = _load(args.data, "trainA")
    xt, yt = _load(args.data, "testA")
    f = Encoder(spec["input_channels"], spec["f_dims"], spec["num_classes"])
    opt = torch.optim.Adam(f.parameters(), lr=args.lr)
    steps = args.epochs * (len(x) // args.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    g = torch.Generator().manual_seed(args.seed)
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        f.train()
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x) - args.batch_size + 1, args.batch_size):
            idx = perm[i:i + args.batch_size]
            loss = F.cross_entropy(f.logits(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        f.eval()
        with torch.no_grad():
            acc = float((torch.cat([f.logits(xt[i:i + 256]).argmax(1) for i in range(0, len(xt), 256)]) == yt)
                        .float().mean())
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f}, testA accuracy {acc:.4f}", flush=True)
    with torch.no_grad():  # the code's RMS over the training images: f(x) is divided by it (see Encoder)
        codes = torch.cat([f.body(x[i:i + 256]).flatten(1) for i in range(0, len(x), 256)])
        f.scale.fill_(float(codes.pow(2).mean().sqrt()))
    seconds = time.perf_counter() - t0
    fingerprint = (args.data / "SOURCE.md").read_text(encoding="utf-8").split("Fingerprint", 1)[-1]
    fingerprint = fingerprint.split("`")[1] if "`" in fingerprint else "?"
    command = "python scripts/train_dtn_encoder.py" + "".join(
        f" --{k.replace('_', '-')} {v}" for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                                     ("lr", args.lr), ("seed", args.seed)))
    meta = {"ganzoo_component": "f", "plugin": "dtn", "encoder": "print-digits", "command": command,
            "data_fingerprint": fingerprint, "test_accuracy": f"{acc:.4f}"}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / spec["file"]
    tmp = path.with_suffix(".tmp")
    save_file({k: v.contiguous() for k, v in f.state_dict().items()}, str(tmp), metadata=meta)
    tmp.replace(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    n_params = sum(p.numel() for p in f.parameters())
    (args.out / "README.md").write_text(f"""# DTN's pretrained encoders

## `print-digits` — `{spec['file']}`

The fixed encoder f of `dtn-print2hand`: the paper's digit f (four 3×3 conv layers of 64, 128, 256 and 128 filters,
each followed by max pooling — the last one global — and ReLU; a 128-d code) with a linear 10-way head, trained as a
digit classifier on the **source domain only**: the {len(x)} labelled printed digits of `trainA` in
`data/digits-print2hand` (18 typefaces, random colours; `python scripts/fetch_fonts.py`, fingerprint
`{fingerprint}`), as the paper trains f on SVHN.

- Command: `{command}` (Adam, cosine-annealed learning rate, cross-entropy), {seconds:.0f} s on
  {platform.machine()} CPU ({torch.get_num_threads()} thread(s)), torch {torch.__version__}.
- Accuracy on the {len(xt)} held-out printed digits of `testA`: **{acc:.4f}**.
- Parameters: {n_params:,} (f.body: the encoder; f.head: the classifier used only for pretraining); f.scale =
  {float(f.scale):.4f}, the code's root mean square over the training images (DTN's f(x) is the code divided by it).
- sha256: `{digest}` (pinned in `ENCODERS` in `ganzoo_dtn/model.py`).
""", encoding="utf-8")
    print(json.dumps({"file": str(path.relative_to(ROOT)), "sha256": digest, "test_accuracy": acc,
                      "seconds": round(seconds, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
