"""`ganzoo.load("cyclegan")` means the authors' horse2zebra model: a listed entry whose weights are fetched on
first use (the CycleGAN demo trained here is not bundled: it lost to the identity baseline on KID)."""

from __future__ import annotations

from ganzoo import names
from ganzoo.registry import list_models


def test_the_default_is_a_listed_model() -> None:
    entry = names.resolve("cyclegan").entry
    assert entry is not None and entry.id == "cyclegan-horse2zebra"
    listed = {e.id for e in list_models()}
    assert entry.id in listed and not entry.bundled and "cyclegan-noto2twemoji" not in listed
