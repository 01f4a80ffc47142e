"""Which OpenMoji pairs scripts/fetch_emoji.py keeps as the line-art → colour task (no download, no rendering:
the selection rules on small synthetic pixel arrays)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fetch_emoji.py"


@pytest.fixture(scope="module")
def fetch_emoji():
    spec = importlib.util.spec_from_file_location("fetch_emoji_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _art(*dark: tuple[int, int]) -> np.ndarray:
    """A white 8×8 RGB drawing with black strokes at the given pixels."""
    img = np.full((8, 8, 3), 255, dtype=np.int16)
    for y, x in dark:
        img[y, x] = 0
    return img


def _coloured(art: np.ndarray, rgb: tuple[int, int, int], where: tuple[int, int] = (4, 4)) -> np.ndarray:
    img = art.copy()
    img[where] = rgb
    return img


def test_select_pairs_keeps_translations_and_says_why_it_leaves_others_out(fetch_emoji):
    circle, heart, face, clock, letter = _art((0, 0)), _art((1, 1)), _art((2, 2)), _art((3, 3)), _art((5, 5))
    pairs = [
        {"hexcode": "1F534", "a": circle, "b": _coloured(circle, (210, 47, 47))},    # red circle: same line art …
        {"hexcode": "1F535", "a": circle, "b": _coloured(circle, (97, 178, 228))},   # … as blue circle: ambiguous
        {"hexcode": "1F552", "a": clock, "b": clock.copy()},                         # colour drawing = line art
        {"hexcode": "1F1E8", "a": letter, "b": _coloured(letter, (251, 251, 251))},  # only 4 levels off
        {"hexcode": "1F600", "a": face, "b": _coloured(face, (252, 234, 43))},       # a real colouring: kept
        {"hexcode": "1F9D1-200D-1F373", "a": heart, "b": _coloured(heart, (241, 158, 56))},  # kept (first)
        {"hexcode": "1F9D1-200D-1F374", "a": heart, "b": _coloured(heart, (241, 158, 56))},  # its repeat
    ]
    kept, left_out = fetch_emoji.select_pairs(pairs)
    assert [p["hexcode"] for p in kept] == ["1F600", "1F9D1-200D-1F373"]
    assert left_out == {"1F534": "ambiguous", "1F535": "ambiguous", "1F552": "no colour", "1F1E8": "no colour",
                        "1F9D1-200D-1F374": "repeat"}


def test_a_colouring_just_above_the_tolerance_is_a_translation(fetch_emoji):
    art = _art((0, 0))
    level = 255 - fetch_emoji.NO_COLOUR_LEVELS - 1
    kept, left_out = fetch_emoji.select_pairs([{"hexcode": "2B50", "a": art, "b": _coloured(art, (level,) * 3)}])
    assert [p["hexcode"] for p in kept] == ["2B50"] and not left_out


def test_each_dataset_has_its_own_format_stamp(fetch_emoji):
    # a change to how line2color pairs are chosen rebuilds that folder only, not the CycleGAN data
    assert set(fetch_emoji.FORMAT_VERSIONS) == set(fetch_emoji.DATASETS)
    assert fetch_emoji._stamp("line2color", 64) != fetch_emoji._stamp("noto2twemoji", 64)
    assert "format=2" in fetch_emoji._stamp("line2color", 64)
