"""Downloads from the Hugging Face Hub: model folders into the Hugging Face cache, safely and in bounded time.

All Hub I/O goes through ``huggingface_hub`` (``hf_hub_download``), at a pinned or branch/tag revision, with
``library_name="ganzoo"``; ``HF_HUB_OFFLINE`` is honoured, and a cached pinned commit makes no request at all.
Around the client, for every request ganzoo makes (a hook on the client's HTTP session, active only inside
ganzoo's own calls):

* **what the server says is checked before it becomes a path.** The client names cache files after the
  ``X-Repo-Commit`` and ``ETag`` headers; a broken or hostile endpoint (a mirror set in ``HF_ENDPOINT``) could
  answer ``../../x``. Only a 40-hex commit and a 40/64-hex ETag are accepted, revisions given by users must be
  branch, tag or commit names (:func:`ganzoo.names.check_revision`), and ``config.json`` lists plain file names;
* **a Hub that does not answer is given up on in bounded time.** Left alone, the client retries a hung
  endpoint for ~6.5 minutes whatever ``HF_HUB_ETAG_TIMEOUT`` says. Here, once no useful answer has come for
  ``GANZOO_HUB_TIMEOUT`` seconds (default: 3 × ``HF_HUB_ETAG_TIMEOUT``, i.e. 30 s), requests are cut short and
  no new one starts: a one-line :class:`~ganzoo.errors.HubUnreachableError` names the endpoint and the variable.
  A download that keeps receiving data is never cut.

Pushing and pinning cards are in :mod:`ganzoo.publish`.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from . import __version__
from .errors import (
    GanzooError,
    HubError,
    HubUnreachableError,
    ModelFolderError,
    RepoNotFoundError,
    RevisionNotFoundError,
    UsageError,
    WeightsUnavailableError,
)
from .folder import CARD_NAME, CONFIG_NAME, read_config_json
from .loading import LoadPlan, plan_load

__all__ = ["hub_timeout", "hub_guard", "hub_errors", "endpoint", "fetch_model", "download_model", "cached_snapshot"]

_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
_ETAG_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_REPO_ID_RE = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")


def endpoint() -> str:
    """The Hub endpoint the client talks to (``HF_ENDPOINT`` or huggingface.co)."""
    from huggingface_hub import constants

    return os.environ.get("HF_ENDPOINT") or constants.ENDPOINT


def _cache_dir() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


# ---------------------------------------------------------------------------------------------------------
# the guard: bounded waits and safe headers, on the client's own HTTP session


def hub_timeout() -> float:
    """Seconds without a useful answer from the Hub before ganzoo gives up (``GANZOO_HUB_TIMEOUT``).

    Raises:
        UsageError: ``GANZOO_HUB_TIMEOUT`` is not a positive number.
    """
    raw = os.environ.get("GANZOO_HUB_TIMEOUT", "").strip()
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not value > 0:
            raise UsageError(f"GANZOO_HUB_TIMEOUT must be a positive number of seconds, got {raw!r}")
        return value
    from huggingface_hub import constants

    return 3.0 * float(constants.HF_HUB_ETAG_TIMEOUT)


@dataclass
class _Guard:
    action: str
    endpoint: str
    bound: float
    stalled_since: float | None = None  # when the current wait for a useful answer began


_ACTIVE: ContextVar[_Guard | None] = ContextVar("ganzoo_hub_guard", default=None)


def _no_answer(guard: _Guard) -> HubUnreachableError:
    return HubUnreachableError(
        f"Cannot {guard.action}: the Hub ({guard.endpoint}) has not answered for {guard.bound:g} s; check the "
        f"connection and HF_ENDPOINT, or raise GANZOO_HUB_TIMEOUT (seconds) to wait longer")


def _on_request(request: Any) -> None:
    guard = _ACTIVE.get()
    if guard is None:
        return
    now = time.monotonic()
    if guard.stalled_since is None:
        guard.stalled_since = now
    remaining = guard.stalled_since + guard.bound - now
    if remaining <= 0:
        raise _no_answer(guard)
    timeout = dict(request.extensions.get("timeout") or {})
    request.extensions["timeout"] = {k: remaining if timeout.get(k) is None else min(timeout[k], remaining)
                                     for k in ("connect", "read", "write", "pool")}


def _on_response(response: Any) -> None:
    guard = _ACTIVE.get()
    if guard is None:
        return
    commit = response.headers.get("X-Repo-Commit")
    if commit is not None and not _COMMIT_RE.fullmatch(commit):
        raise HubError(f"Cannot {guard.action}: the Hub ({guard.endpoint}) answered the commit {commit[:80]!r}, "
                       f"not a 40-hex sha; refusing it (a broken or hostile endpoint? check HF_ENDPOINT)")
    if "/resolve/" in response.url.path and response.status_code < 400:
        etag = response.headers.get("X-Linked-Etag") or response.headers.get("ETag")
        if etag is not None and not _ETAG_RE.fullmatch(etag.lstrip("W/").strip('"')):  # the client's normalisation
            raise HubError(f"Cannot {guard.action}: the Hub ({guard.endpoint}) answered the ETag {etag[:80]!r}, "
                           f"not a sha1 or sha256; refusing it (a broken or hostile endpoint? check HF_ENDPOINT)")
    if response.status_code < 500:
        guard.stalled_since = None


@contextlib.contextmanager
def hub_guard(action: str) -> Iterator[None]:
    """Check and bound every request ganzoo's code makes through huggingface_hub inside this block.

    Args:
        action (`str`): what is being done, for the error message (``"download hf-hub:org/repo@main"``).

    Raises:
        HubUnreachableError: no useful answer for :func:`hub_timeout` seconds.
        HubError: the server answered a commit or ETag that is not a hash.
    """
    from huggingface_hub.utils import get_session

    bound = hub_timeout()
    client = get_session()
    hooks = client.event_hooks
    if _on_request not in hooks["request"]:
        client.event_hooks = {"request": [*hooks["request"], _on_request],
                              "response": [*hooks["response"], _on_response]}
    token = _ACTIVE.set(_Guard(action, endpoint(), bound))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


@contextlib.contextmanager
def hub_errors(repo_id: str, revision: str | None, *, action: str, cached_hint: bool = True) -> Iterator[None]:
    """Translate huggingface_hub / transport errors into one-line ganzoo errors."""
    from huggingface_hub import errors as hf

    rev = revision or "main"
    try:
        yield
    except GanzooError:
        raise
    except hf.RepositoryNotFoundError as err:
        raise RepoNotFoundError(f"Hub repo '{repo_id}' was not found at {endpoint()} (or it is private: "
                                f"set HF_TOKEN); check the name") from err
    except hf.RevisionNotFoundError as err:
        raise RevisionNotFoundError(f"Hub repo '{repo_id}' has no revision '{rev}'; use a branch, tag or commit "
                                    f"that exists (or drop @revision for main)") from err
    except hf.RemoteEntryNotFoundError as err:
        response = getattr(err, "response", None)
        missing = response.url.path.rsplit("/", 1)[-1] if response is not None else "a file"
        raise ModelFolderError(f"hf-hub:{repo_id}@{rev} is not a ganzoo model: {missing} is missing from the "
                               f"repo") from err
    except (hf.LocalEntryNotFoundError, hf.OfflineModeIsEnabled) as err:
        why = "HF_HUB_OFFLINE is set" if _offline() else f"the Hub ({endpoint()}) cannot be reached"
        if cached_hint:
            raise WeightsUnavailableError(
                f"Cannot {action}: {why} and {repo_id}@{rev} is not in the cache ({_cache_dir()}); connect to the "
                f"Hub, or run `ganzoo pull` where it is reachable and copy the cache") from err
        raise HubUnreachableError(f"Cannot {action}: {why}") from err
    except hf.HfHubHTTPError as err:
        status = err.response.status_code if getattr(err, "response", None) is not None else "?"
        raise HubError(f"Cannot {action}: the Hub answered HTTP {status} for {repo_id}@{rev}") from err
    except hf.HTTPError as err:  # transport errors (connection refused, DNS, timeouts)
        guard = _ACTIVE.get()
        if guard is not None and "Timeout" in type(err).__name__:
            raise _no_answer(guard) from err
        raise HubUnreachableError(f"Cannot {action}: the Hub ({endpoint()}) cannot be reached "
                                  f"({type(err).__name__}); check the connection or HF_ENDPOINT") from err
    except RuntimeError as err:  # the client wraps errors of its upload threads
        if isinstance(err.__cause__, GanzooError):
            raise err.__cause__ from None
        raise


# ---------------------------------------------------------------------------------------------------------
# downloads


def _download(repo_id: str, filename: str, revision: str, *, optional: bool = False) -> Path | None:
    from huggingface_hub import errors as hf
    from huggingface_hub import hf_hub_download

    try:
        path = Path(hf_hub_download(repo_id, filename, revision=revision, library_name="ganzoo",
                                    library_version=__version__, endpoint=endpoint()))
    except hf.EntryNotFoundError:
        if optional:
            return None
        raise
    # defence in depth: whatever the client and server did, the file must sit in a snapshot of the cache
    cache = os.path.abspath(_cache_dir())
    snapshot = path.parent
    if not _COMMIT_RE.fullmatch(snapshot.name) or os.path.commonpath([cache, os.path.abspath(path)]) != cache:
        raise HubError(f"hf-hub:{repo_id}: the client returned {path}, outside a snapshot of the cache ({cache}); "
                       f"refusing it")
    return path


def fetch_model(repo_id: str, revision: str | None = None, *, components: Iterable[str] | str | None = None,
                ema: bool = True, with_card: bool = True, options: dict[str, Any] | None = None,
                plan: bool = True) -> tuple[Path, LoadPlan | None]:
    """Fetch ``config.json``, plan the load, then fetch the files the plan reads; return the snapshot and plan.

    Every file is fetched at one commit, the one ``config.json`` resolved to, so a push between two downloads
    cannot mix revisions. Nothing is fetched twice: a cached pinned commit makes no request.

    Args:
        repo_id: ``org/name``.
        revision: a branch, tag or commit (default ``main``).
        components / ema / options: what the load needs (see :func:`ganzoo.loading.plan_load`).
        with_card: also fetch README.md (when the repo has one).
        plan: make a load plan (needs the plugin installed). ``False``: fetch ``components`` as listed, or every
            file config.json lists for ``"all"`` (``ganzoo pull``), without the plugin.

    Returns:
        `tuple[Path, LoadPlan | None]`: the cached snapshot folder, and the plan (None when not asked for).

    Raises:
        UsageError: a revision that is not a branch, tag or commit name.
        RepoNotFoundError / RevisionNotFoundError / ModelFolderError: as the Hub answers.
        WeightsUnavailableError / HubUnreachableError / HubError: offline, unreachable, hung or misbehaving Hub.
    """
    from .names import check_revision

    if not _REPO_ID_RE.fullmatch(repo_id):
        raise UsageError(f"'{repo_id}' is not a Hub repo id: write <org>/<name>")
    rev = check_revision(revision) or "main"
    action = f"download hf-hub:{repo_id}@{rev}"
    with hub_guard(action), hub_errors(repo_id, revision, action=action):
        config_path = _download(repo_id, CONFIG_NAME, rev)
        assert config_path is not None
        snapshot = config_path.parent
        commit = snapshot.name
        where = f"hf-hub:{repo_id}@{commit[:12]}"
        data = read_config_json(snapshot, where=where)
        load_plan = None
        if plan:
            load_plan = plan_load(data, components=components, ema=ema, options=options, where=where)
            files = load_plan.file_components
        else:  # "all", or an explicit list (an empty one: config.json and the card only)
            files = sorted(data["components"]) if components == "all" else list(components or [])
            missing = [c for c in files if c not in data["components"]]
            if missing:
                raise ModelFolderError(f"{where} has no weights for {missing} (it has {', '.join(data['components'])})")
        for comp in files:
            _download(repo_id, data["components"][comp]["file"], commit)
        if with_card:
            _download(repo_id, CARD_NAME, commit, optional=True)
    return snapshot, load_plan


def download_model(repo_id: str, revision: str | None = None, *, components: Iterable[str] | str | None = None,
                   ema: bool = True, with_card: bool = True, options: dict[str, Any] | None = None) -> Path:
    """Fetch a model folder from the Hub into the HF cache; return the snapshot folder (see :func:`fetch_model`).

    ``components="all"`` fetches every file config.json lists and ``[]`` none (config.json and the card only),
    without needing the plugin; otherwise what a load with these arguments reads.

    Example:
        ```python
        >>> download_model("my-org/my-dcgan", "v1.0")
        PosixPath('…/models--my-org--my-dcgan/snapshots/3f2a…')
        ```
    """
    if components is not None and not isinstance(components, str):
        components = list(components)
    plan = components is None or (components != "all" and bool(components))
    return fetch_model(repo_id, revision, components=components, ema=ema, with_card=with_card, options=options,
                       plan=plan)[0]


def cached_snapshot(repo_id: str, revision: str) -> Path | None:
    """The cached snapshot folder of ``repo_id`` at a commit sha if its config.json is cached (no network)."""
    from huggingface_hub import constants

    if not _REPO_ID_RE.fullmatch(repo_id) or not _COMMIT_RE.fullmatch(revision):
        return None
    p = Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}" / "snapshots" / revision
    return p if (p / CONFIG_NAME).exists() else None
