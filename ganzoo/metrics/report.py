"""What an evaluation returns and how it is written down: :class:`MetricResult`, :class:`EvalReport` (the model's
results and, beside them, the trivial baselines' measured by the same protocol), and the model card's
``ganzoo.metrics`` list, ``model-index`` and "## Evaluation" section (:func:`write_card_metrics`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError

__all__ = ["MetricResult", "BaselineResult", "EvalReport", "write_card_metrics", "eval_section"]


def _round(x: float) -> float:
    return float(f"{float(x):.6g}")


@dataclass
class MetricResult:
    """One number with its protocol.

    Attributes:
        name (`str`): ``kid``, ``fid``, ``precision``, ``recall``, ``is``, ``coverage``, ``accuracy`` …
        value (`float`).
        std (`float | None`): spread where the metric has one (KID over subsets, IS over splits).
        details (`dict`): per-class values and the like.
        protocol (`dict`): everything needed to reproduce the number (see :class:`EvalReport`); a baseline's
            results carry ``baseline`` (its name) and a ``sampling`` that says how its outputs were made.
    """

    name: str
    value: float
    std: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    protocol: dict[str, Any] = field(default_factory=dict)

    def card_entry(self) -> dict[str, Any]:
        """The entry written to a card's ``ganzoo.metrics`` list."""
        entry: dict[str, Any] = {"name": self.name, "value": _round(self.value)}
        if self.std is not None:
            entry["std"] = _round(self.std)
        if self.details:
            entry["details"] = {k: _round(v) if isinstance(v, float) else v for k, v in self.details.items()}
        entry["protocol"] = dict(self.protocol)
        return entry


@dataclass
class BaselineResult:
    """A trivial baseline's results, measured by the same protocol as the model (same inputs, reference, seed).

    Attributes:
        name (`str`): ``identity``, ``colour-transfer`` …
        description (`str`): how its outputs are made (``output = input``).
        results (`list[MetricResult]`): the same metrics as the model's.
    """

    name: str
    description: str
    results: list[MetricResult]

    def __getitem__(self, name: str) -> MetricResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no metric {name!r} for the {self.name} baseline")


