"""Speech enhancement on the held-out set: a model beside the noisy input and the Wiener filter, on PESQ-WB, STOI,
SI-SDR, segmental SNR and DNSMOS; spectrograms (noisy | enhanced | clean) and example WAVs.

    python scripts/fetch_speech.py --out data/speech
    python benchmarks/eval_speech.py segan-speech --data data/speech --out benchmarks/results/speech \\
        --examples 3 --write-card cards/segan-speech

Writes ``OUT/speech.md`` (the table and the protocol), ``OUT/speech.json`` (per-system summaries),
``OUT/spectrograms/*.png`` and ``OUT/examples/*_{noisy,enhanced,clean}.wav``. With ``--write-card``, the model's
numbers and every metric's protocol (baselines included) go into that card folder's README.md (front matter
``ganzoo.metrics`` and the "Evaluation" table), and the spectrograms are copied next to it. The example WAVs are
derived from CC-BY-SA-3.0 recordings (Asterisk prompts), so they are written here, not committed.
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
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    import torch

    import ganzoo
    from ganzoo.data.audio import read_audio, write_audio
    from ganzoo.metrics.audio import evaluate_speech, wiener_filter

    torch.set_num_threads(1)
    model = ganzoo.load(args.model)  # a registry id, hf-hub:…, or a folder given as a path (./runs/x)
    label = str(model.name or model.plugin.name)
    t0 = time.time()
    report = evaluate_speech(model, args.data, split=args.split, metrics=args.metrics, limit=args.limit,
                             seed=args.seed, progress=lambda i, n: print(f"\r{i}/{n}", end="", flush=True))
    wall = time.time() - t0
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
    print(f"updated {folder / 'README.md'}")


if __name__ == "__main__":
    main()
