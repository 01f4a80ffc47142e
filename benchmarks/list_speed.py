"""How fast is `ganzoo list`, with today's models and with a zoo of thousands? Compared with timm's
`list_models()`, the registry listing users know.

Every command is timed as a user runs it: a fresh process each time, interpreter start included; the table
gives the median and the best of `--repeat` runs (after one untimed warm-up run), and the median CPU time
(user + system) of those runs, which a shared machine's load moves much less than wall time:

    python benchmarks/list_speed.py --repeat 15

Rows:

* `ganzoo list` / `ganzoo list --json` with what is installed, the card cache warm (the usual case);
* the same with a synthetic plugin of `--cards` (2,000) cards installed the way pip installs one — a
  dist-info with a `ganzoo.plugins` entry point and a package holding `cards/<plugin>-<tag>/README.md` in a
  temporary site folder put on PYTHONPATH. The cards are copies of real ones (a Hub-pinned CycleGAN card and,
  every tenth, a bundled digit model's card with its metric protocols), renamed;
* "cold": the same, each run with an empty card cache (every card parsed, libyaml's loader when available);
* `--compare PATH/TO/ganzoo` adds the same rows for another installation (e.g. the checkout before a change),
  timed in the same session.

The card cache lives in a temporary `GANZOO_CACHE` for the whole benchmark, so the user's cache is untouched;
PYTHONDONTWRITEBYTECODE is unset for the timed processes (an installed package imports from bytecode).
`ganzoo list` reads entry-point metadata, the light plugin spec modules and the card cache: no torch import,
no network.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# real cards the synthetic ones are copied from: a Hub-pinned translator, and a bundled model with metrics
HUB_CARD = ROOT / "cards" / "cyclegan-horse2zebra" / "README.md"
BIG_CARD = ROOT / "cards" / "dcgan-digits" / "README.md"
PLUGIN = "synthzoo"


def _card(template: str, tag: str, *, plugin: str) -> str:
    """``template`` with its plugin and tag replaced (YAML edited as text: same shape, same size)."""
    import re

    text = re.sub(r"(?m)^(  plugin: ).*$", rf"\g<1>{plugin}", template, count=1)
    return re.sub(r"(?m)^(  tag: ).*$", rf"\g<1>{tag}", text, count=1)


def install_synthetic_plugin(site: Path, n_cards: int) -> None:
    """Write a distribution ``synthzoo`` with ``n_cards`` cards into ``site`` (what pip leaves in site-packages)."""
    info = site / "synthzoo-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: synthzoo\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[ganzoo.plugins]\n{PLUGIN} = synthzoo:plugin\n")
    pkg = site / "synthzoo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from ganzoo import Plugin\n"
        f"plugin = Plugin(name={PLUGIN!r}, task='unpaired-translation', summary='synthetic plugin with many cards',\n"
        "                paper='https://arxiv.org/abs/1703.10593', config='synthzoo.model:Config',\n"
        "                impl='synthzoo.model:Impl', components=('G_AB', 'G_BA'), cards='synthzoo:cards')\n")
    hub, big = HUB_CARD.read_text(encoding="utf-8"), BIG_CARD.read_text(encoding="utf-8")
    past = time.time() - 3600  # an hour old, as after a pip install (fresh files are not cached at once)
    for i in range(n_cards):
        tag = f"m{i:05d}"
        folder = pkg / "cards" / f"{PLUGIN}-{tag}"
        folder.mkdir(parents=True)
        readme = folder / "README.md"
        readme.write_text(_card(big if i % 10 == 0 else hub, tag, plugin=PLUGIN), encoding="utf-8")
        os.utime(readme, (past, past))


def _time(label: str, cmd: list[str], repeat: int, env: dict[str, str],
          fresh_cache: bool = False) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of ``repeat`` fresh runs of ``cmd`` after one untimed run; prints ``label`` and medians.

    CPU is the child's user + system time: on a shared machine it moves much less with the load than wall time."""
    import resource

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def one() -> tuple[float, float]:
        run_env = dict(env)
        if fresh_cache:
            run_env["GANZOO_CACHE"] = tempfile.mkdtemp(prefix="ganzoo-bench-cold-")
        c0, t0 = cpu(), time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=run_env)
        dt, dc = time.perf_counter() - t0, cpu() - c0
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
        if fresh_cache:
            shutil.rmtree(run_env["GANZOO_CACHE"], ignore_errors=True)
        return dt, dc

    one()  # warm the file cache (and the card cache) once
    times = [one() for _ in range(repeat)]
    print(f"{label}: median {statistics.median(t for t, _ in times):.3f} s wall, "
          f"{statistics.median(c for _, c in times):.3f} s CPU", file=sys.stderr, flush=True)  # progress
    return times


