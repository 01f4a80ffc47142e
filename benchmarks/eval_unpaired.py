"""Score the unsupervised translators trained here against held-out ground truth, beside the trivial baselines.

    python benchmarks/eval_unpaired.py                       # every model (cards/<id>), results/unpaired.{md,json}
    python benchmarks/eval_unpaired.py --only dtn-print2hand --folder dtn-print2hand=runs/dtn-print2hand
    python benchmarks/eval_unpaired.py --make-cards          # copy runs/<id>/ into cards/<id>/ and write the cards

The models (trained unpaired; their data sets know the true pairs, used here only):

* ``stargan-digits-fonts`` — the ten digits in 6 fonts (``data/digits-fonts``, 32 px) and
  ``stargan-emoji-skintone`` — 6 skin tones (``data/emoji-skintone``, 32 px): every test image is translated from
  each domain into each other one (30 ordered pairs: 9,000 and 3,180 translations) and compared with the same
  image in the target domain;
* ``cyclegan-emoji-default2dark`` — the default (yellow) ↔ dark tone (``data/emoji-default2dark``, 32 px), both
  directions, 106 test pairs each;
* ``dtn-print2hand`` — printed digits → handwriting (``data/digits-print2hand``, 32 px), 1,000 test pairs.

Rows: **identity** (the input as the output; grey for DTN, whose target is grey), **colour transfer** (each
channel of the input shifted and scaled to the mean and standard deviation of that channel over the target
domain's training images: x' = (x − μ_x)/σ_x · σ_T + μ_T per image and channel), **real** (target-domain
training images as if they were outputs: the KID floor; no pairs) and the model. Metrics, on outputs rounded to
8 bits as a saved PNG:

* SSIM (Gaussian 11, σ 1.5), L1 and PSNR on [0, 1] pixels against the ground truth;
* KID (unbiased MMD², kernel (x·y/d + 1)³, 100 subsets of min(1000, n)) of the outputs against the real test
  images of the target domain, on EfficientNet-Lite0 features (``effnet``) for emoji and on the shipped digit
  classifier's (``digits``) for digits; for StarGAN per target domain (its test images translated from a source
  domain drawn at random per image, seed 0, vs its real test images), averaged over the domains;
* **target-domain accuracy**: a small CNN trained here (seed 0) on the real training images of the domains (the
  skin tones of ``emoji-skintone`` for both emoji models; the fonts of ``digits-fonts``) — did the output reach the
  target domain (its accuracy on the real test images is reported);
* label preservation: for digits the **label accuracy** of the shipped handwriting digit classifier
  (``ganzoo.metrics.digit_classifier``, trained on OpenCV's handwritten digits, independent of the domains) on the
  outputs against the inputs' digits; for emoji the **content agreement** of EfficientNet-Lite0's ImageNet top-1
  class between input and output (1 for identity by construction: it measures what a translation destroys).

A model is bundled only when it beats both baselines on SSIM, L1, KID and target-domain accuracy (DTN: SSIM, L1,
KID and label accuracy — its baselines do not reach the target domain's labels); identity keeps labels by
construction within one set of domains, so there label preservation is reported beside, not a bar.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = 0
SCRIPT = "python benchmarks/eval_unpaired.py"
KID_SUBSETS = 100

#: what the script scores: data folder, extractor, and the metrics the model must beat both baselines on (label
#: preservation of an input by identity is perfect by construction within a domain set, so multi-domain and
#: two-way models are held to keeping it, reported beside; DTN's classifier reads only the target domain)
MUST_BEAT_ALL = ("ssim", "l1", "kid", "domain_accuracy")
MODELS: dict[str, dict[str, Any]] = {
    "stargan-digits-fonts": {"kind": "multi", "data": "data/digits-fonts", "extractor": "digits",
                             "must_beat": MUST_BEAT_ALL},
    "stargan-emoji-skintone": {"kind": "multi", "data": "data/emoji-skintone", "extractor": "effnet",
                               "must_beat": MUST_BEAT_ALL},
    "cyclegan-emoji-default2dark": {"kind": "twoway", "data": "data/emoji-default2dark", "extractor": "effnet",
                                    "must_beat": MUST_BEAT_ALL},
    "dtn-print2hand": {"kind": "oneway", "data": "data/digits-print2hand", "extractor": "digits",
                       "must_beat": ("ssim", "l1", "kid", "label_accuracy")},
}
TONES = ("default", "light", "medium-light", "medium", "medium-dark", "dark")


# -- arithmetic ------------------------------------------------------------------------------------------------------


def quantize(x: Any) -> Any:
    return (x.clamp(-1, 1).add(1).mul(127.5).round() / 127.5 - 1)


def pixel_metrics(out: Any, target: Any) -> dict[str, float]:
    """Mean per-image SSIM, L1 and PSNR (capped at 100 dB) on [0, 1] pixels, outputs rounded to 8 bits."""
    import torch
    from torchmetrics.functional.image import structural_similarity_index_measure as ssim

    a, b = (quantize(out).float() + 1) / 2, (target.float().clamp(-1, 1) + 1) / 2
    s = ssim(a, b, data_range=1.0, gaussian_kernel=True, sigma=1.5, kernel_size=11, reduction="none")
    mse = ((a - b) ** 2).flatten(1).mean(1)
    psnr = (10 * torch.log10(1 / mse.clamp_min(1e-10))).clamp(max=100)
    return {"ssim": float(s.mean()), "l1": float((a - b).abs().mean()), "psnr": float(psnr.mean())}


def kid(real: Any, fake: Any, seed: int = SEED) -> tuple[float, float]:
    """KID as torchmetrics computes it (subsets of min(1000, n) drawn real-then-fake with ``seed``)."""
    import torch

    m = min(1000, real.shape[0], fake.shape[0])
    r, f = real.double(), fake.double()
    d = r.shape[1]
    vals = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _ in range(KID_SUBSETS):
            x, y = r[torch.randperm(r.shape[0])[:m]], f[torch.randperm(f.shape[0])[:m]]
            kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
            vals.append((kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
                        - 2 * kxy.sum() / m ** 2)
    t = torch.stack(vals)
    return float(t.mean()), float(t.std(unbiased=False))


def colour_transfer(x: Any, mean: Any, std: Any) -> Any:
    """Per image and channel: x' = (x − μ_x)/σ_x · σ_T + μ_T (target statistics ``mean``/``std``, shape (C,))."""
    mu = x.mean(dim=(2, 3), keepdim=True)
    sd = x.std(dim=(2, 3), keepdim=True).clamp_min(1e-3)
    return ((x - mu) / sd * std.view(1, -1, 1, 1) + mean.view(1, -1, 1, 1)).clamp(-1, 1)


