"""``ganzoo list``, ``info``, ``doctor`` and ``new-plugin``: what is installed, and how to add to it.

``list`` is torch-free and offline: it reads entry-point metadata, the light plugin specs and the card index.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from ..plugin import TASKS
from .main import CONTEXT_SETTINGS, table

__all__ = ["list_cmd", "info", "doctor", "new_plugin", "weights_status"]


def _human(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= div:
            return f"{n / div:.1f}{unit}"
    return str(n)


def _short(text: str, width: int = 64) -> str:
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def _cache_names() -> tuple[frozenset[str], frozenset[str]]:
    """The names in the converted-sources cache and in the Hugging Face hub cache: one directory read each.

    A model whose name is absent from these has nothing cached, so a listing of thousands of models stats files only
    for the few that may (a converted source lives in ``cache_root()/converted/<model id>/…``, a Hub snapshot in
    ``HF_HUB_CACHE/models--<org>--<name>/…``).
    """
    from huggingface_hub import constants

    from ..sources import cache_root

    def names(folder: Path) -> frozenset[str]:
        try:
            return frozenset(os.listdir(folder))
        except OSError:
            return frozenset()

    return names(cache_root() / "converted"), names(Path(constants.HF_HUB_CACHE))


def weights_status(entry: Any, installed: set[str], *,
                   cache_names: tuple[frozenset[str], frozenset[str]] | None = None) -> tuple[str, str, str | None]:
    """Where a pretrained model's weights come from, whether they are here, and the original file's URL.

    Args:
        entry (`ModelEntry`): a registry model.
        installed (`set[str]`): the names of the installed plugins.
        cache_names (`tuple`, *optional*): what :func:`_cache_names` returns, read once for a whole listing;
            ``None`` reads it for this call.

    Returns:
        `tuple[str, str, str | None]`: ``weights`` (as :func:`ganzoo.sources.weights_origin`: ``bundled``, ``hub``,
        ``source`` or ``not published``), ``status`` (``bundled``, ``cached``, ``hub``, ``on first use``,
        ``unpublished`` or ``plugin missing``) and the source URL (``None`` without one). Torch-free and offline:
        it looks at the card's listing fields and at files only.

    Example:
        >>> from ganzoo.names import get_model
        >>> weights_status(get_model("dcgan-digits"), {"dcgan"})
        ('bundled', 'bundled', None)
    """
    from ..errors import CardError
    from ..sources import cached_folder, source_of

    try:
        src = source_of(entry)
    except CardError:
        src = None
    info = entry.card
    hub = bool(info.repo_id and info.revision)
    # the same answer as sources.weights_origin, without parsing the source a second time
    origin = "bundled" if entry.bundled else "hub" if hub else "source" if src is not None else "not published"
    url = src.url if src is not None else None
    if entry.plugin not in installed:
        return origin, "plugin missing", url
    if origin == "bundled":
        return origin, "bundled", url
    converted, snapshots = cache_names if cache_names is not None else _cache_names()
    if src is not None and src.model_id in converted and cached_folder(src) is not None:
        return origin, "cached", url
    if hub:
        from ..hub import cached_snapshot

        repo_folder = "models--" + info.repo_id.replace("/", "--")
        cached = repo_folder in snapshots and cached_snapshot(info.repo_id, info.revision) is not None
        return origin, "cached" if cached else "hub", url
    return origin, "on first use" if src is not None else "unpublished", url


@click.command("list", context_settings=CONTEXT_SETTINGS)
@click.argument("pattern", required=False)
@click.option("--task", type=click.Choice(sorted(TASKS)), help="only plugins and models of this task")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def list_cmd(pattern: str | None, task: str | None, as_json: bool) -> None:
    """List installed plugins and pretrained models, with where each model's weights come from.

    PATTERN filters names (a substring, or a glob such as 'cyclegan-*'). Offline, and no torch import; the
    parsed cards are cached ($GANZOO_CACHE/cards or ~/.cache/ganzoo/cards), so it stays fast with thousands.

    \b
    The weights column, where each model's weights come from:
      bundled        shipped inside the installed package: loads offline, nothing to download
      hub            a pinned commit on the Hugging Face Hub
      source         the original authors' file, checked, converted on first use and cached
      not published  the card exists but no weights are reachable yet (train or convert them yourself)
    The status column: bundled, cached (here already: loads offline), hub or on first use (downloaded when first
    loaded), unpublished, or plugin missing (install the plugin the card names).

    \b
    Examples:
      ganzoo list                                  everything
      ganzoo list digits                           names containing 'digits'
      ganzoo list 'cyclegan-*'                     a glob
      ganzoo list --task paired-translation        translators trained on aligned pairs
      ganzoo list --json | jq '.models[].id'       for scripts
    """
    from .. import registry

    plugins = registry.list_plugins(pattern, task=task)
    models = registry.list_models(pattern, task=task)
    conflicts = registry.conflicts()
    problems = registry.problems()
    installed = {r.name for r in registry.list_plugins()}
    names = _cache_names()
    states = {e.id: weights_status(e, installed, cache_names=names) for e in models}
    if as_json:
        out = {
            "plugins": [{"name": r.name, "task": r.plugin.task, "summary": r.plugin.summary,
                         "paper": r.plugin.paper, "distribution": r.distribution, "version": r.version}
                        for r in plugins if r.plugin is not None],
            "conflicts": [{"name": n, "distributions": [p.distribution for p in ps]} for n, ps in conflicts.items()],
            "models": [{"id": e.id, "plugin": e.plugin, "tag": e.tag, "dataset": e.card.dataset,
                        "parameters": e.card.parameters, "license": e.card.license, "repo_id": e.card.repo_id,
                        "revision": e.card.revision, "weights": states[e.id][0], "status": states[e.id][1],
                        "cached": states[e.id][1] in ("bundled", "cached"), "source": states[e.id][2],
                        "plugin_installed": e.plugin in installed, "provider": e.provider}
                       for e in models],
            "problems": [{"kind": p.kind, "name": p.name, "message": p.message} for p in problems],
        }
        click.echo(json.dumps(out, indent=2))
        return
    rows = [[r.name, r.plugin.task, _short(r.plugin.summary), f"{r.distribution} {r.version}"]
            for r in plugins if r.plugin]
    rows += [[n, "CONFLICT", "provided by " + " and ".join(p.distribution or "?" for p in ps), "-"]
             for n, ps in conflicts.items() if not pattern or pattern in n]
    click.echo(f"Plugins ({len(rows)})")
    filtered = " match" + (f" {pattern!r}" if pattern else "") + (f" (task {task})" if task else "")
    click.echo(table(rows, ["name", "task", "summary", "provided by"]) if rows
               else "  none" + (filtered if pattern or task else " installed"))
    mrows = [[e.id, e.plugin, e.card.dataset or "-", _human(e.card.parameters), e.card.license or "-",
              states[e.id][0], states[e.id][1]] for e in models]
    click.echo(f"\nPretrained models ({len(mrows)})")
    click.echo(table(mrows, ["id", "plugin", "dataset", "params", "licence", "weights", "status"]) if mrows
               else "  none" + (filtered if pattern or task else ""))
    if problems:
        click.echo(f"\n{len(problems)} problem(s) skipped: run `ganzoo doctor` for details", err=True)


def _render_card(text: str, *, where: str, status: str | None = None) -> str:
    """A card for the terminal: its key facts (from the front matter), then its prose; raw text if it has none."""
    from ..cards import read_card_info, split_front_matter
    from ..errors import GanzooError

    meta, body = split_front_matter(text)
    if meta is None:
        return text
    try:
        info = read_card_info(text, path=where)
    except GanzooError:
        return text
    lines = [f"{info.id}" + (f" — {info.summary}" if info.summary else "")]
    facts = [("plugin", info.plugin), ("status", status),
             ("hub", f"{info.repo_id} @ {info.revision}" if info.repo_id and info.revision
              else (f"{info.repo_id} (revision not pinned)" if info.repo_id else None)),
             ("dataset", info.dataset),
             ("licence", (info.license or "?") + (f" (weights: {info.weights_license})" if info.weights_license
                                                  and info.weights_license != info.license else "")),
             ("parameters", f"{info.parameters:,}" if info.parameters else None),
             ("files", ", ".join(f"{f} (sha256 {h[:12]}…)" for f, h in info.sha256.items()) or None)]
    lines += [f"  {k + ':':<12} {v}" for k, v in facts if v]
    lines.append(f"  {'metadata:':<12} the card's front matter: ganzoo info {where} --raw")
    return "\n".join(lines) + "\n\n" + body.strip() + "\n"


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@click.option("--raw", is_flag=True, help="print a model's README.md as it is, metadata (front matter) included")
def info(name: str, raw: bool) -> None:
    """Show a model's card, or a plugin's description and config fields with defaults.

    For a model: its key facts (plugin, status, Hub repo and pinned revision, data, licence, parameters, files
    and their sha256), then the card's text (training command, data, metrics with their protocol). For a plugin:
    its task, paper, components, pretrained models, and every config field `ganzoo train PLUGIN --set` takes.

    \b
    Examples:
      ganzoo info dcgan-digits                     a bundled model's card
      ganzoo info dcgan                            the plugin: config fields, defaults, help
      ganzoo info runs/x                           a model folder you trained
      ganzoo info hf-hub:org/repo@main --raw       a Hub model's README.md as it is
    """
    from .. import names, registry
    from ..config import describe
    from ..errors import UnknownNameError

    def show(text: str, status: str | None = None) -> None:
        click.echo(text if raw else _render_card(text, where=name, status=status))

    try:
        res = names.resolve(name)
    except UnknownNameError:
        res = None
    plugin_name, tag = names.split_name(name)
    installed = {r.name for r in registry.list_plugins()}
    if res is not None and res.kind == "registry" and (tag is not None or name not in installed):
        entry = res.entry
        assert entry is not None
        show((entry.folder / "README.md").read_text(encoding="utf-8"), weights_status(entry, installed)[1])
        return
    if res is not None and res.kind == "local":
        assert res.path is not None
        readme = res.path / "README.md"
        if readme.is_file():
            show(readme.read_text(encoding="utf-8"), "local folder")
            return
    if res is not None and res.kind == "hub":
        from ..hub import download_model

        snapshot = download_model(res.repo_id, res.revision, components=[], with_card=True)  # type: ignore[arg-type]
        if (snapshot / "README.md").is_file():
            show((snapshot / "README.md").read_text(encoding="utf-8"), f"on the Hub: {res.repo_id} @ {snapshot.name}")
        else:
            click.echo((snapshot / "config.json").read_text())
        return
    spec = registry.get_plugin(plugin_name)
    record = registry.get_record(plugin_name)
    click.echo(f"{spec.name} — {spec.summary}")
    click.echo(f"  task:          {spec.task}")
    click.echo(f"  paper:         {spec.paper}")
    click.echo(f"  provided by:   {record.distribution} {record.version}")
    click.echo(f"  components:    {', '.join(spec.components)} (inference: {', '.join(spec.inference)})")
    task = TASKS[spec.task]
    builtins = ", ".join(f"builtin:{b}" for b in task.builtins)
    click.echo(f"  data:          {task.layouts}" + (f"; or built-in: {builtins}" if builtins else ""))
    tags = [e.id for e in registry.list_models() if e.plugin == spec.name]
    click.echo(f"  pretrained:    {', '.join(tags) or 'none'}" + (f" (default: {spec.name}-{spec.default_tag})"
                                                                    if spec.default_tag else ""))
    if spec.description:
        click.echo("\n" + spec.description)
    fields = describe(spec.load_config_class())
    click.echo(f"\nConfig ({spec.config}); set with `ganzoo train {spec.name} --set key=value`:")
    click.echo(table([[f.name, f.type, repr(f.default), f.help] for f in fields], ["field", "type", "default", "help"]))


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--shallow", is_flag=True,
              help="skip importing each plugin's config and implementation (no torch import; discovery problems only)")
def doctor(shallow: bool) -> None:
    """Check the installation: plugins that fail to import or break the plugin contract, name conflicts,
    malformed cards.

    Each plugin's config class and implementation are imported and checked against the contract: misspelt
    hooks, hooks with the wrong signature, overridden helpers, a config that does not derive from its task's
    base. Exits with status 1 when it finds a problem (so CI can use it).

    \b
    Examples:
      ganzoo doctor                                the full check (imports torch and every plugin)
      ganzoo doctor --shallow                      discovery only: import errors, conflicts, malformed cards
    """
    from ..doctor import run_checks

    ok = run_checks(click.echo, deep=not shallow)
    if not ok:
        sys.exit(1)


@click.command("new-plugin", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=None,
              show_default="./ganzoo-NAME", help="where to create the package")
@click.option("--task", type=click.Choice(["unconditional", "class-conditional", "paired-translation"]),
              default="unconditional", show_default=True, help="the template to start from")
def new_plugin(name: str, directory: Path | None, task: str) -> None:
    """Scaffold a third-party plugin package that installs and passes ganzoo.testing.check_plugin.

    \b
    Examples:
      ganzoo new-plugin mygan                                  ./ganzoo-mygan, an unconditional GAN
      ganzoo new-plugin mypix --task paired-translation --dir src/mypix
      pip install -e ganzoo-mygan && python -m pytest ganzoo-mygan/tests
    """
    from ..scaffold import scaffold_plugin

    path = scaffold_plugin(name, directory or Path(f"ganzoo-{name.replace('_', '-')}"), task=task)
    click.echo(f"Created {path}\n  pip install -e {path}\n  python -m pytest {path}/tests")
