"""The README's code, run as written.

Every ``bash``/``python`` block in README.md is preceded by a marker comment that says what the test does with it:

* ``<!-- run -->`` — executed, in document order, in one fresh working folder (what a reader who pastes the blocks
  one after the other into a shell or a Python session gets). Python blocks share one namespace; bash blocks run
  with ``bash -euo pipefail`` and this interpreter's ``ganzoo`` first on PATH. The Hub is the local test server,
  as everywhere in the suite.
* ``<!-- skip: why -->`` — not executed (e.g. ``make`` itself, hour-long trainings, the real Hub); the reason is
  required and must say what runs instead.

A block without a marker fails the test, so a new snippet is either run or explicitly excused.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ganzoo import registry

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXECUTABLE = {"bash", "sh", "console", "python", "py"}
_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*(run|skip:\s*(?P<why>.+?))\s*-->$")


@dataclass
class Block:
    line: int        # 1-based line of the opening fence
    lang: str
    code: str
    marker: str      # "run", "skip" or "" (none)
    why: str = ""


def read_blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text with the marker comment on the line above each (if any)."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1).lower()
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        above = next((lines[k].strip() for k in range(start - 1, -1, -1) if lines[k].strip()), "")
        mark = _MARKER.match(above)
        kind = "" if not mark else ("run" if mark.group(1) == "run" else "skip")
        blocks.append(Block(start + 1, lang, "\n".join(lines[start + 1:j]), kind, (mark and mark.group("why")) or ""))
        i = j + 1
    return blocks


def test_marker_parser():
    text = ("intro\n\n<!-- run -->\n```bash\nganzoo list\n```\n\n```toml\n[x]\n```\n"
            "<!-- skip: needs a GPU; the CPU line above runs -->\n\n```python\nimport torch\n```\n```bash\nls\n```\n")
    blocks = read_blocks(text)
    assert [(b.line, b.lang, b.marker) for b in blocks] == [(4, "bash", "run"), (8, "toml", ""),
                                                            (13, "python", "skip"), (16, "bash", "")]
    assert blocks[0].code == "ganzoo list" and blocks[2].why.startswith("needs a GPU")


def test_every_readme_snippet_is_run_or_excused():
    """A bash/python block with no marker, or a skip without its reason, is a README bug."""
    bad = [f"README.md:{b.line} ({b.lang})" for b in read_blocks(README.read_text())
           if b.lang in EXECUTABLE and (not b.marker or (b.marker == "skip" and len(b.why) < 10))]
    assert not bad, "add <!-- run --> or <!-- skip: reason --> above: " + ", ".join(bad)


def _run_bash(block: Block, cwd: Path) -> None:
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block.code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (f"README.md:{block.line} failed (exit {proc.returncode}):\n{block.code}\n"
                                  f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}")


def _run_python(block: Block, namespace: dict) -> None:
    try:
        exec(compile(block.code, f"README.md:{block.line}", "exec"), namespace)
    except Exception as e:  # noqa: BLE001 — the message names the block
        raise AssertionError(f"README.md:{block.line} failed: {type(e).__name__}: {e}\n{block.code}") from e


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("GANZOO_DISABLE_PLUGINS", "") != "", reason="the README uses the built-in plugins")
def test_readme_snippets_run(tmp_path, monkeypatch, hub, hf_cache):
    """Run every ``<!-- run -->`` block of README.md in order, as a new user would, in an empty folder."""
    assert any(r.name == "dcgan" for r in registry.list_plugins()), "the README's examples need the built-in plugins installed"
    blocks = [b for b in read_blocks(README.read_text()) if b.marker == "run"]
    assert len(blocks) >= 5, "the README should show runnable examples"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    for block in blocks:
        if block.lang in ("python", "py"):
            _run_python(block, namespace)
        else:
            _run_bash(block, tmp_path)