def channel_stats(x: Any) -> tuple[Any, Any]:
    """Per-channel pixel mean and std over a set of images (the target domain's colour statistics)."""
    flat = x.transpose(0, 1).flatten(1)
    return flat.mean(1), flat.std(1)


def stack(paths: list[Path], channels: int) -> Any:
    import torch

    from ganzoo.data import open_image, to_tensor

    return torch.stack([to_tensor(open_image(p, channels)) for p in paths])


class Judge:
    """Feature networks (KID, content agreement), the domain classifiers and the digit classifier, loaded once."""

    def __init__(self) -> None:
        self._ext: dict[str, Any] = {}
        self._domain: dict[str, Any] = {}
        self.domain_test_accuracy: dict[str, float] = {}

    def extractor(self, name: str) -> Any:
        from ganzoo.metrics import load_extractor

        if name not in self._ext:
            self._ext[name] = load_extractor(name, "cpu")
        return self._ext[name]

    def features(self, name: str, x: Any) -> tuple[Any, Any]:
        import torch

        ext = self.extractor(name)
        feats, logits = [], []
        with torch.no_grad():
            for i in range(0, x.shape[0], 64):
                f, lg = ext.features_and_logits(x[i:i + 64])
                feats.append(f.float())
                logits.append(lg.float() if lg is not None else torch.zeros(f.shape[0], 1))
        return torch.cat(feats), torch.cat(logits)

    def domain_classifier(self, root: Path, domains: tuple[str, ...], channels: int) -> Any:
        """A 3-layer CNN trained on ``root/train/<domain>/`` (the real training images), seeded; cached per root.

        Its accuracy on the real ``root/test/<domain>/`` images is kept in :attr:`domain_test_accuracy`.
        """
        key = str(root)
        if key not in self._domain:
            import torch
            from torch import nn

            xs, ys = [], []
            for k, d in enumerate(domains):
                files = sorted((root / "train" / d).glob("*.png"))
                xs.append(stack(files, channels))
                ys += [k] * len(files)
            x, y = torch.cat(xs), torch.tensor(ys)
            torch.manual_seed(SEED)
            net = nn.Sequential(nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                nn.Linear(64, len(domains)))
            opt = torch.optim.Adam(net.parameters(), lr=2e-3)
            g = torch.Generator().manual_seed(SEED)
            epochs = max(3, 30000 // len(x))  # about 30,000 image presentations
            for _ in range(epochs):
                perm = torch.randperm(len(x), generator=g)
                for i in range(0, len(x), 32):
                    idx = perm[i:i + 32]
                    loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            net.eval()
            self._domain[key] = net
            test = [(stack(sorted((root / "test" / d).glob("*.png")), channels), k) for k, d in enumerate(domains)]
            self.domain_test_accuracy[key] = sum(float((self.domain_of(root, domains, channels, xt) == k).sum())
                                                 for xt, k in test) / sum(len(xt) for xt, _ in test)
        return self._domain[key]

    def domain_of(self, root: Path, domains: tuple[str, ...], channels: int, x: Any) -> Any:
        """The domain classifier's predictions for ``x`` (8-bit rounded first, as a saved PNG)."""
        import torch

        net = self.domain_classifier(root, domains, channels)
        with torch.no_grad():
            return torch.cat([net(quantize(x[i:i + 256])).argmax(1) for i in range(0, x.shape[0], 256)])

    def digit_labels(self, x: Any) -> Any:
        import torch

        from ganzoo.metrics import load_digit_classifier

        clf = load_digit_classifier()
        with torch.no_grad():
            return torch.cat([clf(quantize(x[i:i + 256])).argmax(1) for i in range(0, x.shape[0], 256)])


def _translate(model: Any, x: Any, **options: Any) -> Any:
    import torch

    with torch.no_grad():
        return torch.cat([model.sample(condition=x[i:i + 64], **options) for i in range(0, x.shape[0], 64)])


# -- per model ------------------------------------------------------------------------------------------------------


def eval_stargan(model: Any, data: Path, judge: Judge, extractor: str) -> dict[str, Any]:
    import torch

    doms = tuple(model.task.domain_names(model.config))
    ch = model.config.channels
    names = sorted(p.name for p in (data / "test" / doms[0]).glob("*.png"))
    test = {t: stack([data / "test" / t / n for n in names], ch) for t in doms}
    train = {t: stack(sorted((data / "train" / t).glob("*.png")), ch) for t in doms}
    stats = {t: channel_stats(train[t]) for t in doms}
    labels = None
    if (data / "labels" / "test.csv").is_file():  # digits: the label of each test name (the same in every domain)
        by_name = {r["file"].split("/")[-1]: int(r["digit"])
                   for r in csv.DictReader(open(data / "labels" / "test.csv", encoding="utf-8"))}
        labels = torch.tensor([by_name[n] for n in names])
    g = torch.Generator().manual_seed(SEED)
    kid_src = {t: torch.randint(0, len(doms) - 1, (len(names),), generator=g) for t in doms}
    methods = ("identity", "colour transfer", "model")
    acc: dict[str, dict[str, list[Any]]] = {m: {"out": [], "gt": [], "tgt": []} for m in methods}
    kid_sets: dict[str, dict[str, Any]] = {m: {} for m in methods}
    kid_inputs: dict[str, Any] = {}
    for t_i, t in enumerate(doms):
        others = [s for s in doms if s != t]
        per_src = {}
        for s in others:
            x = test[s]
            per_src[s] = {"identity": x, "colour transfer": colour_transfer(x, *stats[t]),
                          "model": _translate(model, x, domain=t)}
            for m in methods:
                acc[m]["out"].append(per_src[s][m])
                acc[m]["gt"].append(test[t])
                acc[m]["tgt"].append(torch.full((len(names),), t_i))
        pick = kid_src[t]
        kid_inputs[t] = torch.stack([test[others[int(k)]][i] for i, k in enumerate(pick)])
        for m in methods:
            kid_sets[m][t] = torch.stack([per_src[others[int(k)]][m][i] for i, k in enumerate(pick)])
    real_feats = {t: judge.features(extractor, test[t])[0] for t in doms}
    rows = []
    for m in methods:
        out, gt, tgt = (torch.cat(acc[m][k]) for k in ("out", "gt", "tgt"))
        row = {"row": m, **pixel_metrics(out, gt),
               "domain_accuracy": float((judge.domain_of(data, doms, ch, out) == tgt).float().mean())}
        if labels is not None:
            row["label_accuracy"] = float((judge.digit_labels(out) == labels.repeat(len(doms) * (len(doms) - 1)))
                                          .float().mean())
        kids, agree = [], []
        for t in doms:
            f, logits = judge.features(extractor, quantize(kid_sets[m][t]))
            kids.append(kid(real_feats[t], f)[0])
            if extractor == "effnet":  # ImageNet classes: the content agreement of input and output
                _, src_logits = judge.features(extractor, kid_inputs[t])
                agree.append(float((logits.argmax(1) == src_logits.argmax(1)).float().mean()))
        row.update({"kid": sum(kids) / len(kids), "kid_per_domain": dict(zip(doms, kids))})
        if agree:
            row["content_agreement"] = sum(agree) / len(agree)
        rows.append(row)
    real_kids = [kid(real_feats[t], judge.features(extractor, train[t])[0])[0] for t in doms]
    rows.insert(2, {"row": "real (training images of the target domain)", "kid": sum(real_kids) / len(real_kids)})
    return {"rows": rows, "pairs": len(doms) * (len(doms) - 1) * len(names), "n_test": len(names),
            "domain_classifier_test_accuracy": judge.domain_test_accuracy[str(data)]}


def eval_cyclegan(model: Any, data: Path, judge: Judge, extractor: str) -> dict[str, Any]:
    names = sorted(p.name for p in (data / "testA").glob("*.png"))
    a, b = stack([data / "testA" / n for n in names], 3), stack([data / "testB" / n for n in names], 3)
    train = {"A": stack(sorted((data / "trainA").glob("*.png")), 3),
             "B": stack(sorted((data / "trainB").glob("*.png")), 3)}
    ext = extractor
    tones = ROOT / MODELS["stargan-emoji-skintone"]["data"]  # its classifier knows the default and dark tones
    out: dict[str, list[dict[str, Any]]] = {}
    for direction, x, y, tgt, tone in (("AtoB", a, b, "B", TONES.index("dark")),
                                       ("BtoA", b, a, "A", TONES.index("default"))):
        real_f, _ = judge.features(ext, y)
        _, src_logits = judge.features(ext, x)
        rows = []
        for m, o in (("identity", x), ("colour transfer", colour_transfer(x, *channel_stats(train[tgt]))),
                     ("model", _translate(model, x, direction=direction))):
            f, logits = judge.features(ext, quantize(o))
            rows.append({"row": m, **pixel_metrics(o, y), "kid": kid(real_f, f)[0],
                         "domain_accuracy": float((judge.domain_of(tones, TONES, 3, o) == tone).float().mean()),
                         "content_agreement": float((logits.argmax(1) == src_logits.argmax(1)).float().mean())})
        rows.insert(2, {"row": "real (training images of the target domain)",
                        "kid": kid(real_f, judge.features(ext, train[tgt])[0])[0]})
        out[direction] = rows
    return {"rows": out, "n_test": len(names),
            "domain_classifier_test_accuracy": judge.domain_test_accuracy[str(tones)]}


def eval_dtn(model: Any, data: Path, judge: Judge, extractor: str) -> dict[str, Any]:
    import torch

    rows_csv = list(csv.DictReader(open(data / "labels" / "testA.csv", encoding="utf-8")))
    labels = torch.tensor([int(r["digit"]) for r in rows_csv])
    x = stack([data / "testA" / r["file"] for r in rows_csv], 3)
    y = stack([data / "testB" / r["file"] for r in rows_csv], 1)
    train_b = stack(sorted((data / "trainB").glob("*.png")), 1)
    grey = x.mean(dim=1, keepdim=True)
    ext = extractor
    real_f, _ = judge.features(ext, y)
    rows = []
    ct = colour_transfer(grey, *channel_stats(train_b))
    for m, o in (("identity (the input in grey)", grey), ("colour transfer", ct), ("model", _translate(model, x))):
        rows.append({"row": m, **pixel_metrics(o, y), "kid": kid(real_f, judge.features(ext, quantize(o))[0])[0],
                     "label_accuracy": float((judge.digit_labels(o) == labels).float().mean())})
    g = torch.Generator().manual_seed(SEED)
    sub = train_b[torch.randperm(len(train_b), generator=g)[: len(y)]]
    rows.insert(2, {"row": "real (training images of the target domain)",
                    "kid": kid(real_f, judge.features(ext, sub)[0])[0], "label_accuracy": None})
    return {"rows": rows, "n_test": len(y),
            "gt_label_accuracy": float((judge.digit_labels(y) == labels).float().mean())}


EVALUATORS = {"multi": eval_stargan, "twoway": eval_cyclegan, "oneway": eval_dtn}


def evaluate_model(model_id: str, folder: str, judge: Judge) -> dict[str, Any]:
    """Load ``folder`` and score it with its evaluator; adds timings and the command to the result."""
    import torch

    import ganzoo

    spec = MODELS[model_id]
    data = ROOT / spec["data"]
    if not (data / "SOURCE.md").is_file():
        fetch = "fetch_fonts.py" if model_id.startswith("dtn") else "fetch_emoji.py"
        raise SystemExit(f"{spec['data']} is missing: python scripts/{fetch} (see benchmarks/README.md)")
    torch.manual_seed(SEED)
    t0 = time.perf_counter()
    model = ganzoo.load(folder, device="cpu")
    result = EVALUATORS[spec["kind"]](model, data, judge, spec["extractor"])
    result.update({"id": model_id, "folder": folder, "data": spec["data"], "extractor": spec["extractor"],
                   "extractor_sha256": judge.extractor(spec["extractor"]).weights_sha256,
                   "seconds": round(time.perf_counter() - t0, 1)})
    return result


def beats_baselines(result: dict[str, Any]) -> list[str]:
    """What the model fails to beat both baselines on (its ``must_beat`` metrics); empty: it beats them."""
    tables = result["rows"] if isinstance(result["rows"], dict) else {"": result["rows"]}
    better = {"ssim": max, "l1": min, "kid": min, "domain_accuracy": max, "label_accuracy": max}
    fails = []
    for direction, rows in tables.items():
        model = next(r for r in rows if r["row"] == "model")
        for base in (r for r in rows if r["row"].startswith(("identity", "colour transfer"))):
            for key in MODELS[result["id"]]["must_beat"]:
                if base.get(key) is not None and better[key](model[key], base[key]) != model[key]:
                    fails.append(f"{direction + ' ' if direction else ''}{key} vs {base['row']}")
                elif base.get(key) is not None and model[key] == base[key]:
                    fails.append(f"{direction + ' ' if direction else ''}{key} ties {base['row']}")
    return fails


# -- report ----------------------------------------------------------------------------------------------------------


OPTIONAL = (("domain_accuracy", "target-domain acc. ↑"), ("label_accuracy", "label acc. ↑"),
            ("content_agreement", "content agreement ↑"))


def table(result: dict[str, Any]) -> list[str]:
    """Markdown rows of one model's result (one table per direction for two-way models)."""
    def f(v: Any, fmt: str) -> str:
        return "—" if v is None else fmt.format(v)

    tables = result["rows"] if isinstance(result["rows"], dict) else {"": result["rows"]}
    lines = []
    for direction, rows in tables.items():
        extra = [(k, h) for k, h in OPTIONAL if any(r.get(k) is not None for r in rows)]
        if direction:
            lines += ["", f"*{direction}* ({'default → dark' if direction == 'AtoB' else 'dark → default'}):", ""]
        lines += ["| | SSIM ↑ | L1 ↓ | PSNR ↑ | KID ↓ |" + "".join(f" {h} |" for _, h in extra),
                  "|---|---|---|---|---|" + "---|" * len(extra)]
        for r in rows:
            name = f"`{result['id']}`" if r["row"] == "model" else r["row"]
            lines.append(f"| {name} | {f(r.get('ssim'), '{:.3f}')} | {f(r.get('l1'), '{:.4f}')} | "
                         f"{f(r.get('psnr'), '{:.2f}')} | {f(r.get('kid'), '{:.4f}')} |"
                         + "".join(f" {f(r.get(k), '{:.3f}')} |" for k, _ in extra))
    return lines


def markdown(results: list[dict[str, Any]], machine: str) -> str:
    lines = ["# Unsupervised translation: held-out scores beside the trivial baselines", "",
             f"Generated by `{SCRIPT}` on {machine}, seed {SEED}. The protocol is in the script's docstring: SSIM/L1/"
             "PSNR against the known pairs (8-bit outputs, [0, 1] pixels), KID against the real test images of the "
             "target domain, label preservation by a classifier named per model.", ""]
    for r in results:
        lines += [f"## {r['id']}", "", f"Test data `{r['data']}`; model folder `{r['folder']}`; KID on "
                  f"`{r['extractor']}` features. Evaluated in {r['seconds']:.0f} s.", ""]
        lines += table(r)
        fails = beats_baselines(r)
        lines += ["", "Beats both baselines on SSIM, L1, KID and accuracy." if not fails else
                  f"Does **not** beat the baselines on: {', '.join(fails)}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(MODELS), action="append", help="only this model (repeatable)")
    parser.add_argument("--folder", action="append", default=[], metavar="ID=PATH",
                        help="evaluate this folder for the model id (default: cards/<id>)")
    parser.add_argument("--make-cards", action="store_true",
                        help="copy runs/<id>/ into cards/<id>/ and write its card with these numbers (refused for a "
                             "model that does not beat the baselines)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    import os

    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    os.chdir(ROOT)  # folders and data paths are recorded relative to the repository root
    folders = {mid: f"cards/{mid}" for mid in MODELS}
    if args.make_cards:
        folders = {mid: f"runs/{mid}" for mid in MODELS}
    for item in args.folder:
        mid, _, path = item.partition("=")
        if mid not in MODELS or not path:
            parser.error(f"--folder wants ID=PATH with ID one of {', '.join(MODELS)}")
        folders[mid] = path
    judge = Judge()
    results = []
    for mid in MODELS:
        if args.only and mid not in args.only:
            continue
        if not (Path(folders[mid]) / "config.json").is_file():
            print(f"skipping {mid}: {folders[mid]} has no model", file=sys.stderr)
            continue
        results.append(evaluate_model(mid, folders[mid], judge))
        print("\n".join([f"## {mid}"] + table(results[-1])), flush=True)
    machine = f"{platform.machine()} CPU, torch {torch.__version__}, {torch.get_num_threads()} thread(s)"
    if args.make_cards:
        from unpaired_cards import make_card_folder

        for r in results:
            fails = beats_baselines(r)
            if fails:
                print(f"not bundling {r['id']}: it does not beat the baselines on {', '.join(fails)}", file=sys.stderr)
                continue
            print(f"wrote {make_card_folder(r, table(r))}")
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if not args.only else "-" + "-".join(sorted(args.only))
    (args.out / f"unpaired{suffix}.md").write_text(markdown(results, machine) + "\n", encoding="utf-8")
    (args.out / f"unpaired{suffix}.json").write_text(json.dumps({"machine": machine, "seed": SEED,
                                                                 "models": results}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
