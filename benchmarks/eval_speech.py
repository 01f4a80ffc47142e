"""Speech enhancement on the held-out set: a model beside the noisy input and the Wiener filter, on PESQ-WB, STOI,
SI-SDR, segmental SNR and DNSMOS; spectrograms (noisy | enhanced | clean) and example WAVs.

    python scripts/fetch_speech.py --out data/speech
    python benchmarks/eval_speech.py segan-speech --data data/speech --out benchmarks/results/speech \\
        --examples 3 --write-card cards/segan-speech
    python benchmarks/eval_speech.py runs/segan-speech --bundle-into cards/segan-speech …   # make the card first

Writes ``OUT/speech.md`` (the table and the protocol), ``OUT/speech.json`` (per-system summaries),
``OUT/spectrograms/*.png`` and ``OUT/examples/*_{noisy,enhanced,clean}.wav``. With ``--write-card``, the model's
numbers and every metric's protocol (baselines included) go into that card folder's README.md (front matter
``ganzoo.metrics`` and the "Evaluation" table), and the spectrograms are copied next to it. ``--bundle-into DIR``
first turns a training run into that card folder (its weights byte for byte, config.json, a card with the data's
provenance and every departure from the paper), then evaluates the bundled copy and writes the numbers into it.
The example WAVs are derived from CC-BY-SA-3.0 recordings (Asterisk prompts), so they are written here, not
committed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SR = 16000
_CMAP = np.array([[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21],
                  [250, 193, 39], [252, 255, 164]], dtype=np.float64)  # magma-like anchors, dark to bright


def spectrogram_image(x: np.ndarray, *, n_fft: int = 512, hop: int = 128, height: int = 160) -> "object":
    """A log-magnitude spectrogram (0–8 kHz bottom-up, 80 dB range) as a PIL image."""
    from PIL import Image

    x = np.asarray(x, dtype=np.float64)
    x = np.pad(x, (0, max(0, n_fft - len(x))))
    frames = 1 + (len(x) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    mag = np.abs(np.fft.rfft(x[idx] * np.hanning(n_fft), axis=1)).T  # (bins, frames)
    db = 20 * np.log10(mag + 1e-9)
    db = np.clip((db - (db.max() - 80.0)) / 80.0, 0.0, 1.0)[::-1]
    pos = db * (len(_CMAP) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(_CMAP) - 2)
    frac = (pos - lo)[..., None]
    rgb = (_CMAP[lo] * (1 - frac) + _CMAP[lo + 1] * frac).astype(np.uint8)
    return Image.fromarray(rgb).resize((frames, height))


def spectrogram_panel(rows: list[tuple[str, np.ndarray]], path: Path) -> Path:
    """Spectrograms stacked top to bottom with their labels, written as PNG."""
    from PIL import Image, ImageDraw

    images = [spectrogram_image(x) for _, x in rows]
    w, h, label = max(im.width for im in images), images[0].height, 16
    canvas = Image.new("RGB", (w, len(images) * (h + label)), "white")
    draw = ImageDraw.Draw(canvas)
    for i, ((name, _), im) in enumerate(zip(rows, images)):
        y = i * (h + label)
        draw.text((4, y + 2), name, fill=(0, 0, 0))
        canvas.paste(im, (0, y + label))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="a speech-enhancement model: registry id, hf-hub:…, or a model folder")
    ap.add_argument("--data", default="data/speech", help="root/[split/]{clean,noisy}/*.wav")
    ap.add_argument("--split", default="test")
    ap.add_argument("--metrics", default="pesq,stoi,si_sdr,segsnr,dnsmos")
    ap.add_argument("--limit", type=int, default=None, help="only the first N utterances")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/speech"))
    ap.add_argument("--examples", type=int, default=3, help="utterances drawn as spectrograms and written as WAVs")
    ap.add_argument("--write-card", type=Path, default=None, help="a card folder whose README.md gets the numbers")
    ap.add_argument("--bundle-into", type=Path, default=None,
                    help="make this card folder from the run MODEL first, then evaluate and fill it")
    ap.add_argument("--train-command", default="", help="with --bundle-into: the training command(s) to record")
    args = ap.parse_args(argv)
    if args.bundle_into:
        sys.path.insert(0, str(ROOT))
        bundle(Path(args.model), args.bundle_into, args.train_command)
        args.model, args.write_card = str(args.bundle_into), args.bundle_into

    sys.path.insert(0, str(ROOT))
    import torch

    import ganzoo
    from ganzoo.data.audio import read_audio, write_audio
    from ganzoo.metrics.audio import evaluate_speech, wiener_filter

    torch.set_num_threads(1)
    model = ganzoo.load(args.model)  # a registry id, hf-hub:…, or a folder given as a path (./runs/x)
    t0 = time.time()
    report = evaluate_speech(model, args.data, split=args.split, metrics=args.metrics, limit=args.limit,
                             seed=args.seed, progress=lambda i, n: print(f"\r{i}/{n}", end="", flush=True))
    wall = time.time() - t0
    label = report.systems[-1]
    print()
    summary = report.summary()
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/eval_speech.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = [f"# Speech enhancement: {label} on {Path(args.data).name}/{args.split}", "",
             f"`{command}` ({len(report.files)} utterances, {wall:.0f} s on this machine)", "",
             report.table(), "", "Protocols:", ""]
    lines += [f"- **{m}**: " + "; ".join(f"{k}: {v}" for k, v in report.protocol[m].items()) for m in report.metrics]
    lines += ["- **data**: " + "; ".join(f"{k}: {v}" for k, v in report.protocol["data"].items())]
    if "dnsmos" in report.metrics:
        lines += ["", "DNSMOS in detail (SIG / BAK / OVRL / P.808):", ""]
        for s in report.systems:
            lines.append(f"- {s}: " + " / ".join(f"{report.mean(s, k):.3f}" for k in
                                                    ("dnsmos_sig", "dnsmos_bak", "dnsmos", "dnsmos_p808")))
    (args.out / "speech.md").write_text("\n".join(lines) + "\n")
    (args.out / "speech.json").write_text(json.dumps({"command": command, "wall_s": round(wall, 1),
                                                      **report.to_dict()}, indent=1))
    print("\n".join(lines))

    pngs = []
    base = Path(args.data) / args.split if (Path(args.data) / args.split).is_dir() else Path(args.data)
    step = max(1, len(report.files) // max(1, args.examples))
    for name in report.files[::step][: args.examples]:
        clean = read_audio(base / "clean" / name).mono()
        noisy = read_audio(base / "noisy" / name).mono()
        with torch.no_grad():
            enhanced = model.sample(condition=torch.from_numpy(noisy)[None], seed=args.seed)[0].numpy()
        stem = Path(name).stem
        pngs.append(spectrogram_panel([("noisy", noisy), ("Wiener filter", wiener_filter(noisy)),
                                       (f"enhanced ({label})", enhanced), ("clean", clean)],
                                      args.out / "spectrograms" / f"{stem}.png"))
        for kind, x in (("noisy", noisy), ("enhanced", enhanced), ("clean", clean)):
            write_audio(args.out / "examples" / f"{stem}_{kind}.wav", x, SR)
    print(f"wrote {args.out}/speech.md, {len(pngs)} spectrograms, {3 * len(pngs)} example WAVs")

    if args.write_card:
        write_card(args.write_card, report, summary, command, pngs)


DATASET = {
    "name": "ganzoo noisy speech (scripts/fetch_speech.py): Asterisk, Tux Paint and KLettres speech mixed with "
            "Tux Paint effects, ALSA and coloured noise at 0/5/10/15 dB (train) and 2.5/7.5/12.5/17.5 dB (test)",
    "source": "python scripts/fetch_speech.py --out data/speech (apt-get download of 7 pinned Debian 12 packages, "
              "sha256-checked; 603 train utterances / 56.8 min from 15 sources, 96 test utterances / 10.9 min from 2 "
              "held-out speakers with held-out noises; seed 0)",
    "license": "CC-BY-SA-3.0 AND GPL-2.0-or-later",
}
NOTES = """**Departures from the paper** (Pascual et al. 2017) and the authors' code, all forced by training on one
shared CPU core in about an hour, or chosen for whole-file inference:

