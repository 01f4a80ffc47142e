"""The skin-tone datasets of ``scripts/fetch_emoji.py`` (run that script; this module holds their recipes).

``data/emoji-skintone/`` (StarGAN): six domains, one folder each (``train/<domain>/``, ``test/<domain>/``).
``data/emoji-default2dark/`` (CycleGAN): the ``default`` (yellow) and ``dark`` tones as ``trainA``/``trainB`` (the
emoji split in two disjoint halves: no pairs) and ``testA``/``testB`` (the same test emoji in both tones).

Both come from the People & Body emoji that emoji-datasource-twitter lists with all five single skin-tone
variants and that Noto draws as one glyph in each, drawn by Noto and by Twemoji, with the same test emoji
(sha256("ganzoo-emoji-split:<key>") mod 100 < 15).
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

from fetch_emoji import (
    SPLIT_SALT,
    NotoRenderer,
    _noto_font,
    _on_white,
    _resized,
    _tar_members,
    _Writer,
    fetch,
)

#: the skin-tone domains in index order: (folder name, the modifier's code point or None for the default yellow)
SKIN_TONES = (("default", None), ("light", "1F3FB"), ("medium-light", "1F3FC"), ("medium", "1F3FD"),
              ("medium-dark", "1F3FE"), ("dark", "1F3FF"))
SKINTONE_TEST_PERCENT = 15  # emoji whose sha256("ganzoo-emoji-split:<key>") % 100 < this are test


def _chars(unified: str) -> str:
    return "".join(chr(int(h, 16)) for h in unified.split("-"))


def build_skintone(out: Path, size: int, downloads: Path) -> dict[str, Any]:
    """Six skin-tone domains of the same People & Body emoji, drawn by Noto and by Twemoji."""
    files, renderer, noto_license, chosen, skipped = _emoji(out, downloads)
    w = _Writer(out)
    counts: dict[str, int] = {}
    n_test = 0
    for key, variants in chosen:
        drawings = _draw(files, renderer, variants, size)
        test = _is_test(key)
        n_test += test
        for style, images in drawings.items():
            if test:
                picks = range(len(SKIN_TONES))  # every domain: the ground truth of every pair
            else:  # one domain per (emoji, style), so no training drawing appears in two skin tones
                h = hashlib.sha256(f"ganzoo-emoji-skintone:{style}:{key}".encode()).hexdigest()
                picks = [int(h, 16) % len(SKIN_TONES)]
            split = "test" if test else "train"
            for i in picks:
                rel = f"{split}/{SKIN_TONES[i][0]}/{style}-{key}.png"
                w.add(rel, images[i])
                counts[f"{split}/{SKIN_TONES[i][0]}"] = counts.get(f"{split}/{SKIN_TONES[i][0]}", 0) + 1
    fingerprint = w.commit()
    (out / "LICENSE-twemoji-datasource.txt").write_bytes(files["package/LICENSE"])
    (out / "COPYRIGHT-noto-color-emoji.txt").write_bytes(noto_license)
    return {"counts": dict(sorted(counts.items())), "fingerprint": fingerprint,
            "emoji": f"{len(chosen)} emoji ({n_test} test, {len(chosen) - n_test} train; {skipped} left out: a "
                     f"variant missing or not one Noto glyph)"}


def _emoji(out: Path, downloads: Path) -> tuple[dict[str, bytes], NotoRenderer, bytes, list[Any], int]:
    """The packages' files, a Noto renderer, Noto's copyright, the chosen emoji with their six variants
    ``[(key, [(unified, twemoji image), …])]`` and how many were left out."""
    tgz = fetch("twemoji", downloads)
    deb = fetch("noto", downloads)
    files = _tar_members(tgz, lambda n: n.startswith("package/img/twitter/64/")
                         or n in ("package/emoji.json", "package/LICENSE"))
    font_copy, noto_license = _noto_font(deb, out.parent / "downloads")
    renderer = NotoRenderer(font_copy)
    entries = json.loads(files["package/emoji.json"])
    tone_keys = [cp for _, cp in SKIN_TONES[1:]]
    # emoji → its six variants: (unified code sequence, twemoji image file) per domain
    chosen: list[tuple[str, list[tuple[str, str]]]] = []
    skipped = 0
    for e in entries:
        var = e.get("skin_variations") or {}
        if not e.get("has_img_twitter") or any(k not in var for k in tone_keys):
            continue  # multi-person emoji list 25 tone pairs instead of five single tones
        variants = [(e["unified"], e["image"])] + [(var[k]["unified"], var[k]["image"]) for k in tone_keys]
        ok = all(f"package/img/twitter/64/{img}" in files and renderer.single_glyph(_chars(u)) for u, img in variants)
        if not ok:
            skipped += 1
            continue
        chosen.append((e["unified"].lower(), variants))
    chosen.sort()
    return files, renderer, noto_license, chosen, skipped


def _draw(files: dict[str, bytes], renderer: NotoRenderer, variants: list[tuple[str, str]],
          size: int) -> dict[str, list[Any]]:
    """Every variant of one emoji in both styles: ``{"noto": [6 images], "twemoji": [6 images]}``."""
    from PIL import Image

    return {"noto": [renderer.render(_chars(u), size) for u, _ in variants],
            "twemoji": [_resized(_on_white(Image.open(io.BytesIO(files[f"package/img/twitter/64/{img}"]))), size)
                        for _, img in variants]}


def _is_test(key: str) -> bool:
    return int(hashlib.sha256((SPLIT_SALT + key).encode()).hexdigest(), 16) % 100 < SKINTONE_TEST_PERCENT


def build_default2dark(out: Path, size: int, downloads: Path) -> dict[str, Any]:
    """CycleGAN's layout of two tones: A = default (yellow), B = dark; unpaired train halves, paired test."""
    files, renderer, noto_license, chosen, skipped = _emoji(out, downloads)
    a, b = 0, len(SKIN_TONES) - 1
    w = _Writer(out)
    counts = {"trainA": 0, "trainB": 0, "testA": 0, "testB": 0}
    for key, variants in chosen:
        drawings = _draw(files, renderer, variants, size)
        for style, images in drawings.items():
            name = f"{style}-{key}.png"
            if _is_test(key):
                w.add(f"testA/{name}", images[a])
                w.add(f"testB/{name}", images[b])
                counts["testA"] += 1
                counts["testB"] += 1
                continue
            # each (emoji, style) in one domain only, by a hash: trainA and trainB share no drawing
            side = "A" if int(hashlib.sha256(f"ganzoo-emoji-d2d:{style}:{key}".encode()).hexdigest(), 16) % 2 else "B"
            w.add(f"train{side}/{name}", images[a if side == "A" else b])
            counts[f"train{side}"] += 1
    fingerprint = w.commit()
    (out / "LICENSE-twemoji-datasource.txt").write_bytes(files["package/LICENSE"])
    (out / "COPYRIGHT-noto-color-emoji.txt").write_bytes(noto_license)
    return {"counts": counts, "fingerprint": fingerprint,
            "emoji": f"{len(chosen)} emoji ({skipped} left out: a variant missing or not one Noto glyph)"}


