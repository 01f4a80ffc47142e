"""How fast is `ganzoo list`? Compared with timm's `list_models()`, the registry listing users know.

Both are timed as whole commands (interpreter start included), as a user runs them:

    python benchmarks/list_speed.py --repeat 15

Prints the median and best wall time of each command and the ratio of the medians; the README records it.
`ganzoo list` reads entry-point metadata, the light plugin spec modules and card front matter: no torch import,
no network.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def _time(cmd: list[str], repeat: int) -> list[float]:
    subprocess.run(cmd, check=True, capture_output=True)  # warm the file cache once
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    ganzoo = shutil.which("ganzoo")
    commands = {
        "ganzoo list": [ganzoo, "list"] if ganzoo else [sys.executable, "-m", "ganzoo.cli", "list"],
        "ganzoo list --json": ([ganzoo] if ganzoo else [sys.executable, "-m", "ganzoo.cli"]) + ["list", "--json"],
        "python -c 'import timm; timm.list_models()'": [sys.executable, "-c", "import timm; timm.list_models()"],
    }
    results = {name: _time(cmd, args.repeat) for name, cmd in commands.items()}
    print(f"| command | median (s) | best (s) |  (n = {args.repeat})")
    print("|---|---|---|")
    for name, t in results.items():
        print(f"| `{name}` | {statistics.median(t):.3f} | {min(t):.3f} |")
    ratio = statistics.median(results["python -c 'import timm; timm.list_models()'"]) / statistics.median(results["ganzoo list"])
    print(f"\n`ganzoo list` is {ratio:.1f}x faster than timm.list_models() (ratio of medians)")


if __name__ == "__main__":
    main()
