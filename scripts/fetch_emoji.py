"""Build the two offline image-to-image datasets of the bundled pix2pix and CycleGAN demos from registry packages.

    python scripts/fetch_emoji.py                    # every dataset at 64 px under data/
    python scripts/fetch_emoji.py --only line2color --size 128
    python scripts/fetch_emoji.py --force            # rebuild even when a complete folder exists

Downloads (cached in ``data/downloads/``, each checked against the sha256 pinned below; nothing is installed):

* ``npm pack openmoji@17.0.0`` — OpenMoji's SVGs: ``black/svg`` (line art) and ``color/svg`` (the same drawings
  coloured). Graphics CC-BY-SA-4.0.
* ``npm pack emoji-datasource-twitter@16.0.0`` — Twemoji 64-px PNGs + ``emoji.json``. Graphics CC-BY-4.0.
* ``apt-get download fonts-noto-color-emoji=2.042-0+deb12u1`` — Noto Color Emoji (a CBDT bitmap font, rendered
  with Pillow at its one bitmap size, 109). Font OFL-1.1, images Apache-2.0.

Outputs (``data/`` is git-ignored; never commit it):

``data/openmoji-line2color/`` (pix2pix, aligned ``A|B`` pairs, A = black line art, B = colour)
    ``{train,test}/<HEXCODE>.png``, each ``2·size × size``. A pair is a translation task only when its input
    determines its target and colouring changes something, so these are left out (listed in ``left-out.csv``):

    * emoji of the ``flags`` group and skin-tone variants (known from ``openmoji.csv``), and every pair whose
      rendered line art is pixel-identical to another pair's with a different colouring (the blank flag frame of
      OpenMoji's extra flags, red/blue/… circles, hearts, squares, hair colours): one input, many right answers,
      which no L1-trained translator can learn;
    * pairs whose colour drawing is their line art (no pixel differs by more than ``NO_COLOUR_LEVELS`` of 255:
      black symbols, clock faces, regional indicators): nothing to translate — scored per image, each would count
      at the PSNR cap for the identity baseline and measure nothing about colouring;
    * repeats: pairs identical in both halves to a pair of a lower hexcode (``man cook`` = ``cook``) — only the
      first is kept, so no test pair is also a training pair.

    The left-out pairs are written to ``left-out/{ambiguous,no-colour,repeat}/`` (outside both splits), so a
    model's behaviour on them can still be measured (``ganzoo eval … --split left-out/no-colour``).

    About 10 % of the code points (chosen by a hash of the hexcode) are test.
``data/emoji-noto2twemoji/`` (CycleGAN, A = Noto, B = Twemoji)
    Single-code-point emoji that both sets draw. ``testA/<hex>.png`` and ``testB/<hex>.png`` are the same emoji
    (the held-out ground truth for SSIM/L1); the training code points are split in two disjoint halves, one
    drawn as Noto (``trainA``) and the other as Twemoji (``trainB``), so training never sees a pair.
``data/emoji-skintone/`` (StarGAN, six domains: ``default`` (yellow), ``light``, ``medium-light``, ``medium``,
    ``medium-dark``, ``dark`` — the Unicode skin-tone modifiers U+1F3FB…U+1F3FF)
    The 310 People & Body emoji that emoji-datasource-twitter lists with the five single-tone variants, each drawn
    by Noto and by Twemoji. ``test/<domain>/<style>-<key>.png`` holds a held-out emoji in all six domains (the
    ground truth of every domain pair); in ``train/`` each (emoji, style) appears in exactly one domain, chosen by
    a hash, so training never sees the same drawing in two skin tones.
``data/emoji-default2dark/`` (CycleGAN, A = the default yellow tone, B = the dark tone)
    The same emoji: ``testA/X.png`` and ``testB/X.png`` are one held-out emoji in both tones; each training
    (emoji, style) is drawn in one tone only. The two skin-tone recipes live in ``emoji_skintone.py``.

Every image is composited on white and resized with Lanczos to ``size``² (SVGs are rendered by cairosvg at 4× and
downsampled). Each folder gets a ``SOURCE.md`` (provenance, versions, sha256 of the downloads, licences, counts and
a fingerprint of the written pixels), written last: its presence with the same parameters marks a complete run, so
re-running is a no-op. The build is deterministic: the same packages give the same files.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable

logger = logging.getLogger("fetch_emoji")

ROOT = Path(__file__).resolve().parents[1]

#: pinned downloads: (how to fetch, file name, sha256)
PACKAGES: dict[str, dict[str, str]] = {
    "openmoji": {"kind": "npm", "spec": "openmoji@17.0.0", "file": "openmoji-17.0.0.tgz",
                 "sha256": "55ee7d13485dec86e9f38c1f3a645a13382d33ff97c0cd845ee824b0aef45e68"},
    "twemoji": {"kind": "npm", "spec": "emoji-datasource-twitter@16.0.0", "file": "emoji-datasource-twitter-16.0.0.tgz",
                "sha256": "f64a530c63bca463bd8317fdc4615ce63a53a0c65018e4ce2d848aaba7a28877"},
    "noto": {"kind": "deb", "spec": "fonts-noto-color-emoji=2.042-0+deb12u1",
             "file": "fonts-noto-color-emoji_2.042-0+deb12u1_all.deb",
             "sha256": "a5ab0f69c7938423862320d9aca5dd187b3fd879d6a9a57dd52e17c3fa8d2751"},
}
TEST_PERCENT = 10  # code points whose sha256("ganzoo-emoji-split:<hex>") % 100 < this are test
SPLIT_SALT = "ganzoo-emoji-split:"
NOTO_SIZE = 109  # the only size Noto Color Emoji's CBDT bitmaps come in (136×128 glyphs)
SVG_OVERSAMPLE = 4
#: bump a dataset's number when the way its images are made or chosen changes: a complete folder of another
#: version is rebuilt (line2color 2: ambiguous, uncoloured and repeated pairs left out)
FORMAT_VERSIONS = {"line2color": 2, "noto2twemoji": 1, "skintone": 1, "default2dark": 1}
NO_COLOUR_LEVELS = 8  # a colour drawing within this many 8-bit levels of its line art everywhere adds no colour
DATASETS = ("line2color", "noto2twemoji", "skintone", "default2dark")


# -- downloads ----------------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    logger.info("$ %s", " ".join(cmd))
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)


def fetch(name: str, downloads: Path) -> Path:
    """The verified download of package ``name`` (fetched into ``downloads`` unless it is there already)."""
    return fetch_package(PACKAGES[name], downloads)


def fetch_package(pkg: dict[str, str], downloads: Path) -> Path:
    """Fetch one registry package (``kind`` npm or apt; ``spec``, ``file``, ``sha256``) into ``downloads`` unless
    it is there already, and verify its sha256. Shared by the other fetch scripts (scripts/fetch_fonts.py).

    Raises:
        SystemExit: the package cannot be fetched, or its sha256 differs (the message says what to do).
    """
    path = downloads / pkg["file"]
    if not path.is_file():
        downloads.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=downloads) as tmp:
            if pkg["kind"] == "npm":
                res = _run(["npm", "pack", pkg["spec"], "--silent"], cwd=Path(tmp))
            else:
                res = _run(["apt-get", "download", pkg["spec"]], cwd=Path(tmp))
                if res.returncode != 0:
                    logger.warning("apt-get download failed; running apt-get update once and retrying")
                    upd = _run(["apt-get", "update"], cwd=Path(tmp))
                    if upd.returncode != 0:
                        raise SystemExit(f"apt-get update failed:\n{upd.stderr}")
                    res = _run(["apt-get", "download", pkg["spec"]], cwd=Path(tmp))
            got = Path(tmp) / pkg["file"]
            if res.returncode != 0 or not got.is_file():
                raise SystemExit(f"could not fetch {pkg['spec']} ({pkg['kind']}):\n{res.stderr.strip()}\n"
                                 f"Fetch {pkg['file']} on a machine that can and put it in {downloads}/")
            shutil.move(str(got), path)
    digest = _sha256(path)
    if digest != pkg["sha256"]:
        raise SystemExit(f"{path} has sha256 {digest}, expected {pkg['sha256']} ({pkg['spec']}); delete it and "
                         "re-run, or update PACKAGES in this script after checking the new package")
    return path


def _tar_members(path: Path, wanted: Callable[[str], bool]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with tarfile.open(path, "r:gz") as tar:
        for m in tar:
            if m.isfile() and wanted(m.name):
                f = tar.extractfile(m)
                assert f is not None
                out[m.name] = f.read()
    return out


# -- rendering ----------------------------------------------------------------------------------------------------


def _on_white(img: Any) -> Any:
    from PIL import Image

    img = img.convert("RGBA")
    white = Image.new("RGBA", img.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, img).convert("RGB")


def _square(img: Any) -> Any:
    """Pad to a square on white, centred (Noto's glyphs are 136×128)."""
    from PIL import Image

    w, h = img.size
    if w == h:
        return img
    side = max(w, h)
    canvas = Image.new("RGB", (side, side), (255, 255, 255))
    canvas.paste(img, ((side - w) // 2, (side - h) // 2))
    return canvas


def _resized(img: Any, size: int) -> Any:
    from PIL import Image

    return img if img.size == (size, size) else img.resize((size, size), Image.LANCZOS)


def render_svg(svg: bytes, size: int) -> Any:
    import cairosvg
    from PIL import Image

    big = size * SVG_OVERSAMPLE
    png = cairosvg.svg2png(bytestring=svg, output_width=big, output_height=big)
    return _resized(_on_white(Image.open(io.BytesIO(png))), size)


class NotoRenderer:
    def __init__(self, font_path: Path) -> None:
        from PIL import ImageFont

        self.font = ImageFont.truetype(str(font_path), NOTO_SIZE)

    def has(self, text: str) -> bool:
        """Whether the font draws ``text`` (an unmapped character has an empty box: .notdef is blank here)."""
        left, top, right, bottom = self.font.getbbox(text)
        return bottom > top and right > left

    def single_glyph(self, text: str) -> bool:
        """Whether ``text`` (a sequence: ZWJ, skin-tone modifier) is drawn as one glyph, not a fallback row."""
        left, top, right, bottom = self.font.getbbox(text)
        return 0 < right - left <= 136 and bottom > top

    def render(self, text: str, size: int) -> Any:
        from PIL import Image, ImageDraw

        left, top, right, bottom = self.font.getbbox(text)
        canvas = Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0))
        ImageDraw.Draw(canvas).text((-left, -top), text, font=self.font, embedded_color=True)
        return _resized(_square(_on_white(canvas)), size)


# -- splits and writing -------------------------------------------------------------------------------------------


def is_test(key: str) -> bool:
    return int(hashlib.sha256((SPLIT_SALT + key.lower()).encode()).hexdigest(), 16) % 100 < TEST_PERCENT


def _png_bytes(img: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=9)
    return buf.getvalue()


class _Writer:
    """Writes PNGs and folds their bytes (in name order) into a fingerprint."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: dict[str, bytes] = {}

    def add(self, rel: str, img: Any) -> None:
        self.files[rel] = _png_bytes(img)

    def commit(self) -> str:
        h = hashlib.sha256()
        for rel in sorted(self.files):
            p = self.out / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(self.files[rel])
            h.update(rel.encode() + b"\0" + self.files[rel])
        return h.hexdigest()


def _complete(out: Path, stamp: str) -> bool:
    src = out / "SOURCE.md"
    return src.is_file() and stamp in src.read_text(encoding="utf-8")


def _stamp(name: str, size: int) -> str:
    return f"<!-- ganzoo-emoji {name} size={size} format={FORMAT_VERSIONS[name]} -->"


def _package_rows(names: Iterable[str], downloads: Path) -> str:
    rows = ["| package | registry | file | sha256 |", "|---|---|---|---|"]
    for n in names:
        p = PACKAGES[n]
        reg = "npm (`npm pack`)" if p["kind"] == "npm" else "Debian bookworm main (`apt-get download`)"
        rows.append(f"| `{p['spec']}` | {reg} | {p['file']} | `{p['sha256']}` |")
    return "\n".join(rows)


def _pixels(img: Any) -> Any:
    import numpy as np

    return np.asarray(img, dtype=np.int16)


def select_pairs(pairs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The pairs that are a translation task, and why each other one is left out.

    ``pairs`` (sorted by hexcode) hold ``hexcode``, ``a`` and ``b`` (the rendered line art and colour drawing as
    integer pixel arrays). Three rules, in this order: **ambiguous** — the line art is pixel-identical to another
    pair's whose colouring differs (every such pair goes: the input does not decide the output); **no colour** —
    no pixel of the colour drawing differs from the line art by more than :data:`NO_COLOUR_LEVELS` (nothing to
    translate); **repeat** — both halves identical to a kept pair of a lower hexcode (kept once, so a repeat cannot
    sit in both splits).

    Args:
        pairs (`list[dict]`): the rendered pairs, in hexcode order.

    Returns:
        `tuple[list[dict], dict[str, str]]`: the kept pairs (same order) and ``{hexcode: reason}`` for the others,
        reason one of ``ambiguous``, ``no colour``, ``repeat``.

    Example:
        ```python
        >>> kept, left_out = select_pairs(pairs)
        >>> sorted(set(left_out.values()))
        ['ambiguous', 'no colour', 'repeat']
        ```
    """
    def key(x: Any) -> str:
        return hashlib.sha256(x.tobytes()).hexdigest()

    targets: dict[str, set[str]] = {}
    for p in pairs:
        p["_a"], p["_b"] = key(p["a"]), key(p["b"])
        targets.setdefault(p["_a"], set()).add(p["_b"])
    kept: list[dict[str, Any]] = []
    left_out: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    for p in pairs:
        if len(targets[p["_a"]]) > 1:
            left_out[p["hexcode"]] = "ambiguous"
        elif int(abs(p["a"] - p["b"]).max()) <= NO_COLOUR_LEVELS:
            left_out[p["hexcode"]] = "no colour"
        elif (p["_a"], p["_b"]) in seen:
            left_out[p["hexcode"]] = "repeat"
        else:
            seen.add((p["_a"], p["_b"]))
            kept.append(p)
    return kept, left_out


def build_line2color(out: Path, size: int, downloads: Path) -> dict[str, Any]:
    """OpenMoji black/svg → color/svg aligned pairs (the translation-task pairs of :func:`select_pairs`)."""
    from PIL import Image

    tgz = fetch("openmoji", downloads)
    files = _tar_members(tgz, lambda n: n.startswith(("package/black/svg/", "package/color/svg/"))
                         or n in ("package/data/openmoji.csv", "package/LICENSE.txt"))
    rows = list(csv.DictReader(io.StringIO(files["package/data/openmoji.csv"].decode("utf-8"))))
    keep = [r for r in rows if r["group"] != "flags" and not r["skintone"]]
    dropped = len(rows) - len(keep)
    missing = 0
    unrenderable: list[str] = []
    rendered: list[dict[str, Any]] = []
    for r in sorted(keep, key=lambda r: r["hexcode"]):
        hexcode = r["hexcode"]
        black, color = files.get(f"package/black/svg/{hexcode}.svg"), files.get(f"package/color/svg/{hexcode}.svg")
        if black is None or color is None:
            missing += 1
            continue
        try:
            a, b = render_svg(black, size), render_svg(color, size)
        except Exception as err:  # noqa: BLE001 - cairosvg fails on a few SVG features (e.g. unresolved markers)
            logger.warning("skipping %s: cairosvg cannot render it (%s: %s)", hexcode, type(err).__name__, err)
            unrenderable.append(hexcode)
            continue
        pair = Image.new("RGB", (2 * size, size), (255, 255, 255))
        pair.paste(a, (0, 0))
        pair.paste(b, (size, 0))
        rendered.append({"hexcode": hexcode, "a": _pixels(a), "b": _pixels(b), "png": _png_bytes(pair),
                         "annotation": r["annotation"]})
    kept, left_out = select_pairs(rendered)
    w = _Writer(out)
    counts = {"train": 0, "test": 0}
    for p in kept:
        split = "test" if is_test(p["hexcode"]) else "train"
        w.files[f"{split}/{p['hexcode']}.png"] = p["png"]
        counts[split] += 1
    names = {p["hexcode"]: p for p in rendered}
    for hexcode, reason in left_out.items():  # kept aside, never read as train/test: `--split left-out/no-colour`
        w.files[f"left-out/{reason.replace(' ', '-')}/{hexcode}.png"] = names[hexcode]["png"]
    fingerprint = w.commit()
    (out / "LICENSE-openmoji.txt").write_bytes(files["package/LICENSE.txt"])
    with open(out / "left-out.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["hexcode", "split", "reason", "annotation"])
        for hexcode, reason in left_out.items():
            writer.writerow([hexcode, "test" if is_test(hexcode) else "train", reason, names[hexcode]["annotation"]])
    reasons = {k: sum(1 for v in left_out.values() if v == k) for k in ("ambiguous", "no colour", "repeat")}
    test_out = sum(1 for h in left_out if is_test(h))
    return {"counts": counts, "fingerprint": fingerprint, "excluded": dropped, "missing": missing,
            "unrenderable": unrenderable, "left_out": reasons, "left_out_test": test_out}


def _noto_font(deb: Path, downloads: Path) -> tuple[Path, bytes]:
    """Extract NotoColorEmoji.ttf from the .deb into ``downloads``; returns it and Debian's copyright file."""
    with tempfile.TemporaryDirectory() as tmp:
        res = subprocess.run(["dpkg-deb", "-x", str(deb), tmp], capture_output=True, text=True)
        if res.returncode != 0:
            raise SystemExit(f"dpkg-deb -x {deb} failed: {res.stderr}")
        font_path = Path(tmp) / "usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
        noto_license = (Path(tmp) / "usr/share/doc/fonts-noto-color-emoji/copyright").read_bytes()
        font_copy = downloads / "NotoColorEmoji-2.042.ttf"
        shutil.copyfile(font_path, font_copy)
    return font_copy, noto_license


def build_noto2twemoji(out: Path, size: int, downloads: Path) -> dict[str, Any]:
    """Noto Color Emoji (A) ↔ Twemoji (B) on shared single code points."""
    from PIL import Image

    tgz = fetch("twemoji", downloads)
    deb = fetch("noto", downloads)
    files = _tar_members(tgz, lambda n: n.startswith("package/img/twitter/64/")
                         or n in ("package/emoji.json", "package/LICENSE"))
    font_copy, noto_license = _noto_font(deb, out.parent / "downloads")
    renderer = NotoRenderer(font_copy)
    entries = json.loads(files["package/emoji.json"])
    chosen: list[tuple[str, str, bytes]] = []  # (key, text, twemoji png)
    for e in entries:
        parts = [p for p in e["unified"].split("-") if p.upper() != "FE0F"]
        if len(parts) != 1 or not e.get("has_img_twitter"):
            continue
        cp = int(parts[0], 16)
        text = chr(cp) + ("\ufe0f" if "FE0F" in e["unified"].upper() else "")
        if cp < 0x80 or not renderer.has(text):  # keycap digits/#/* are sequences; ASCII alone is text
            continue
        png = files.get(f"package/img/twitter/64/{e['image']}")
        if png is None:
            continue
        chosen.append((f"{cp:x}", text, png))
    chosen.sort()
    test = [c for c in chosen if is_test(c[0])]
    train = [c for c in chosen if not is_test(c[0])]
    # disjoint halves for trainA / trainB: alternate by a second hash so neither half is biased to a block
    order = sorted(train, key=lambda c: hashlib.sha256(("ganzoo-emoji-half:" + c[0]).encode()).hexdigest())
    half_a, half_b = order[0::2], order[1::2]
    w = _Writer(out)
    for key, text, _ in test:
        w.add(f"testA/{key}.png", renderer.render(text, size))
    for key, _, png in test:
        w.add(f"testB/{key}.png", _resized(_on_white(Image.open(io.BytesIO(png))), size))
    for key, text, _ in half_a:
        w.add(f"trainA/{key}.png", renderer.render(text, size))
    for key, _, png in half_b:
        w.add(f"trainB/{key}.png", _resized(_on_white(Image.open(io.BytesIO(png))), size))
    fingerprint = w.commit()
    (out / "LICENSE-twemoji-datasource.txt").write_bytes(files["package/LICENSE"])
    (out / "COPYRIGHT-noto-color-emoji.txt").write_bytes(noto_license)
    counts = {"trainA": len(half_a), "trainB": len(half_b), "testA": len(test), "testB": len(test)}
    return {"counts": counts, "fingerprint": fingerprint, "shared": len(chosen)}


SOURCES = {
    "line2color": dict(
        folder="openmoji-line2color", builder=build_line2color, packages=("openmoji",),
        title="OpenMoji line art → colour (aligned A|B pairs for pix2pix)",
        licence="**CC-BY-SA-4.0** (OpenMoji graphics, © the OpenMoji contributors, https://openmoji.org). "
                "Share-alike: anything adapted from these images — and, to be safe, models trained on them — is "
                "offered under CC-BY-SA-4.0 with attribution. `LICENSE-openmoji.txt` is the package's licence file.",
        what="A = `black/svg` (line art), B = `color/svg` (the same drawing coloured), both rendered with cairosvg at "
             "4× and Lanczos-downsampled, composited on white. Only pairs that are a translation task are kept: "
             "left out are the `flags` group and every skin-tone variant, and any pair whose line art is drawn "
             "identically for a differently coloured emoji (one input, many right answers); pairs whose colour "
             "drawing is their line art (nothing to translate); and repeats of a kept pair (so none is in both "
             "splits)."),
    "noto2twemoji": dict(
        folder="emoji-noto2twemoji", builder=build_noto2twemoji, packages=("noto", "twemoji"),
        title="Noto Color Emoji ↔ Twemoji (unaligned trainA/trainB, paired testA/testB for CycleGAN)",
        licence="A: Noto Color Emoji images **Apache-2.0**, the font **OFL-1.1** (© Google Inc.; "
                "`COPYRIGHT-noto-color-emoji.txt` is Debian's copyright file). B: Twemoji graphics **CC-BY-4.0** "
                "(© Twitter, Inc. and other contributors; attribution required), packaged by emoji-datasource-twitter "
                "(code MIT, `LICENSE-twemoji-datasource.txt`).",
        what="Single-code-point emoji that emoji-datasource-twitter lists with a Twemoji image and that Noto Color "
             "Emoji maps. A = Noto glyph rendered with Pillow (size 109, embedded colour; 136×128 padded to a "
             "square on white), B = Twemoji's 64-px PNG on white; both Lanczos-resized. `testA/X.png` and "
             "`testB/X.png` are the same emoji (ground truth for SSIM/L1). The training code points are split in "
             "two disjoint halves by a hash: one half drawn as Noto (`trainA`), the other as Twemoji (`trainB`), so "
             "no training emoji appears in both domains."),
}


def _sources() -> dict[str, dict[str, Any]]:
    """Every dataset's recipe (the skin-tone ones live in emoji_skintone.py, beside this script)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import emoji_skintone

    return {**SOURCES, **emoji_skintone.SOURCES}


def build(name: str, data_root: Path, size: int, force: bool) -> Path:
    src = _sources()[name]
    out = data_root / str(src["folder"])
    stamp = _stamp(name, size)
    if not force and _complete(out, stamp):
        logger.info("%s is complete (SOURCE.md matches); nothing to do (--force rebuilds)", out)
        return out
    if name == "line2color":
        try:
            import cairosvg  # noqa: F401
        except (ImportError, OSError) as err:  # OSError: the package is there but libcairo is not
            raise SystemExit(f"rendering OpenMoji's SVGs needs cairosvg ({err}): pip install cairosvg "
                             "(and apt-get install libcairo2 if the library is missing)") from None
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    info = src["builder"](out, size, data_root / "downloads")  # type: ignore[operator]
    seconds = time.perf_counter() - t0
    import PIL

    versions = f"Pillow {PIL.__version__}"
    if name == "line2color":
        import cairosvg

        versions += f", cairosvg {cairosvg.__version__}"
    counts = ", ".join(f"{k} {v}" for k, v in info["counts"].items())
    extra = ""
    if "excluded" in info:
        bad = info["unrenderable"]
        extra = (f"\n- Left out: {info['excluded']} flag / skin-tone entries; {info['missing']} without both SVGs; "
                 f"{len(bad)} that cairosvg cannot render{': ' + ', '.join(bad) if bad else ''}.")
    if "left_out" in info:
        lo = info["left_out"]
        extra += (f"\n- Not a translation task, left out (`left-out.csv`, images in `left-out/<reason>/`; "
                  f"{sum(lo.values())} pairs of which "
                  f"{info['left_out_test']} would be test): {lo['ambiguous']} ambiguous (line art shared with a "
                  f"differently coloured emoji), {lo['no colour']} with no colour (the colour drawing is the line "
                  f"art, no pixel off by more than {NO_COLOUR_LEVELS}/255), {lo['repeat']} repeats of a kept pair.")
    if "shared" in info:
        extra = f"\n- Shared single-code-point emoji: {info['shared']}."
    if "emoji" in info:
        extra = f"\n- Emoji: {info['emoji']}."
    text = f"""{stamp}
# {src['title']}

Built by `python scripts/fetch_emoji.py --only {name} --size {size}` (ganzoo) in {seconds:.0f} s. Do not commit this
folder; re-run the script to rebuild it (it is deterministic: the same packages give the same files).

## Source packages

{_package_rows(src['packages'], data_root / 'downloads')}

## Licence

{src['licence']}

## What is here

{src['what']}

- Size: {size}×{size} px per image, RGB PNG.
- Split: {src.get('split', f'a code point is test when sha256("{SPLIT_SALT}<hex>") mod 100 < {TEST_PERCENT}')}.
- Files: {counts}.{extra}
- Rendered with {versions}.
- Fingerprint (sha256 over every written file's relative path and bytes, in name order): `{info['fingerprint']}`
"""
    (out / "SOURCE.md").write_text(text, encoding="utf-8")
    logger.info("wrote %s (%s) in %.0f s", out, counts, seconds)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="where the dataset folders go [data/]")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels [64]")
    parser.add_argument("--only", choices=DATASETS, action="append", help="build only this dataset (repeatable)")
    parser.add_argument("--force", action="store_true", help="rebuild even if a complete folder exists")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.size < 16:
        parser.error("--size must be ≥ 16")
    for name in args.only or DATASETS:
        build(name, args.data, args.size, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