SOURCES: dict[str, dict[str, Any]] = {
    "skintone": dict(
        folder="emoji-skintone", builder=build_skintone, packages=("noto", "twemoji"),
        title="Emoji skin tones: six domains (one folder each) for StarGAN, with held-out ground truth",
        licence="Noto Color Emoji images **Apache-2.0**, the font **OFL-1.1** (© Google Inc.; "
                "`COPYRIGHT-noto-color-emoji.txt` is Debian's copyright file). Twemoji graphics **CC-BY-4.0** "
                "(© Twitter, Inc. and other contributors; attribution required), packaged by emoji-datasource-twitter "
                "(code MIT, `LICENSE-twemoji-datasource.txt`).",
        what="The People & Body emoji that emoji-datasource-twitter lists with all five single skin-tone variants "
             "(U+1F3FB light … U+1F3FF dark) and that Noto draws as one glyph in every variant, each drawn by Noto "
             "(Pillow, size 109, embedded colour, padded square on white) and by Twemoji (64-px PNG on white), "
             "Lanczos-resized. Domains (folder names, in index order): default (yellow), light, medium-light, "
             "medium, medium-dark, dark. `test/<domain>/<style>-<key>.png` holds every held-out emoji in all six "
             "domains in both styles (the ground truth of every domain pair, matched by file name); in `train/` "
             "each (emoji, style) appears in one domain only, chosen by sha256(\"ganzoo-emoji-skintone:<style>:"
             "<key>\"), so training is unpaired.",
        split=f'an emoji is test when sha256("{SPLIT_SALT}<key>") mod 100 < {SKINTONE_TEST_PERCENT} (key: its '
              f'default code sequence, lower case)'),
    "default2dark": dict(
        folder="emoji-default2dark", builder=build_default2dark, packages=("noto", "twemoji"),
        title="Emoji in the default (yellow) and the dark skin tone (unaligned trainA/trainB, paired testA/testB "
              "for CycleGAN)",
        licence="Noto Color Emoji images **Apache-2.0**, the font **OFL-1.1** (© Google Inc.; "
                "`COPYRIGHT-noto-color-emoji.txt` is Debian's copyright file). Twemoji graphics **CC-BY-4.0** "
                "(© Twitter, Inc. and other contributors; attribution required), packaged by emoji-datasource-twitter "
                "(code MIT, `LICENSE-twemoji-datasource.txt`).",
        what="The emoji of `emoji-skintone` (People & Body emoji with all five single skin-tone variants, drawn by "
             "Noto and by Twemoji, Lanczos-resized on white). A = the default yellow tone, B = the dark tone "
             "(U+1F3FF). `testA/X.png` and `testB/X.png` are the same emoji (the held-out ground truth; the same "
             "test emoji as `emoji-skintone`); each training (emoji, style) is drawn in one tone only, chosen by "
             "sha256(\"ganzoo-emoji-d2d:<style>:<key>\"), so trainA and trainB share no drawing.",
        split=f'an emoji is test when sha256("{SPLIT_SALT}<key>") mod 100 < {SKINTONE_TEST_PERCENT} (key: its '
              f'default code sequence, lower case)'),
}
