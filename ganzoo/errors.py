"""One exception hierarchy for ganzoo.

Every error a user can cause derives from :class:`GanzooError` and also from the builtin that fits
(``KeyError``, ``ValueError``, ``FileNotFoundError``, ``ConnectionError`` …), so callers can catch either.
Messages are one line and say what to do next; the CLI prints ``str(error)`` and exits non-zero
(``GANZOO_DEBUG=1`` shows the traceback).

This module imports nothing heavy: the registry and the CLI use it without importing torch.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "GanzooError",
    "UnknownNameError",
    "UnknownTagError",
    "HubNameError",
    "PluginConflictError",
    "PluginLoadError",
    "PluginValidationError",
    "CardError",
    "ConfigError",
    "ModelFolderError",
    "WeightsError",
    "IntegrityError",
    "HubError",
    "HubUnreachableError",
    "WeightsUnavailableError",
    "RepoNotFoundError",
    "RevisionNotFoundError",
    "UsageError",
    "DataError",
    "TrainingError",
    "close_matches",
]


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The candidates closest to ``word`` (difflib ratio ≥ 0.5, at most ``n``), substring matches first."""
    candidates = sorted(set(candidates))
    subs = [c for c in candidates if word and (word in c or c in word)]
    fuzzy = difflib.get_close_matches(word, candidates, n=n, cutoff=0.5)
    out: list[str] = []
    for c in fuzzy + subs:
        if c not in out:
            out.append(c)
    return out[:n]


class GanzooError(Exception):
    """Base class of every error ganzoo raises on purpose.

    ``str(err)`` is a complete one-line message meant for the user.
    """

    def __str__(self) -> str:  # KeyError would otherwise repr() its message, adding quotes
        return str(self.args[0]) if self.args else self.__class__.__name__


# ---------------------------------------------------------------------------------------------------------
# NAMES AND PLUGINS


class UnknownNameError(GanzooError, KeyError):
    """Raised when a model or plugin name matches nothing installed; suggests the closest names."""

    def __init__(self, name: str, candidates: Iterable[str] = (), *, kind: str = "model or plugin") -> None:
        self.name = name
        self.suggestions = close_matches(name, candidates)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"Unknown {kind} '{name}'.{hint} Run `ganzoo list` to see what is installed.")


class UnknownTagError(UnknownNameError):
    """Raised when the plugin exists but has no pretrained model with that tag; lists the tags it has."""

    def __init__(self, plugin: str, tag: str, tags: Iterable[str]) -> None:
        self.name = f"{plugin}-{tag}"
        self.plugin, self.tag = plugin, tag
        tags = sorted(tags)
        self.suggestions = close_matches(tag, tags)
        listed = ", ".join(f"{plugin}-{t}" for t in tags) if tags else "none yet"
        GanzooError.__init__(
            self,
            f"Plugin '{plugin}' has no pretrained model tagged '{tag}'. Its pretrained models: {listed}. "
            f"Use `ganzoo.build('{plugin}')` for fresh weights.",
        )


class HubNameError(GanzooError, ValueError):
    """Raised for a bare ``org/repo`` name, which could be a Hub repo or a local path."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"'{name}' looks like a Hugging Face Hub repo id but has no source prefix: "
            f"use 'hf-hub:{name}' to load it from the Hub, or './{name}' for a local folder."
        )


class PluginConflictError(GanzooError, ValueError):
    """Raised when two installed distributions both provide one plugin name (neither wins silently)."""

    def __init__(self, name: str, distributions: Iterable[str]) -> None:
        self.name = name
        self.distributions = sorted(distributions)
        both = " and ".join(self.distributions)
        super().__init__(
            f"Plugin '{name}' is provided by {both}: uninstall one, or block one with "
            f"GANZOO_DISABLE_PLUGINS={self.distributions[-1]}."
        )


class PluginLoadError(GanzooError, ImportError):
    """Raised when a plugin's entry point or its implementation cannot be imported."""

    def __init__(self, name: str, detail: str) -> None:
        self.name = name
        self.detail = detail
        super().__init__(f"Plugin '{name}' failed to load: {detail}. Run `ganzoo doctor` for details.")


class PluginValidationError(GanzooError, ValueError):
    """Raised at discovery when a plugin spec breaks the contract; carries the offending plugin name."""

    def __init__(self, plugin: str, message: str) -> None:
        self.plugin = plugin
        super().__init__(f"Plugin '{plugin}' is invalid: {message}")


# ---------------------------------------------------------------------------------------------------------
# CARDS, CONFIGS, MODEL FOLDERS


class CardError(GanzooError, ValueError):
    """Raised when a model card is malformed; names the file and the field."""

    def __init__(self, path: str, field: str | None, message: str) -> None:
        self.path, self.field = path, field
        where = f"{path}: field '{field}'" if field else path
        super().__init__(f"Malformed model card {where}: {message}")


class ConfigError(GanzooError, ValueError):
    """Raised when a config (config.json, ``--set``, ``build(**overrides)``) does not fit the plugin's dataclass."""


class ModelFolderError(GanzooError, FileNotFoundError):
    """Raised when a model folder or one of its files is missing."""


class WeightsError(GanzooError, ValueError):
    """Raised when weights cannot be used: corrupt safetensors, wrong keys or shapes, wrong component."""


class IntegrityError(WeightsError):
    """Raised when a file's sha256 or size differs from what config.json (or the card) pins."""


# ---------------------------------------------------------------------------------------------------------
# HUB


class HubError(GanzooError, OSError):
    """Base class of Hub failures."""


class HubUnreachableError(HubError, ConnectionError):
    """Raised when the Hub cannot be reached for an operation that needs it (push, a first pull)."""


class WeightsUnavailableError(HubError, FileNotFoundError):
    """Raised when weights are neither in the local cache nor reachable (offline, or not published yet)."""


class RepoNotFoundError(HubError, FileNotFoundError):
    """Raised when the Hub says the repository does not exist (or is private)."""


class RevisionNotFoundError(HubError, FileNotFoundError):
    """Raised when the repository exists but the revision (branch, tag, commit) does not."""


# ---------------------------------------------------------------------------------------------------------
# USAGE, DATA, TRAINING


class UsageError(GanzooError, ValueError):
    """Raised for an argument out of range (``n=0``, an output path in a missing folder, …)."""


class DataError(GanzooError, ValueError):
    """Raised when a dataset folder is missing, empty, or not in a format the task reads."""


class TrainingError(GanzooError, RuntimeError):
    """Raised when training cannot continue (a non-finite loss, a resume that does not match the run)."""
