"""The import graph of the ganzoo package, as docs/architecture.md draws it (and a test keeps true).

    python scripts/module_graph.py            # print the graph section and any import cycle
    python scripts/module_graph.py --write    # rewrite the section of docs/architecture.md between its markers

Only module-level imports count (``import x`` / ``from x import y`` at the top of a module, under ``if
TYPE_CHECKING`` excluded): imports inside functions are deliberate lazy imports (torch-free listing, optional
packages) and cannot form an import-time cycle. Modules are grouped for the picture: a sub-package
(``ganzoo.metrics``, ``ganzoo.training`` …) is one node; top-level modules are nodes of their own. Cycles are
checked between modules, not groups.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ganzoo"
DOC = ROOT / "docs" / "architecture.md"
BEGIN, END = "<!-- module-graph:begin -->", "<!-- module-graph:end -->"
GROUPS = ("cli", "data", "metrics", "nn", "tasks", "testing", "training")


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def top_level_imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """The ganzoo modules ``path`` imports at module level."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def resolve(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                if not _is_type_checking(node):
                    visit(node.body)
                    visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("ganzoo"):
                        hit = resolve(alias.name)
                        if hit:
                            found.add(hit)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                if not mod.startswith("ganzoo"):
                    continue
                for alias in node.names:  # `from . import tasks` imports a submodule
                    hit = resolve(f"{mod}.{alias.name}")
                    if hit and hit != f"{mod}" and hit.startswith(f"{mod}."):
                        found.add(hit)
                        continue
                    hit = resolve(mod)
                    if hit:
                        found.add(hit)

    visit(tree.body)
    found.discard(name)
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py") if "model_cards" not in p.parts}
    modules = set(files)
    return {name: top_level_imports(path, name, modules) for name, path in sorted(files.items())}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles between modules (each as the list of modules around it). A package ``__init__`` that
    re-exports its own submodules is not a cycle with them."""
    out: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def edges(n: str) -> list[str]:
        return [m for m in sorted(g.get(n, ())) if not n.startswith(m + ".")]  # a submodule importing its package

    def dfs(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in edges(n):
            if state.get(m) == 1:
                out.append(stack[stack.index(m):] + [m])
            elif m not in state:
                dfs(m)
        stack.pop()
        state[n] = 2

    for n in sorted(g):
        if n not in state:
            dfs(n)
    return out


def group(name: str) -> str:
    parts = name.split(".")
    if len(parts) >= 2 and parts[1] in GROUPS:
        return f"ganzoo.{parts[1]}"
    return name


def section(g: dict[str, set[str]]) -> str:
    edges: dict[str, set[str]] = {}
    for n, targets in g.items():
        for t in targets:
            a, b = group(n), group(t)
            if a != b and b != "ganzoo":
                edges.setdefault(a, set()).add(b)
    nodes = sorted({group(n) for n in g} - {"ganzoo"})
    lines = [BEGIN, "", "| module | imports at module level (within ganzoo) |", "|---|---|"]
    for n in nodes:
        lines.append(f"| `{n}` | {', '.join(f'`{t}`' for t in sorted(edges.get(n, ()))) or '—'} |")
    lines += ["", f"{len(g)} modules; import cycles: {len(cycles(g))}.", "", END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the section of docs/architecture.md")
    args = parser.parse_args(argv)
    g = graph()
    text = section(g)
    for cycle in cycles(g):
        print("cycle: " + " → ".join(cycle), file=sys.stderr)
    if args.write:
        doc = DOC.read_text(encoding="utf-8")
        head, _, rest = doc.partition(BEGIN)
        _, _, tail = rest.partition(END)
        DOC.write_text(head + text + tail, encoding="utf-8")
        print(f"wrote {DOC.relative_to(ROOT)}")
    else:
        print(text)
    return 1 if cycles(g) else 0


if __name__ == "__main__":
    sys.exit(main())