@dataclass
class EvalReport:
    """What :func:`ganzoo.metrics.evaluate` returns.

    Attributes:
        model (`str`): the name the model was evaluated by.
        plugin (`str`), task (`str`).
        results (`list[MetricResult]`): the model's.
        protocol (`dict`): the protocol shared by every result (each result's own adds metric-specific keys).
            Keys: ``extractor``, ``extractor_sha256``, ``resizer``, ``resolution`` (the side real images are read
            at: the model's), ``reference`` (the data argument), ``split`` (the split used, or None for the whole
            folder), ``reference_count``, ``reference_fingerprint`` (sha256 prefix of the real pixels),
            ``n_generated``, ``seed``, ``sampling``, ``quantize``, ``ganzoo_version``, ``weights_sha256`` (the
            evaluated weight files, when the model came from a folder or the registry), ``command``.
        timings (`dict[str, float]`): seconds per stage (``load``, ``real``, ``generate``, ``metrics``,
            ``baselines``, ``total``).
        cache (`dict`): ``{"hit": bool, "path": str}`` for the real features.
        baselines (`list[BaselineResult]`): the task's trivial baselines (identity, colour transfer …), beside.
    """

    model: str
    plugin: str
    task: str
    results: list[MetricResult]
    protocol: dict[str, Any]
    timings: dict[str, float]
    cache: dict[str, Any]
    baselines: list[BaselineResult] = field(default_factory=list)

    def __getitem__(self, name: str) -> MetricResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no metric {name!r} in this report (has {', '.join(r.name for r in self.results)})")

    def value(self, name: str) -> float:
        """The model's value of metric ``name``."""
        return self[name].value

    def baseline(self, name: str) -> BaselineResult:
        """The results of baseline ``name`` (``report.baseline("identity")["psnr"].value``)."""
        for b in self.baselines:
            if b.name == name:
                return b
        raise KeyError(f"no baseline {name!r} in this report (has {', '.join(b.name for b in self.baselines)})")

    def card_metrics(self) -> list[dict[str, Any]]:
        """The model's entries for a card's ``ganzoo.metrics`` list (see :func:`ganzoo.cards.validate_metadata`)."""
        return [r.card_entry() for r in self.results]

    def baseline_card_metrics(self) -> list[dict[str, Any]]:
        """The baselines' entries for the same list (each protocol names its ``baseline``)."""
        return [r.card_entry() for b in self.baselines for r in b.results]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``--json``)."""
        def entries(results: list[MetricResult]) -> list[dict[str, Any]]:
            return [{k: v for k, v in r.card_entry().items() if k != "protocol"}
                    | {"protocol": {k: v for k, v in r.protocol.items() if self.protocol.get(k, object()) != v}}
                    for r in results]

        return {"model": self.model, "plugin": self.plugin, "task": self.task, "protocol": self.protocol,
                "metrics": entries(self.results),
                "baselines": [{"name": b.name, "description": b.description, "metrics": entries(b.results)}
                              for b in self.baselines],
                "timings": {k: round(v, 3) for k, v in self.timings.items()}, "cache": self.cache}


# ---------------------------------------------------------------------------------------------------------
# cards


_HF_TASKS = {"unconditional": "unconditional-image-generation", "reconstruction": "unconditional-image-generation",
             "class-conditional": "image-generation", "paired-translation": "image-to-image",
             "unpaired-translation": "image-to-image", "multi-domain-translation": "image-to-image",
             "speech-enhancement": "audio-to-audio", "video-prediction": "video-to-video"}


def _same_measurement(a: dict[str, Any], b: dict[str, Any]) -> bool:
    pa, pb = a.get("protocol") or {}, b.get("protocol") or {}
    return a.get("name") == b.get("name") and all(pa.get(k) == pb.get(k)
                                                  for k in ("extractor", "reference", "split", "baseline"))


def _value(m: dict[str, Any]) -> str:
    return f"{m['value']:.6g}" + (f" ± {m['std']:.2g}" if m.get("std") is not None else "")


def eval_section(metrics: list[dict[str, Any]]) -> str:
    """A card's "## Evaluation" section for its ``ganzoo.metrics`` entries: the model's numbers with their
    protocol, then (when there are baseline entries) each number beside the baselines' by the same protocol."""
    model = [m for m in metrics if not (m.get("protocol") or {}).get("baseline")]
    base = [m for m in metrics if (m.get("protocol") or {}).get("baseline")]
    lines = ["## Evaluation", "",
             "Measured with `ganzoo eval`; each number's full protocol is in the card metadata (`ganzoo.metrics`).",
             "", "| metric | value | extractor | generated vs reference | reference | seed |",
             "|---|---|---|---|---|---|"]
    commands: list[str] = []
    for m in model:
        p = m.get("protocol") or {}
        ref = f"{p.get('reference')}" + (f" ({p.get('split')})" if p.get("split") else "")
        lines.append(f"| {m['name']} | {_value(m)} | {p.get('extractor')} | {p.get('n_generated')} vs "
                     f"{p.get('reference_count')} | {ref} | {p.get('seed')} |")
        if p.get("command") and p["command"] not in commands:
            commands.append(p["command"])
    names = list(dict.fromkeys(m["protocol"]["baseline"] for m in base))
    if names:
        lines += ["", "Beside trivial baselines, measured by the same protocol (same inputs, reference, extractor "
                  "and seed):", ""]
        lines += ["| metric | model | " + " | ".join(names) + " |", "|---" * (2 + len(names)) + "|"]
        for m in model:
            cells = []
            for b in names:
                twin = next((x for x in base if x["protocol"]["baseline"] == b and _same_measurement(
                    {**x, "protocol": {**x["protocol"], "baseline": None}}, m)), None)
                cells.append(_value(twin) if twin is not None else "—")
            lines.append(f"| {m['name']} | {_value(m)} | " + " | ".join(cells) + " |")
        how = {m["protocol"]["baseline"]: m["protocol"].get("sampling") for m in base}
        lines += [""] + [f"- {b}: {how[b]}" for b in names]
    if commands:
        lines += ["", "Reproduce:", "", "```bash", *commands, "```"]
    return "\n".join(lines) + "\n"


