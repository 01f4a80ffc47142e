"""Model cards: structured metadata first, markdown second.

A card is a Hub ``README.md``: YAML front matter + prose. ganzoo's metadata lives in the standard keys
(``library_name: ganzoo``, ``license``, ``datasets``, ``tags``, ``model-index``) plus a ``ganzoo:`` block
(DESIGN.md §4)::

    ganzoo:
      plugin: dcgan                      # the plugin that builds the networks
      tag: digits                        # the model id is <plugin>-<tag>
      repo_id: ganzoo/dcgan-digits       # where the weights are published (null: not yet)
      revision: 3f2a…(40 hex)            # the pinned commit (null: not yet pinned)
      sha256: {G.safetensors: …}         # a mirror of config.json's hashes, shown on the Hub page
      parameters: {total: 1234, inference: 1000}
      weights_license: apache-2.0
      dataset: {name: …, license: …, source: …}
      trained_with: {command: …, steps: …, wall_time_s: …, hardware: …}   # or converted_from: {…}
      metrics: [{name: kid, value: 0.01, protocol: {extractor: …, reference: …, n_generated: …, seed: …}}]

Two readers share one validator (:func:`validate_metadata`): :func:`read_card_info` parses the front
matter with PyYAML only (``ganzoo list`` must stay light: ``huggingface_hub.repocard`` costs ~0.2 s of
imports), and :class:`GanCardData` / :func:`load_card` use ``huggingface_hub.ModelCard`` for everything
else (rendering, saving, pushing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .errors import CardError
from .plugin import PLUGIN_NAME_RE, TAG_RE

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import ModelCard

__all__ = [
    "CardInfo",
    "read_card_info",
    "validate_metadata",
    "split_front_matter",
    "GanCardData",
    "load_card",
    "make_card",
    "update_card",
    "METRIC_PROTOCOL_KEYS",
]

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
_REPO_ID_RE = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")
# Same pattern huggingface_hub.repocard uses to find the YAML block.
_FRONT_MATTER_RE = re.compile(r"^(\s*---[\r\n]+)([\S\s]*?)([\r\n]+---(\r\n|\n|$))")

#: What a metric's protocol must record so that ``ganzoo eval`` can reproduce the number.
METRIC_PROTOCOL_KEYS = ("extractor", "reference", "n_generated", "seed")


@dataclass(frozen=True)
class CardInfo:
    """The validated metadata of a card (what listing and loading need)."""

    plugin: str
    tag: str
    repo_id: str | None
    revision: str | None
    sha256: Mapping[str, str]
    license: str | None
    weights_license: str | None
    dataset: str | None  # a display name for the training data
    parameters: int | None  # total parameters of the published components
    summary: str | None
    metrics: tuple[Mapping[str, Any], ...]
    metadata: Mapping[str, Any] = field(repr=False)  # the whole front matter

    @property
    def id(self) -> str:
        return f"{self.plugin}-{self.tag}"


def split_front_matter(text: str) -> tuple[str | None, str]:
    """Return ``(yaml_text, body)``; ``yaml_text`` is None when the card has no front matter."""
    match = _FRONT_MATTER_RE.search(text)
    if not match:
        return None, text
    return match.group(2), text[match.end():]


def _parse_yaml(text: str, path: str) -> dict[str, Any]:
    import yaml

    yaml_text, _ = split_front_matter(text)
    if yaml_text is None:
        raise CardError(path, None, "no YAML front matter (a block between '---' lines at the top)")
    try:
        data = yaml.safe_load(yaml_text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise CardError(path, None, f"front matter is not valid YAML{where}") from err
    if not isinstance(data, dict):
        raise CardError(path, None, "front matter must be a YAML mapping")
    return data


def validate_metadata(meta: Mapping[str, Any], *, path: str = "<card>") -> CardInfo:
    """Check a card's front matter (as a dict) and return its :class:`CardInfo`.

    Raises:
        CardError: naming ``path`` and the offending field.
    """
    def fail(fld: str, msg: str) -> None:
        raise CardError(path, fld, msg)

    if meta.get("library_name") != "ganzoo":
        fail("library_name", f"must be 'ganzoo', got {meta.get('library_name')!r}")
    block = meta.get("ganzoo")
    if not isinstance(block, dict):
        fail("ganzoo", "missing or not a mapping")
    assert isinstance(block, dict)
    plugin, tag = block.get("plugin"), block.get("tag")
    if not isinstance(plugin, str) or not PLUGIN_NAME_RE.match(plugin):
        fail("ganzoo.plugin", f"must be a plugin id ([a-z][a-z0-9_]*), got {plugin!r}")
    if not isinstance(tag, str) or not TAG_RE.match(tag):
        fail("ganzoo.tag", f"must match {TAG_RE.pattern}, got {tag!r}")
    repo_id, revision = block.get("repo_id"), block.get("revision")
    if repo_id is not None and (not isinstance(repo_id, str) or not _REPO_ID_RE.match(repo_id)):
        fail("ganzoo.repo_id", f"must be '<org>/<repo>' or null, got {repo_id!r}")
    if revision is not None:
        if not isinstance(revision, str) or not _COMMIT_RE.match(revision):
            fail("ganzoo.revision", f"must pin a 40-hex commit sha (or be null), got {revision!r}")
        if repo_id is None:
            fail("ganzoo.revision", "a pinned revision needs ganzoo.repo_id")
    sha = block.get("sha256") or {}
    if not isinstance(sha, dict):
        fail("ganzoo.sha256", "must map file names to sha256 hex digests")
    for fname, digest in sha.items():
        if not isinstance(fname, str) or not fname.endswith((".safetensors", ".json")):
            fail("ganzoo.sha256", f"{fname!r} is not a .safetensors or .json file name")
        if not isinstance(digest, str) or not _SHA256_RE.match(digest):
            fail(f"ganzoo.sha256.{fname}", f"must be 64 lowercase hex characters, got {digest!r}")
    params = block.get("parameters")
    total: int | None = None
    if params is not None:
        if isinstance(params, dict):
            total = params.get("total")
        else:
            total = params
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            fail("ganzoo.parameters", f"must be a count or {{total: count, …}}, got {params!r}")
    for key in ("license", "weights_license", "dataset_license"):
        val = meta.get(key) if key == "license" else block.get(key, meta.get(key))
        if val is not None and not isinstance(val, str):
            fail(key, f"must be a licence id string, got {val!r}")
    metrics = block.get("metrics") or []
    if not isinstance(metrics, list):
        fail("ganzoo.metrics", "must be a list")
    for i, m in enumerate(metrics):
        where = f"ganzoo.metrics[{i}]"
        if not isinstance(m, dict) or not isinstance(m.get("name"), str):
            fail(where, "each metric needs a name")
        if not isinstance(m.get("value"), (int, float)) or isinstance(m.get("value"), bool):
            fail(f"{where}.value", f"must be a number, got {m.get('value')!r}")
        proto = m.get("protocol")
        if not isinstance(proto, dict):
            fail(f"{where}.protocol", "every number needs its protocol (extractor, reference, n_generated, seed)")
        missing = [k for k in METRIC_PROTOCOL_KEYS if k not in proto]
        if missing:
            fail(f"{where}.protocol", f"missing {', '.join(missing)}")
    for key in ("trained_with", "converted_from"):
        if key in block and not isinstance(block[key], dict):
            fail(f"ganzoo.{key}", "must be a mapping")
    if block.get("source") is not None:  # where the original weights live (ganzoo.sources)
        from .sources import parse_source

        parse_source(block["source"], plugin=plugin, model_id=f"{plugin}-{tag}", path=path)  # type: ignore[arg-type]
    dataset = block.get("dataset")
    if isinstance(dataset, dict):
        dataset_name = dataset.get("name")
    elif isinstance(dataset, str) or dataset is None:
        dataset_name = dataset
    else:
        fail("ganzoo.dataset", "must be a name or a mapping with a name")
    ds = meta.get("datasets")  # the short dataset id, when the card has one, reads best in listings
    short = ds[0] if isinstance(ds, list) and ds else ds if isinstance(ds, str) else None
    dataset_name = short if short is not None else dataset_name
    summary = block.get("summary")
    return CardInfo(
        plugin=plugin,  # type: ignore[arg-type]
        tag=tag,  # type: ignore[arg-type]
        repo_id=repo_id,
        revision=revision,
        sha256=dict(sha),
        license=meta.get("license"),
        weights_license=block.get("weights_license", meta.get("weights_license")),
        dataset=str(dataset_name) if dataset_name is not None else None,
        parameters=total,
        summary=summary if isinstance(summary, str) else None,
        metrics=tuple(metrics),
        metadata=dict(meta),
    )


def plain(value: Any) -> Any:
    """Plain YAML-safe data: str subclasses to str, tuples to lists, numpy/torch scalars to numbers."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return plain(value.item())
    return str(value)