- **Width:** every layer has 1/8 of the paper's channels (G encoder 2, 4, 4, 8, 8, 16, 16, 32, 32, 64, 128; the
  decoder mirrors it; z is 8×128 instead of 8×1024; D the same widths). Depth (11 + 11 layers), kernel 31, stride 2,
  PReLU, skips, VBN, LSGAN, λ = 100, RMSprop 2e-4, pre-emphasis 0.95 and the 16,384-sample windows at 50 % overlap
  are the paper's. G has 1.14 M parameters (4.6 MB) against 73.1 M at full width.
- **Initialisation:** Glorot-normal convolutions (`init=glorot`) instead of the authors' truncated N(0, 0.02).
  At 1/8 width the fan-ins are 8× smaller, and with σ = 0.02 the encoder's activations fall to ~2e-9 at the
  bottleneck and its gradients to ~1e-19, far below RMSprop's ε: the deep layers never learn. A run with the
  authors' initialisation (same command with `init=normal`, 4,000 steps) ended worse than the noisy input
  (PESQ 1.13, STOI 0.68 on every 8th test utterance, against 1.38 and 0.89).
- **Training length:** STEPS steps at batch 16 (about EPOCHS epochs of 6,353 windows), against 86 epochs at an
  effective batch of 400 in the paper.
