"""Build the offline digit-glyph datasets of the DTN and StarGAN font demos from Debian font packages.

    python scripts/fetch_fonts.py                     # data/digits-print2hand and data/digits-fonts at 32 px
    python scripts/fetch_fonts.py --only print2hand --train 8000 --test 1000 --force

``digits-fonts`` (StarGAN): the same text — the ten digits, each at a random scale, shift and rotation — in six
fonts, one folder per font (``train/<font>/``: each image in one font only; ``test/<font>/``: every test digit in
every font, the ground truth of every font pair). Below, ``digits-print2hand`` (DTN):

The Domain Transfer Network's digit experiment (Taigman et al. 2016) maps SVHN (printed house numbers in many
typefaces and colours) to MNIST (white handwriting on black). This is its offline analogue, with a ground truth
the original lacks:

* **A (source):** a digit in one of 18 printed typefaces (DejaVu, Liberation and GNU FreeFont; Sans, Serif and
  Mono, regular and bold), in a random foreground colour on a random background colour (RGB, 32×32).
* **B (target):** a digit in the dkg handwriting font (bold), white on black like MNIST (grey, 32×32).

Every image is drawn at 4× with a random scale (0.75–1.0 of the height), shift (±2 px at 32 px) and rotation
(±10°), then Lanczos-downsampled. ``testA/<id>.png`` and ``testB/<id>.png`` are the same digit with the same
geometry (the held-out ground truth for SSIM/L1); ``trainA`` and ``trainB`` are drawn independently (different
digits, geometries and counts per class), so training has no pairs. ``labels/<split>.csv`` gives each image's
digit, font, geometry and colours (the digit labels pretrain DTN's encoder f on the source domain, as the paper
pretrains f on SVHN, and measure label preservation).

Downloads (``apt-get download`` into ``data/downloads/``, each checked against the sha256 pinned below; nothing is
installed): ``fonts-dejavu-core``, ``fonts-liberation``, ``fonts-freefont-ttf`` and ``fonts-dkg-handwriting``.
The build is deterministic (the same packages and seed give the same files); ``SOURCE.md``, written last, marks
a complete folder and records provenance, licences, counts and a fingerprint.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling fetch scripts
from fetch_emoji import fetch_package  # noqa: E402

logger = logging.getLogger("fetch_fonts")

ROOT = Path(__file__).resolve().parents[1]

#: pinned Debian bookworm packages (kind, apt spec, file name, sha256, licence), fetched by fetch_emoji.fetch_package
PACKAGES: dict[str, dict[str, str]] = {
    "dejavu": {"kind": "apt", "spec": "fonts-dejavu-core=2.37-6", "file": "fonts-dejavu-core_2.37-6_all.deb",
               "sha256": "8892669e51aab4dc56682c8e39d8ddb7d70fad83c369344e1e240bf3ca22bb76",
               "licence": "Bitstream Vera / DejaVu licence (free, with a renaming clause)"},
    "liberation": {"kind": "apt", "spec": "fonts-liberation=1:1.07.4-11",
                   "file": "fonts-liberation_1%3a1.07.4-11_all.deb",
                   "sha256": "efd381517f958b01969343634ffcbdd60056be7779af84c6f53a005090430204",
                   "licence": "GPL-2 with the Liberation font exception"},
    "freefont": {"kind": "apt", "spec": "fonts-freefont-ttf=20120503-10",
                 "file": "fonts-freefont-ttf_20120503-10_all.deb",
                 "sha256": "4ca1c21ebc479198a3a5879d236c8317d6f7b2f1c403f7890e24c02eead05615",
                 "licence": "GPL-3+ with the GNU font exception"},
    "dkg": {"kind": "apt", "spec": "fonts-dkg-handwriting=0.17-1",
            "file": "fonts-dkg-handwriting_0.17-1_all.deb",
            "sha256": "82ee9beae0313e11761af7bb81f4c3fdc91ddd6122ab78490e1b103b9f502709",
            "licence": "GPL-3+ (font files), OFL-1.1 (font source)"},
}
#: the printed typefaces of domain A (paths inside the packages)
PRINT_FONTS = tuple(
    [f"usr/share/fonts/truetype/dejavu/{n}.ttf" for n in
     ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSansMono", "DejaVuSansMono-Bold")]
    + [f"usr/share/fonts/truetype/liberation/Liberation{n}.ttf" for n in
       ("Sans-Regular", "Sans-Bold", "Serif-Regular", "Serif-Bold", "Mono-Regular", "Mono-Bold")]
    + [f"usr/share/fonts/truetype/freefont/Free{n}.ttf" for n in
       ("Sans", "SansBold", "Serif", "SerifBold", "Mono", "MonoBold")])
HAND_FONT = "usr/share/fonts/truetype/fifthhorseman/dkgBd.ttf"  # domain B
OVERSAMPLE = 4
FORMAT_VERSION = 1


def fetch(name: str, downloads: Path) -> Path:
    """The verified .deb of package ``name`` (``apt-get download`` into ``downloads`` unless it is there)."""
    return fetch_package(PACKAGES[name], downloads)


def _extract(debs: list[Path], dest: Path) -> None:
    for deb in debs:
        res = subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], capture_output=True, text=True)
        if res.returncode != 0:
            raise SystemExit(f"dpkg-deb -x {deb} failed: {res.stderr}")


# -- drawing ------------------------------------------------------------------------------------------------------


def draw_digit(font: Any, digit: int, size: int, *, scale: float, dx: float, dy: float, angle: float,
               fg: tuple[int, ...], bg: tuple[int, ...], mode: str) -> Any:
    """One digit at ``OVERSAMPLE``× then Lanczos-downsampled to ``size``² (the geometry is in output pixels)."""
    from PIL import Image, ImageDraw

    big = size * OVERSAMPLE
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).text((big / 2 + dx * OVERSAMPLE, big / 2 + dy * OVERSAMPLE), str(digit), font=font,
                              fill=255, anchor="mm")
    mask = mask.rotate(angle, resample=Image.BICUBIC, center=(big / 2, big / 2))
    img = Image.composite(Image.new(mode, (big, big), fg), Image.new(mode, (big, big), bg), mask)
    return img.resize((size, size), Image.LANCZOS)


def _colours(rng: Any) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """A random foreground/background pair with a luma difference of at least 0.3 (SVHN-like variety)."""
    while True:
        fg, bg = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        luma = lambda c: (0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]) / 255  # noqa: E731
        if abs(luma(fg) - luma(bg)) >= 0.3:
            return tuple(int(v) for v in fg), tuple(int(v) for v in bg)


def _geometry(rng: Any) -> dict[str, float]:
    return {"scale": round(float(rng.uniform(0.75, 1.0)), 4), "dx": round(float(rng.uniform(-2, 2)), 3),
            "dy": round(float(rng.uniform(-2, 2)), 3), "angle": round(float(rng.uniform(-10, 10)), 3)}


#: the font domains of ``digits-fonts`` (StarGAN), in index order: folder name → path inside the packages
FONT_DOMAINS = {
    "sans": "usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "sans-bold": "usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "serif": "usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "mono": "usr/share/fonts/truetype/freefont/FreeMono.ttf",
    "hand": "usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "hand-italic": "usr/share/fonts/truetype/fifthhorseman/dkgBI.ttf",
}

#: one image to draw: (split folder, file name, digit, geometry, font path, foreground, background, PIL mode)
Item = tuple[str, str, int, dict[str, float], str, Any, Any, str]


def plan_print2hand(n_train: int, n_test: int, seed: int) -> list[Item]:
    """A: printed digits in random colours; B: handwriting. test pairs share digit and geometry; train is unpaired."""
    import numpy as np

    items: list[Item] = []
    for split, n, seed_off in (("train", n_train, 0), ("test", n_test, 1)):
        rng = np.random.default_rng([seed, seed_off])
        for i in range(n):
            digit, geo = int(rng.integers(10)), _geometry(rng)
            fg, bg = _colours(rng)
            items.append((f"{split}A", f"{i:05d}.png", digit, geo, PRINT_FONTS[int(rng.integers(len(PRINT_FONTS)))],
                          fg, bg, "RGB"))
            if split == "test":  # the same digit and geometry in handwriting: the ground truth
                items.append(("testB", f"{i:05d}.png", digit, geo, HAND_FONT, 255, 0, "L"))
        if split == "train":  # target images drawn on their own: no pairs
            rng_b = np.random.default_rng([seed, 2])
            for i in range(n):
                items.append(("trainB", f"{i:05d}.png", int(rng_b.integers(10)), _geometry(rng_b), HAND_FONT, 255, 0,
                              "L"))
    return items


def plan_fonts(n_train: int, n_test: int, seed: int) -> list[Item]:
    """One folder per font (white on black): each training (digit, geometry) in one font; each test one in all."""
    import numpy as np

    items: list[Item] = []
    names = list(FONT_DOMAINS)
    rng = np.random.default_rng([seed, 3])
    for i in range(n_train):
        digit, geo, dom = int(rng.integers(10)), _geometry(rng), names[int(rng.integers(len(names)))]
        items.append((f"train/{dom}", f"{i:05d}.png", digit, geo, FONT_DOMAINS[dom], 255, 0, "L"))
    rng = np.random.default_rng([seed, 4])
    for i in range(n_test):
        digit, geo = int(rng.integers(10)), _geometry(rng)
        for dom in names:
            items.append((f"test/{dom}", f"{i:05d}.png", digit, geo, FONT_DOMAINS[dom], 255, 0, "L"))
    return items


def build(out: Path, items: list[Item], size: int, downloads: Path) -> dict[str, Any]:
    """Draw ``items`` into ``out``; labels/<split>.csv per top folder; returns counts and the pixel fingerprint."""
    from PIL import ImageFont

    debs = [fetch(n, downloads) for n in PACKAGES]
    files: dict[str, bytes] = {}
    rows: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        _extract(debs, Path(tmp))
        cache: dict[tuple[str, int], Any] = {}
        for folder, name, digit, geo, rel, fg, bg, mode in items:
            px = round(size * OVERSAMPLE * 0.8 * geo["scale"])  # digit height ≈ 0.7 × the image at scale 1
            if (rel, px) not in cache:
                cache[rel, px] = ImageFont.truetype(str(Path(tmp) / rel), px)
            img = draw_digit(cache[rel, px], digit, size, fg=fg, bg=bg, mode=mode, **geo)
            buf = io.BytesIO()
            img.save(buf, format="PNG", compress_level=9)
            files[f"{folder}/{name}"] = buf.getvalue()
            split, _, sub = folder.partition("/")
            rows.setdefault(split, []).append({
                "file": f"{sub}/{name}" if sub else name, "digit": digit, "font": Path(rel).stem, **geo,
                "fg": "-".join(map(str, fg if isinstance(fg, tuple) else (fg,))),
                "bg": "-".join(map(str, bg if isinstance(bg, tuple) else (bg,)))})
        licences = {n: (Path(tmp) / f"usr/share/doc/{PACKAGES[n]['spec'].split('=')[0]}/copyright").read_bytes()
                    for n in PACKAGES}
    h = hashlib.sha256()
    for rel in sorted(files):
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(files[rel])
        h.update(rel.encode() + b"\0" + files[rel])
    (out / "labels").mkdir(exist_ok=True)
    for split, items_ in rows.items():
        with open(out / "labels" / f"{split}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(items_[0]))
            writer.writeheader()
            writer.writerows(items_)
    for n, text in licences.items():
        (out / f"COPYRIGHT-{PACKAGES[n]['spec'].split('=')[0]}.txt").write_bytes(text)
    counts: dict[str, int] = {}
    for rel in files:
        key = rel.rsplit("/", 1)[0]
        counts[key] = counts.get(key, 0) + 1
    return {"counts": dict(sorted(counts.items())), "fingerprint": h.hexdigest()}


DATASETS = {
    "print2hand": dict(
        folder="digits-print2hand", plan=plan_print2hand, train=8000, test=1000,
        title="Printed digits → handwritten digits (unaligned trainA/trainB, paired testA/testB for DTN)",
        what=f"A = a digit in one of {len(PRINT_FONTS)} printed typefaces "
             f"({', '.join(Path(p).stem for p in PRINT_FONTS)}) in a random colour on a random background (luma "
             "difference ≥ 0.3), RGB. B = the digit in dkg handwriting bold, white on black, grey. testA/X.png and "
             "testB/X.png share digit and geometry (ground truth); trainA and trainB are independent draws (no pairs). "
             "`labels/<split>.csv`: file, digit, font, scale, dx, dy, angle, fg, bg."),
    "fonts": dict(
        folder="digits-fonts", plan=plan_fonts, train=9000, test=300,
        title="Digits in six fonts (one folder per font: multi-domain, for StarGAN)",
        what="Domains (folder names, in index order): " + ", ".join(
            f"{k} ({Path(v).stem})" for k, v in FONT_DOMAINS.items()) + "; white on black, grey. "
             "`test/<font>/X.png` is one digit and geometry in every font (the ground truth of every pair, matched by "
             "file name); each training image is drawn in one font only (no pairs). `labels/<split>.csv`: file "
             "(<font>/<name>), digit, font, scale, dx, dy, angle."),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="where the dataset folders go [data/]")
    parser.add_argument("--only", choices=sorted(DATASETS), action="append", help="build only this dataset")
    parser.add_argument("--size", type=int, default=32, help="image side in pixels [32]")
    parser.add_argument("--train", type=int, help="training images [8000 print2hand (per domain), 9000 fonts]")
    parser.add_argument("--test", type=int, help="test images per domain [1000 print2hand, 300 fonts]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="rebuild even if a complete folder exists")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in args.only or list(DATASETS):
        spec = DATASETS[name]
        n_train, n_test = args.train or spec["train"], args.test or spec["test"]
        if args.size < 16 or n_train < 10 or n_test < 1:
            parser.error("--size must be ≥ 16, --train ≥ 10, --test ≥ 1")
        out = args.data / spec["folder"]
        stamp = (f"<!-- ganzoo-fonts {spec['folder']} size={args.size} train={n_train} test={n_test} "
                 f"seed={args.seed} format={FORMAT_VERSION} -->")
        if not args.force and (out / "SOURCE.md").is_file() and stamp in (out / "SOURCE.md").read_text("utf-8"):
            logger.info("%s is complete (SOURCE.md matches); nothing to do (--force rebuilds)", out)
            continue
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        t0 = time.perf_counter()
        info = build(out, spec["plan"](n_train, n_test, args.seed), args.size, args.data / "downloads")
        import PIL

        rows = "\n".join(f"| `{p['spec']}` | {p['file']} | `{p['sha256']}` | {p['licence']} |"
                         for p in PACKAGES.values())
        counts = ", ".join(f"{k} {v}" for k, v in info["counts"].items())
        (out / "SOURCE.md").write_text(f"""{stamp}
# {spec['title']}

Built by `python scripts/fetch_fonts.py --only {name} --size {args.size} --train {n_train} --test {n_test} --seed
{args.seed}` (ganzoo) in {time.perf_counter() - t0:.0f} s with Pillow {PIL.__version__}. Do not commit this folder.

## Source packages (Debian bookworm main, `apt-get download`)

| package | file | sha256 | licence |
|---|---|---|---|
{rows}

`COPYRIGHT-*.txt` are the packages' copyright files. The images are renderings of the fonts' glyphs.

## What is here

{spec['what']} Every digit: scale 0.75–1.0, shift ±2 px, rotation ±10°, drawn at {OVERSAMPLE}× and
Lanczos-downsampled.

- Size: {args.size}×{args.size} px.
- Files: {counts}.
- Fingerprint (sha256 over every image's relative path and bytes, in name order): `{info['fingerprint']}`
""", encoding="utf-8")
        logger.info("wrote %s (%s) in %.0f s", out, counts, time.perf_counter() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