def read_card_info(text: str, *, path: str = "<card>") -> CardInfo:
    """Parse and validate a card's front matter with PyYAML only (no huggingface_hub import)."""
    return validate_metadata(_parse_yaml(text, path), path=path)


# ---------------------------------------------------------------------------------------------------------
# full cards (huggingface_hub)

_TEMPLATE = Path(__file__).parent / "templates" / "modelcard.md"


def _card_classes() -> tuple[type, type]:
    from huggingface_hub import ModelCard, ModelCardData

    class GanCardData(ModelCardData):  # noqa: D401 - see module-level alias below
        """ModelCardData with the ganzoo block, validated at construction (strict by default)."""

        def __init__(self, *, ganzoo: dict[str, Any] | None = None, ignore_metadata_errors: bool = False,
                     **kwargs: Any) -> None:
            kwargs.setdefault("library_name", "ganzoo")
            super().__init__(ganzoo=ganzoo or {}, ignore_metadata_errors=ignore_metadata_errors, **kwargs)
            if not ignore_metadata_errors:
                validate_metadata(self.to_dict(), path="<card data>")

    class GanCard(ModelCard):
        """A ganzoo model card: :class:`GanCardData` + the ganzoo template."""

        card_data_class = GanCardData
        default_template_path = _TEMPLATE

    return GanCardData, GanCard


