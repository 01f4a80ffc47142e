"""`ganzoo.load("pix2pix")` means the authors' facades model: a listed entry whose weights are fetched on first
use (no pix2pix demo trained here is bundled: none beats the identity baseline)."""

from __future__ import annotations

from ganzoo import names
from ganzoo.registry import list_models


def test_the_default_is_a_listed_model() -> None:
    entry = names.resolve("pix2pix").entry
    assert entry is not None and entry.id == "pix2pix-facades-label2photo"
    assert entry.id in {e.id for e in list_models()}
    assert not entry.bundled and "pix2pix-openmoji-line2color" not in {e.id for e in list_models()}