def _count_models(cmd: list[str], env: dict[str, str]) -> int:
    import json

    out = subprocess.run(cmd + ["--json"], capture_output=True, text=True, env=env, check=True).stdout
    return len(json.loads(out)["models"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per row (median and best reported)")
    parser.add_argument("--cards", type=int, default=2000, help="cards in the synthetic plugin")
    parser.add_argument("--compare", metavar="GANZOO", help="another installation's ganzoo executable to time too")
    parser.add_argument("--no-timm", action="store_true", help="skip the timm row")
    args = parser.parse_args()

    ganzoo = shutil.which("ganzoo", path=str(Path(sys.executable).parent)) or shutil.which("ganzoo")
    installs = {"": [ganzoo] if ganzoo else [sys.executable, "-m", "ganzoo.cli"]}
    if args.compare:
        installs[" (compared)"] = [args.compare]
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `kill` still removes the temporary site below
    load = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="ganzoo-bench-list-"))
    try:
        site = work / "site"
        install_synthetic_plugin(site, args.cards)
        base_env = {**os.environ, "GANZOO_CACHE": str(work / "cache")}
        base_env.pop("GANZOO_DISABLE_PLUGINS", None)
        base_env.pop("PYTHONDONTWRITEBYTECODE", None)  # time what users run: imports from cached bytecode
        zoo_env = {**base_env, "PYTHONPATH": os.pathsep.join([str(site)] + ([os.environ["PYTHONPATH"]]
                                                                            if os.environ.get("PYTHONPATH") else []))}
        rows: list[tuple[str, int | None, list[tuple[float, float]]]] = []
        for label, cmd in installs.items():
            n_today, n_zoo = _count_models(cmd + ["list"], base_env), _count_models(cmd + ["list"], zoo_env)
            for row, n, argv, env, cold in (
                    (f"`ganzoo list`{label}", n_today, ["list"], base_env, False),
                    (f"`ganzoo list --json`{label}", n_today, ["list", "--json"], base_env, False),
                    (f"`ganzoo list`{label}, +{args.cards:,}-card plugin", n_zoo, ["list"], zoo_env, False),
                    (f"`ganzoo list`{label}, +{args.cards:,}-card plugin, cold cache", n_zoo, ["list"], zoo_env, True)):
                repeat = max(3, args.repeat // 3) if cold else args.repeat
                rows.append((row, n, _time(row, cmd + argv, repeat, env, fresh_cache=cold)))
        if not args.no_timm:
            timm = [sys.executable, "-c", "import timm; timm.list_models()"]
            row = "`python -c 'import timm; timm.list_models()'`"
            rows.append((row, None, _time(row, timm, args.repeat, base_env)))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"load average before / after: {load[0]:.1f} / {os.getloadavg()[0]:.1f}\n")
    print("| command | models listed | median (s) | best (s) | median CPU (s) | runs |\n|---|---|---|---|---|---|")
    for name, n, times in rows:
        wall, cpu = [t for t, _ in times], [c for _, c in times]
        print(f"| {name} | {'-' if n is None else f'{n:,}'} | {statistics.median(wall):.3f} | {min(wall):.3f} "
              f"| {statistics.median(cpu):.3f} | {len(times)} |")
    if not args.no_timm:
        ratio = statistics.median(t for t, _ in rows[-1][2]) / statistics.median(t for t, _ in rows[0][2])
        print(f"\n`ganzoo list` is {ratio:.1f}x faster than timm.list_models() (ratio of medians)")


if __name__ == "__main__":
    main()