- **Data:** the offline set above (real speech, real and coloured noise, SEGAN's SNRs, held-out speakers and
  noises) instead of VoiceBank-DEMAND, which cannot be downloaded here.
- **Inference:** 50 % overlapping windows, Hann-weighted overlap-add, de-emphasis over the whole signal; the
  authors concatenate non-overlapping windows, which leaves seams. Training windows at a file's end are
  zero-padded rather than dropped.
- **Optimiser details:** PyTorch's RMSprop (squared-gradient average starting at 0, ε 1e-8 outside the square root)
  with TensorFlow's default ρ = 0.9; TensorFlow starts the average at 1. The least-squares terms follow the
  authors' code (no ½ factors).

The spectrograms below show a held-out utterance (top to bottom: noisy, Wiener filter, SEGAN, clean); they are
derived from Asterisk prompts (CC-BY-SA-3.0, Digium). `benchmarks/eval_speech.py … --examples N` also writes
the matching WAVs."""


def bundle(run: Path, dest: Path, train_command: str) -> None:
    """Copy a training run's weights and config into ``dest`` and write its card (data provenance, departures)."""
    from ganzoo.cards import load_card, make_card
    from ganzoo.hub import verify_folder
    from ganzoo.registry import get_plugin

    data = verify_folder(run)
    card = load_card(run / "README.md")
    block = dict(card.data.ganzoo)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for entry in data["components"].values():
        shutil.copy2(run / entry["file"], dest / entry["file"])
    (dest / "config.json").write_text(json.dumps(data, indent=2) + "\n")
    trained = dict(block["trained_with"])
    trained["data"] = "data/speech"
    if train_command:
        trained["command"] = train_command
    block.update(trained_with=trained, dataset=DATASET, dataset_license=DATASET["license"],
                 weights_license="apache-2.0", summary="SEGAN at 1/8 width, trained here on offline noisy speech",
                 sha256={e["file"]: e["sha256"] for e in data["components"].values()})
    for key in ("plugin", "tag", "metrics"):
        block.pop(key, None)
    notes = NOTES.replace("STEPS", f"{trained['steps']:,}").replace("EPOCHS", f"{trained['epochs']:.1f}")
    new = make_card(plugin=get_plugin(data["plugin"]), tag=card.data.ganzoo["tag"], ganzoo=block,
                    license="apache-2.0", datasets=["ganzoo-noisy-speech"], notes=notes)
    new.save(dest / "README.md")
    verify_folder(dest)
    print(f"wrote {dest}")


def write_card(folder: Path, report, summary: dict, command: str, pngs: list[Path]) -> None:
    """Put the model's numbers, with each protocol and the baselines beside them, into the card."""
    from ganzoo.cards import load_card, update_card

    card = load_card(folder / "README.md")
    model = report.systems[-1]
    metrics = []
    for m in report.metrics:
        proto = dict(report.protocol[m])
        proto.update({"extractor": proto.pop("package", "none"), "reference": report.protocol["data"]["root"] + "/"
                      + str(report.protocol["data"]["split"]) + "/clean", "n_generated": len(report.files),
                      "seed": report.protocol["data"]["seed"], "command": command,
                      "baselines": {s: round(summary[s][m]["mean"], 4) for s in report.systems[:-1]}})
        metrics.append({"name": m, "value": round(summary[model][m]["mean"], 4),
                        "std": round(summary[model][m]["std"], 4), "protocol": proto})
    update_card(card, metrics=metrics)
    start, end = "<!-- speech-eval -->", "<!-- /speech-eval -->"
    table = f"{start}\n{report.table()}\n\n({len(report.files)} held-out utterances; `{command}`)\n{end}"
    text = card.text
    if start in text and end in text:
        text = text[:text.index(start)] + table + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + table + "\n"
    card.text = text
    card.save(folder / "README.md")
    for p in pngs:
        shutil.copy2(p, folder / p.name)
    if pngs:
        card = load_card(folder / "README.md")
        images = "\n".join(f"![{p.stem}: noisy, Wiener, enhanced, clean]({p.name})" for p in pngs)
        start, end = "<!-- spectrograms -->", "<!-- /spectrograms -->"
        block = f"{start}\n{images}\n{end}"
        text = card.text
        text = (text[:text.index(start)] + block + text[text.index(end) + len(end):]) if start in text \
            else text.rstrip() + "\n\n" + block + "\n"
        card.text = text
        card.save(folder / "README.md")
    print(f"updated {folder / 'README.md'}")


if __name__ == "__main__":
    main()