def _with_eval_section(text: str, metrics: list[dict[str, Any]]) -> str:
    """Replace the card body's "## Evaluation" section (or insert one before "## Files", else at the end)."""
    section = eval_section(metrics)
    match = re.search(r"^## Evaluation[ \t]*$", text, flags=re.M)
    if match:
        nxt = re.search(r"^## ", text[match.end():], flags=re.M)
        end = match.end() + nxt.start() if nxt else len(text)
        return text[:match.start()] + section + ("\n" if nxt else "") + text[end:]
    files = re.search(r"^## Files[ \t]*$", text, flags=re.M)
    if files:
        return text[:files.start()] + section + "\n" + text[files.start():]
    return text.rstrip("\n") + "\n\n" + section


def write_card_metrics(folder: str | os.PathLike[str], report: EvalReport) -> Path:
    """Write a report's numbers, with their protocols, into a local model folder's card.

    The ``ganzoo.metrics`` list gets one entry per result, the model's and its baselines' (replacing an earlier
    entry for the same metric, extractor, reference, split and baseline); the standard ``model-index`` is
    regenerated from the model's entries with huggingface_hub ``EvalResult`` s, each carrying its protocol as
    ``args``; the "## Evaluation" section shows the numbers and, beside them, the baselines'. The prose is kept.

    Args:
        folder: a model folder (README.md + config.json).
        report (`EvalReport`): from :func:`ganzoo.metrics.evaluate`.

    Returns:
        `Path`: the README.md written.

    Raises:
        UsageError: ``folder`` is not a local model folder.
        CardError: its README.md is malformed.

    Example:
        ```python
        >>> write_card_metrics("runs/dcgan-digits", evaluate("runs/dcgan-digits", "data/digits"))
        ```
    """
    from huggingface_hub import EvalResult

    from ..cards import load_card, update_card
    from ..hub import CARD_NAME, CONFIG_NAME, atomic_write

    folder = Path(folder)
    card_path = folder / CARD_NAME
    if not (folder / CONFIG_NAME).is_file() or not card_path.is_file():
        raise UsageError(f"--write-card writes into a local model folder (README.md + config.json); {folder} is not "
                         "one. For a pretrained model, `ganzoo pull` it and save a copy, or drop --write-card")
    card = load_card(card_path)
    block = dict(card.data.get("ganzoo") or {})
    new = report.card_metrics() + report.baseline_card_metrics()
    merged = [m for m in (block.get("metrics") or []) if not any(_same_measurement(m, x) for x in new)]
    merged += new
    update_card(card, metrics=merged)
    block = card.data.ganzoo
    dataset = block.get("dataset")
    ds_name = dataset.get("name") if isinstance(dataset, dict) else dataset
    results = []
    for m in merged:
        proto = m["protocol"]
        if proto.get("baseline"):
            continue  # model-index lists the model's own results
        ref = str(proto.get("reference"))
        ds_type = ref.split(":", 1)[1] if ref.startswith("builtin:") else (Path(ref).name or ref)
        results.append(EvalResult(
            task_type=_HF_TASKS.get(report.task, "image-generation"), dataset_type=ds_type,
            dataset_name=str(ds_name or ds_type), dataset_split=proto.get("split"), metric_type=m["name"],
            metric_value=m["value"], metric_name=f"{m['name']} ({proto.get('extractor')}, {proto.get('n_generated')} "
                                                 f"vs {proto.get('reference_count')})",
            metric_config=proto.get("extractor"), metric_args=dict(proto)))
    card.data.eval_results = results
    card.data.model_name = card.data.get("model_name") or f"{block['plugin']}-{block['tag']}"
    card.text = _with_eval_section(card.text, merged)
    with atomic_write(card_path, "w") as f:
        f.write(str(card))
    load_card(card_path)  # what was written parses and validates
    return card_path
