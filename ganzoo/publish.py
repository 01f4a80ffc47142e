"""Publishing model folders: push to a Hub repo, and pin a pushed commit in a registry card.

The maintainer procedure is convert or train → :func:`push_folder` → :func:`write_pinned_card`. A published card
names the model the way its readers load it (``hf-hub:<repo>``, or the registry id for a pinned card) and holds no
path of the machine it was made on: a local folder name in its "Use" section and absolute paths in its training
record are rewritten (:func:`public_card`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import ModelFolderError, UsageError
from .files import atomic_write, make_output_dir, sha256_file
from .folder import CARD_NAME, CONFIG_NAME, component_paths, read_config_json
from .hubio import endpoint, hub_errors, hub_guard

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import ModelCard

__all__ = ["PushResult", "push_folder", "write_pinned_card", "public_card"]

_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
_REPO_ID_RE = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")
# an absolute path in a recorded command or value: /x/y, ~/x, C:\x (stops at whitespace and quotes)
_ABS_PATH_RE = re.compile(r"(?<![\w.:/~-])(?:/|~/|[A-Za-z]:[\\/])[^\s'\"`|]+")
_LOAD_RE = re.compile(r"ganzoo\.load\(\s*[\"']([^\"']+)[\"']")


@dataclass(frozen=True)
class PushResult:
    """What :func:`push_folder` did.

    Attributes:
        repo_id (`str`): the repo pushed to.
        commit (`str`): the commit sha holding the upload (pin it in a card, load it with ``@<commit>``).
        url (`str`): the commit's URL.
        files (`tuple[str, ...]`): the paths uploaded.
    """

    repo_id: str
    commit: str
    url: str
    files: tuple[str, ...]


def _scrub(value: Any, mapping: dict[str, str]) -> Any:
    """Replace absolute paths in strings (recursively) by their last part; record each replacement."""
    if isinstance(value, str):
        def short(m: re.Match[str]) -> str:
            path = m.group(0)
            name = Path(path.rstrip("/\\").replace("\\", "/")).name or "."
            mapping[path] = name
            return name

        return _ABS_PATH_RE.sub(short, value)
    if isinstance(value, dict):
        return {k: _scrub(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, mapping) for v in value]
    return value


def _section(text: str, heading: str) -> tuple[int, int] | None:
    start = text.find(f"\n{heading}\n")
    if start < 0:
        return None
    end = text.find("\n## ", start + len(heading) + 2)
    return start, (len(text) if end < 0 else end)


def public_card(card: "ModelCard", *, name: str, repo_id: str | None = None, revision: str | None = None,
                sha256: dict[str, str] | None = None) -> "ModelCard":
    """Make a card fit to publish, in place: readers load it as ``name``; no local path is left in it.

    * the "Use" section loads ``name`` (``hf-hub:<repo>`` or a registry id) instead of a local folder;
    * absolute paths in the ``trained_with`` record (the training command: ``--data``, ``--out``) and in the
      prose are shortened to their last part;
    * ``ganzoo.repo_id`` is set; ``ganzoo.revision`` is set, or dropped when ``revision`` is None (a pushed card
      cannot know the commit that will hold it); ``ganzoo.sha256`` is set when given.

    Returns:
        `ModelCard`: the same card.
    """
    from .cards import plain, update_card

    block = dict(getattr(card.data, "ganzoo", None) or {})
    mapping: dict[str, str] = {}
    for key in ("trained_with", "converted_from"):
        if key in block:
            block[key] = _scrub(plain(block[key]), mapping)
    block.pop("revision", None)
    if repo_id is not None:
        block["repo_id"] = repo_id
    if revision is not None:
        block["revision"] = revision
    card.data.ganzoo = block
    text = card.text
    span = _section(text, "## Use")
    if span is not None:
        use = text[span[0]:span[1]]
        old = _LOAD_RE.search(use)
        if old is not None and old.group(1) != name:  # the name as a whole word: in load("…") and CLI lines
            use = re.sub(r"(?<=[\"'\s])" + re.escape(old.group(1)) + r"(?=[\"'\s])", lambda _: name, use)
        text = text[:span[0]] + use + text[span[1]:]
    for path in sorted(mapping, key=len, reverse=True):  # the same paths where the prose shows the record
        text = text.replace(path, mapping[path])
    card.text = text
    return update_card(card, **({"sha256": sha256} if sha256 is not None else {}))


def push_folder(folder: str | os.PathLike[str], repo_id: str, *, private: bool = False,
                commit_message: str | None = None, token: str | None = None) -> PushResult:
    """Upload a model folder to a Hub repo (created if needed) and return the commit.

    Uploads README.md, config.json and the component files config.json lists, after verifying every hash.
    ``checkpoints/`` and any other file stay local. The uploaded card is made public (:func:`public_card`):
    it loads ``hf-hub:<repo_id>``, names the repo, and holds no local path.

    Args:
        folder: the model folder.
        repo_id: ``<org>/<name>``.
        private: create the repo private.
        commit_message: the commit title (default: "Upload <plugin> model with ganzoo <version>").
        token: a Hub token (default: the client's).

    Returns:
        `PushResult`

    Raises:
        UsageError: ``repo_id`` is not ``<org>/<name>``.
        ModelFolderError / IntegrityError: the folder is not a valid model folder (nothing is uploaded).
        HubUnreachableError / HubError: the Hub refused, could not be reached, or stopped answering.

    Example:
        ```python
        >>> push_folder("runs/mine", "my-org/my-dcgan").commit
        '3f2a…'
        ```
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    from .cards import load_card

    folder = Path(folder)
    if not _REPO_ID_RE.fullmatch(repo_id):
        raise UsageError(f"'{repo_id}' is not a Hub repo id: write <org>/<name>")
    if not folder.is_dir():
        raise ModelFolderError(f"No such model folder: {folder}")
    data = read_config_json(folder)
    paths = component_paths(folder, data)
    if not (folder / CARD_NAME).is_file():
        raise ModelFolderError(f"{folder} has no {CARD_NAME}: save the model with save_pretrained() to write its card")
    card = public_card(load_card(folder / CARD_NAME), name=f"hf-hub:{repo_id}", repo_id=repo_id,
                       sha256={e["file"]: e["sha256"] for e in data["components"].values()})
    ops = [CommitOperationAdd(CONFIG_NAME, str(folder / CONFIG_NAME))]
    ops += [CommitOperationAdd(data["components"][c]["file"], str(p)) for c, p in paths.items()]
    ops.append(CommitOperationAdd(CARD_NAME, str(card).encode("utf-8")))
    api = HfApi(endpoint=endpoint(), token=token, library_name="ganzoo", library_version=__version__)
    action = f"push to {repo_id}"
    with hub_guard(action), hub_errors(repo_id, None, action=action, cached_hint=False):
        api.create_repo(repo_id, private=private, exist_ok=True)
        message = commit_message or f"Upload {data['plugin']} model with ganzoo {__version__}"
        info = api.create_commit(repo_id, operations=ops, commit_message=message)
    return PushResult(repo_id, info.oid, info.commit_url, tuple(op.path_in_repo for op in ops))


def write_pinned_card(folder: str | os.PathLike[str], card_dir: str | os.PathLike[str], *, repo_id: str,
                      revision: str) -> Path:
    """Write a registry card (``cards/<plugin>-<tag>/README.md``) that pins a pushed model folder.

    The card gets ``ganzoo.repo_id``, ``ganzoo.revision`` (the commit) and the sha256 of config.json and of
    every component file, so ``ganzoo.load("<plugin>-<tag>")`` fetches exactly those bytes and refuses others;
    its "Use" section loads ``<plugin>-<tag>``. This is the last step of the maintainer procedure.

    Args:
        folder: the model folder that was pushed.
        card_dir: ``…/cards/<plugin>-<tag>`` (created with its parents).
        repo_id: the repo it was pushed to.
        revision: the commit sha :func:`push_folder` returned.

    Returns:
        `Path`: the card file.

    Raises:
        UsageError: a revision that is not a commit sha, or a card folder not named after the model id.
        ModelFolderError / IntegrityError: the folder is not a valid model folder.
    """
    from .cards import load_card

    folder, card_dir = Path(folder), Path(card_dir)
    if not _COMMIT_RE.fullmatch(revision):
        raise UsageError(f"revision must be a 40-hex commit sha, got {revision!r}")
    data = read_config_json(folder)
    component_paths(folder, data)
    card = load_card(folder / CARD_NAME)
    block = dict(getattr(card.data, "ganzoo", {}) or {})
    expected = f"{block.get('plugin')}-{block.get('tag')}"
    if card_dir.name != expected:
        raise UsageError(f"the card folder must be named after the model id: {card_dir.parent / expected} "
                         f"(not {card_dir.name})")
    sha = {CONFIG_NAME: sha256_file(folder / CONFIG_NAME)}
    sha.update({e["file"]: e["sha256"] for e in data["components"].values()})
    public_card(card, name=expected, repo_id=repo_id, revision=revision, sha256=sha)
    make_output_dir(card_dir, what="card folder")
    with atomic_write(card_dir / CARD_NAME, "w") as f:
        f.write(str(card))
    return card_dir / CARD_NAME
