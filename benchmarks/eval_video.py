"""Evaluate the video models beside their baselines: per-horizon curves, tables, JSON and comparison GIFs.

    # moving digits: framegan (adv+GDL) beside copy-last-frame and the ablations trained by the same command
    python benchmarks/eval_video.py digits --model runs/framegan-digits \\
        --baseline l2=runs/framegan-digits-l2 --baseline gdl=runs/framegan-digits-gdl --horizon 10 --n 256
    # the game: gamegan beside copy-last-frame and the regression-only model; object positions over 1..20
    python benchmarks/eval_video.py game --model runs/gamegan-paddle --baseline l2=runs/gamegan-paddle-l2 --horizon 20
    # real video (scripts/fetch_video.py), any framegan model trained on it
    python benchmarks/eval_video.py real --model runs/framegan-vtest --data data/video --horizon 8

Each run writes ``<out>/<name>.json`` (every curve and the protocol), ``<out>/<name>.md`` (the tables the cards and
docs/video.md quote) and, with ``--gifs DIR``, ``DIR/<name>.gif``: ``input | <baselines> | model | truth`` for a
few test clips (64² frames; a few hundred kB). Models are named as ``ganzoo.load`` takes them (a run folder, a
registry id). Seeds, clip counts and the extractor are recorded in the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch

import ganzoo
from ganzoo.metrics.video import VideoReport, evaluate_video, predict_clips
from ganzoo.tasks.video import write_comparison

DATA = {"digits": "builtin:moving-digits", "game": "builtin:paddle-ball", "real": "data/video"}


def _load(name: str) -> Any:
    return ganzoo.load(name if not Path(name).exists() or "/" in name else f"./{name}").eval()


def _baselines(specs: list[str]) -> dict[str, Any]:
    out = {}
    for spec in specs:
        label, sep, name = spec.partition("=")
        if not sep:
            raise SystemExit(f"--baseline takes LABEL=MODEL, got {spec!r}")
        out[label] = _load(name)
    return out


def _pixel_section(report: VideoReport, horizon: int) -> str:
    hs = sorted({1, min(5, horizon), horizon})
    lines = [report.table(horizons=hs), "",
             f"Means over horizons 1–{horizon}; `psnr h=k`: the k-th predicted frame. sharpness of the real frames: "
             f"{report.summary['model']['sharpness_truth']:.4f}."]
    return "\n".join(lines)


def _gif(model: Any, baselines: dict[str, Any], ds: Any, horizon: int, path: Path, n: int = 4) -> Path:
    ctx_n = model.config.context_frames
    step = max(1, len(ds) // n)
    items = [ds[i * step] for i in range(n)]
    clips = torch.stack([it["frames"] for it in items])
    acts = (torch.stack([it["actions"] for it in items])[:, ctx_n - 1:ctx_n - 1 + horizon]
            if "actions" in items[0] else None)
    context = clips[:, :ctx_n]
    preds = {label: predict_clips(m, context, horizon, actions=acts) for label, m in baselines.items()}
    preds["model"] = predict_clips(model, context, horizon, actions=acts)
    return write_comparison(context, preds, clips[:, ctx_n:ctx_n + horizon], path)


def _command(argv: list[str] | None) -> str:
    import shlex

    args = [a for a in (sys.argv[1:] if argv is None else argv)]
    keep, skip = [], False
    for a in args:  # the reproduce command: without the output options
        if skip:
            skip = False
            continue
        if a in ("--write-card", "--gifs", "--out"):
            skip = True
            continue
        keep.append(a)
    return "python benchmarks/eval_video.py " + " ".join(shlex.quote(a) for a in keep)


def _write_card(folder: Path, entries: list[dict[str, Any]]) -> None:
    """Replace the card's metrics with ``entries`` (every number with its protocol); the prose is kept."""
    from ganzoo.cards import load_card, update_card
    from ganzoo.hub import atomic_write

    card = load_card(folder / "README.md")
    update_card(card, metrics=entries)
    with atomic_write(folder / "README.md", "w") as f:
        f.write(str(card))
    print(f"wrote {len(entries)} metrics into {folder / 'README.md'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=sorted(DATA), help="digits, game or real")
    parser.add_argument("--model", required=True, help="the model (run folder or registry id)")
    parser.add_argument("--baseline", action="append", default=[], metavar="LABEL=MODEL", help="models beside it")
    parser.add_argument("--data", default=None, help="override the data (default: per kind)")
    parser.add_argument("--horizon", type=int, default=10)
    parser.add_argument("--n", type=int, default=256, help="test clips")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--extractor", default="auto",
                        help="KID features: auto (digits for grey, inception for RGB), digits, inception, effnet, none")
    parser.add_argument("--name", default=None, help="results file stem (default: video-<kind>)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--gifs", type=Path, default=None, help="also write a comparison GIF here")
    parser.add_argument("--write-card", type=Path, default=None, metavar="FOLDER",
                        help="write the numbers (model and baselines, with protocols) into this model folder's card")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model, baselines = _load(args.model), _baselines(args.baseline)
    extractor = None if args.extractor == "none" else args.extractor
    name = args.name or f"video-{args.kind}"
    data = args.data or DATA[args.kind]
    sections = [f"# {name}: {args.model} on {data}", ""]
    result: dict[str, Any] = {"model": args.model, "baselines": dict(b.partition("=")[::2] for b in args.baseline)}
    if args.kind == "game":
        from ganzoo_gamegan.data import TEST_SEED, PaddleBallDataset
        from ganzoo_gamegan.evaluate import evaluate_game

        video, positions = evaluate_game(model, n=args.n, horizon=args.horizon, seed=args.seed,
                                         baselines=baselines, extractor=extractor)
        sections += ["## Object positions (pixels; ball_within: share of frames with the ball within 3 px)", "",
                     positions.table(horizons=tuple(sorted({1, 5, 10, args.horizon}))), ""]
        result["positions"] = {"curves": positions.curves, "protocol": positions.protocol}
        card_entries = positions.card_metrics(command=_command(argv))
        cfg = model.config
        gif_ds = PaddleBallDataset(image_size=cfg.image_size, channels=cfg.channels,
                                   length=cfg.context_frames + args.horizon, num_episodes=64, seed=TEST_SEED)
    else:
        video = evaluate_video(model, data, split="test", horizon=args.horizon, n=args.n, seed=args.seed,
                               extractor=extractor, baselines=baselines)
        gif_ds = None
        card_entries = []
    sections += ["## Pixels", "", _pixel_section(video, args.horizon), ""]
    result["video"] = video.to_dict()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=1))
    (args.out / f"{name}.md").write_text("\n".join(sections))
    print("\n".join(sections))
    if args.write_card is not None:
        _write_card(args.write_card, video.card_metrics(command=_command(argv)) + card_entries)
    if args.gifs is not None:
        args.gifs.mkdir(parents=True, exist_ok=True)
        if gif_ds is None:
            from ganzoo.metrics.video import eval_dataset

            gif_ds = eval_dataset(model, data, split="test", horizon=args.horizon)
        print(f"wrote {_gif(model, baselines, gif_ds, args.horizon, args.gifs / f'{name}.gif')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