def GanCardData(**kwargs: Any) -> Any:  # noqa: N802 - a factory that reads like the class it builds
    """Build card metadata (``huggingface_hub.ModelCardData`` + the validated ``ganzoo`` block)."""
    return _card_classes()[0](**kwargs)


def load_card(path_or_text: str | Path, *, path: str | None = None) -> "ModelCard":
    """Load a card from a README.md path (or its text) and validate it.

    Raises:
        CardError: the card is malformed (file and field named).
    """
    _, card_cls = _card_classes()
    if isinstance(path_or_text, Path) or (isinstance(path_or_text, str) and "\n" not in path_or_text
                                         and Path(path_or_text).is_file()):
        p = Path(path_or_text)
        text, where = p.read_text(encoding="utf-8"), path or str(p)
    else:
        text, where = str(path_or_text), path or "<card>"
    meta = _parse_yaml(text, where)
    validate_metadata(meta, path=where)
    return card_cls(text, ignore_metadata_errors=True)


def make_card(
    *,
    plugin: Any,
    tag: str,
    ganzoo: dict[str, Any],
    license: str | None = None,
    datasets: list[str] | None = None,
    tags: list[str] | None = None,
    eval_results: list[Any] | None = None,
    **template_kwargs: Any,
) -> "ModelCard":
    """Render a new card from the ganzoo template.

    Args:
        plugin: the :class:`ganzoo.Plugin` spec (name, task, paper, summary are used).
        tag (`str`): the model's tag.
        ganzoo (`dict`): the ganzoo block (plugin and tag are filled in).
        license, datasets, tags, eval_results: standard card metadata.
        **template_kwargs: extra variables for the template (``description``, ``usage`` …).
    """
    data_cls, card_cls = _card_classes()
    block = plain({"plugin": plugin.name, "tag": tag, **ganzoo})
    std_tags = ["ganzoo", "gan", plugin.name, plugin.task]
    data = data_cls(
        license=license,
        datasets=datasets,
        tags=list(dict.fromkeys(std_tags + list(tags or []))),
        eval_results=eval_results,
        model_name=f"{plugin.name}-{tag}" if eval_results else None,
        ganzoo=block,
    )
    from .tasks import TASKS

    name = template_kwargs.get("load_name") or f"{plugin.name}-{tag}"
    defaults = TASKS[plugin.task].usage(name)
    if defaults is not None:
        template_kwargs.setdefault("cli_usage", defaults[0])
        template_kwargs.setdefault("usage", defaults[1])
    return card_cls.from_template(
        data,
        template_path=str(_TEMPLATE),
        model_id=f"{plugin.name}-{tag}",
        plugin=plugin,
        block=block,
        **template_kwargs,
    )


_FILES_HEADING = "## Files"


def _files_section(sha256: Mapping[str, str]) -> str:
    lines = [_FILES_HEADING, "",
             "`config.json` lists every component file with its sha256 and size; ganzoo verifies them before use.",
             "Weights are safetensors only; nothing in this repository is executed."]
    if sha256:
        lines += ["", "| file | sha256 |", "|---|---|"] + [f"| {n} | `{d}` |" for n, d in sha256.items()]
    return "\n".join(lines) + "\n"


def update_card(card: "ModelCard", **ganzoo_updates: Any) -> "ModelCard":
    """Update keys of a card's ganzoo block in place (keeps the prose and other metadata); returns the card.

    When the hashes change, the "## Files" section of a card rendered from the ganzoo template is rewritten too,
    so the prose never shows other hashes than the metadata.
    """
    block = dict(getattr(card.data, "ganzoo", None) or {})
    block.update(plain(ganzoo_updates))
    card.data.ganzoo = block
    validate_metadata(card.data.to_dict(), path="<card>")
    if "sha256" in ganzoo_updates and _FILES_HEADING in card.text:
        head = card.text[:card.text.rindex(_FILES_HEADING)]
        card.text = head + _files_section(block.get("sha256") or {})
    return card
