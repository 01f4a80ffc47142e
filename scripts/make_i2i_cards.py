"""Render the registry cards of the 23 published pix2pix and CycleGAN models (and of the other converted models
served from a source, ``dcgan-faces``) into cards/<id>/README.md.

    python scripts/make_i2i_cards.py            # (re)write the cards
    python scripts/make_i2i_cards.py --check    # exit 1 if a card differs from what this script renders

The content comes from the plugins' torch-free tables (``ganzoo_pix2pix.published``, ``ganzoo_cyclegan.published``),
the same the converters use, so a card and the folder ``ganzoo convert`` writes say the same things. Each card
names the Hub repo the maintainer will publish to (``ganzoo/<id>``) with ``revision: null``, and the authors' file
as its ``source``: until the weights are converted, pushed and pinned (docs/i2i.md), ``ganzoo.load(<id>)`` fetches
that file on first use, converts it and caches the result (``ganzoo.sources``, docs/weights.md). A pinned card keeps
its ``source`` as the fallback for a Hub that lacks the revision.

A card that ``ganzoo push --pin-card`` already pinned (``revision`` set) is re-rendered with the same prose as the
others while keeping what the pin recorded: ``repo_id``, ``revision``, ``sha256``, ``parameters`` and the
converter's ``converted_from`` (with the original file's sha256). So the last step of the maintainer procedure is:
convert → ``ganzoo push DIR ganzoo/<id> --pin-card cards/<id>`` → ``python scripts/make_i2i_cards.py`` → commit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HUB_ORG = "ganzoo"


def _cards() -> list[tuple[str, Any, str, dict[str, Any]]]:
    """(model id, plugin spec, tag, card content) for every published model."""
    from ganzoo_cyclegan import published as cg
    from ganzoo_dcgan import published as dc
    from ganzoo_pix2pix import published as p2p

    from ganzoo.registry import get_plugin

    out = []
    spec = get_plugin("cyclegan")
    for m in cg.PUBLISHED.values():
        out.append((f"cyclegan-{m.name}", spec, m.name, cg.card_content(m)))
    spec = get_plugin("pix2pix")
    for m in p2p.PUBLISHED.values():
        out.append((f"pix2pix-{m.tag}", spec, m.tag, p2p.card_content(m)))
    out.append((f"dcgan-{dc.FACES['tag']}", get_plugin("dcgan"), dc.FACES["tag"], dc.card_content()))
    return out


#: what a pinned card keeps from ``ganzoo push --pin-card`` when it is re-rendered
PINNED_KEYS = ("repo_id", "revision", "sha256", "parameters", "converted_from")


def render(model_id: str, spec: Any, tag: str, content: dict[str, Any], pinned: dict[str, Any] | None = None) -> str:
    """The README.md text of one registry card (``pinned``: the ganzoo block of an already pinned card)."""
    from ganzoo.cards import make_card

    block = {
        **content["block"],
        "repo_id": f"{HUB_ORG}/{model_id}",
        "revision": None,
        "converted_from": content["converted_from"],
    }
    if pinned:
        block.update({k: pinned[k] for k in PINNED_KEYS if pinned.get(k) is not None})
    tags = ["image-to-image", "pytorch-CycleGAN-and-pix2pix"] if spec.name in ("cyclegan", "pix2pix") else ["faces"]
    card = make_card(plugin=spec, tag=tag, ganzoo=block, license=content["license"], tags=tags,
                     description=content["description"], usage=content["usage"], notes=content["notes"])
    return str(card)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a card is out of date")
    parser.add_argument("--out", type=Path, default=ROOT / "cards", help="the cards folder (default: cards/)")
    args = parser.parse_args(argv)

    from ganzoo.cards import read_card_info

    stale = []
    for model_id, spec, tag, content in _cards():
        path = args.out / model_id / "README.md"
        pinned = None
        if path.is_file():
            info = read_card_info(path.read_text(encoding="utf-8"), path=str(path))
            if info.revision is not None:
                pinned = dict(info.metadata["ganzoo"])
        text = render(model_id, spec, tag, content, pinned)
        read_card_info(text, path=str(path))  # the validator ganzoo list uses
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if args.check:
            stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote  {path}")
    if stale:
        print("out of date (run python scripts/make_i2i_cards.py):\n  " + "\n  ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
