"""A small, self-contained Hugging Face Hub-compatible HTTP server for offline tests.

`LocalHub` speaks enough of the Hub protocol for the real ``huggingface_hub`` client (2.x) to create repos,
push files (regular or LFS), download them (``hf_hub_download``, ``snapshot_download``), list files, refs and
commits, and manage branches and tags. Everything is stored on disk under one root folder: content-addressed blobs,
one JSON file per repo (branches, tags, pull-request refs) and one JSON file per commit (a full tree snapshot).

Typical use in a test suite::

    from huggingface_hub import HfApi, hf_hub_download
    from ganzoo.testing.hub_server import LocalHub, configure_client

    with LocalHub(tmp_path / "hub") as hub:
        configure_client(hub.url)            # huggingface_hub was imported before: point it at the server
        api = HfApi(endpoint=hub.url)
        api.create_repo("me/tiny")
        api.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id="me/tiny")
        hf_hub_download("me/tiny", "config.json")

Best practice is to set ``HF_ENDPOINT`` to the server URL *before* ``huggingface_hub`` is imported (for instance
at the top of ``conftest.py``, with a port from `reserve_port`), because the client freezes its endpoint at import.
`configure_client` patches an already-imported client instead.

Limitations (by design): no authentication or access control (tokens are accepted and ignored), no Xet storage
(the client must run with ``HF_HUB_DISABLE_XET=1`` when `LocalHub.upload_mode` is ``"lfs"``), no discussions API
(``create_commit(create_pr=True)`` works, ``upload_folder(create_pr=True)`` with hf_xet installed does not), no
pagination (every listing is returned in one page), and one writer process per root folder at a time.

This module only uses the standard library (plus PyYAML, if installed, to parse model-card metadata).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import dataclasses
import datetime as _dt
import hashlib
import itertools
import json
import logging
import os
import re
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

try:  # PyYAML is optional: without it, `cardData` is omitted and README metadata is not validated.
    import yaml as _yaml
except ImportError:  # pragma: no cover - pyyaml is a ganzoo dependency
    _yaml = None

__all__ = [
    "DEFAULT_GITATTRIBUTES",
    "HubError",
    "LocalHub",
    "OfflineMode",
    "RequestRecord",
    "UploadMode",
    "configure_client",
    "main",
    "reserve_port",
]

logger = logging.getLogger(__name__)

UploadMode = Literal["regular", "lfs"]
OfflineMode = Literal["error", "drop", "refuse"]
RepoType = Literal["model", "dataset", "space"]

#: The `.gitattributes` file of the initial commit of every new repo, as on the real Hub (abridged).
DEFAULT_GITATTRIBUTES = (
    "*.7z filter=lfs diff=lfs merge=lfs -text\n"
    "*.bin filter=lfs diff=lfs merge=lfs -text\n"
    "*.ckpt filter=lfs diff=lfs merge=lfs -text\n"
    "*.gz filter=lfs diff=lfs merge=lfs -text\n"
    "*.h5 filter=lfs diff=lfs merge=lfs -text\n"
    "*.npy filter=lfs diff=lfs merge=lfs -text\n"
    "*.npz filter=lfs diff=lfs merge=lfs -text\n"
    "*.onnx filter=lfs diff=lfs merge=lfs -text\n"
    "*.pkl filter=lfs diff=lfs merge=lfs -text\n"
    "*.pt filter=lfs diff=lfs merge=lfs -text\n"
    "*.pth filter=lfs diff=lfs merge=lfs -text\n"
    "*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
    "*.tar filter=lfs diff=lfs merge=lfs -text\n"
    "*.zip filter=lfs diff=lfs merge=lfs -text\n"
)

_REPO_TYPES: tuple[str, ...] = ("model", "dataset", "space")
# URL prefix of file URLs (`/resolve/`), as in `huggingface_hub.constants.REPO_TYPES_URL_PREFIXES`.
_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_SHA1_RE = re.compile(r"[0-9a-f]{40}")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
# Same front-matter regex as `huggingface_hub.repocard.REGEX_YAML_BLOCK`.
_YAML_BLOCK_RE = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")
# Status answered while offline in "error" mode: a 5xx the client does not retry (408/429/500/502/503/504 are retried
# with ~23 s of backoff), the status captive portals use for "no network access".
_OFFLINE_STATUS = 511


# ----------------------------------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------------------------------


def reserve_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free right now on `host` (bind port 0, read the number, close).

    Use it to know the server URL before the server starts, e.g. to export ``HF_ENDPOINT`` at the top of
    ``conftest.py`` before ``huggingface_hub`` is imported. Another process could grab the port in between, which is
    unlikely enough for test suites.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def configure_client(endpoint: str) -> None:
    """Point an already-imported ``huggingface_hub`` at `endpoint` (e.g. ``LocalHub.url``).

    ``huggingface_hub`` reads ``HF_ENDPOINT`` once, at import: setting the environment variable afterwards has no
    effect. This patches the frozen values instead: ``constants.ENDPOINT``, ``constants.HUGGINGFACE_CO_URL_TEMPLATE``,
    the endpoint of the module-level ``HfApi`` behind ``huggingface_hub.model_info``/``upload_file``/... and the sets of
    trusted Hub hosts, then exports ``HF_ENDPOINT`` for subprocesses. ``HfApi`` objects created *before* this call keep
    their old endpoint. Calling it again with another endpoint is fine.
    """
    endpoint = endpoint.rstrip("/")
    os.environ["HF_ENDPOINT"] = endpoint
    try:
        from huggingface_hub import constants, hf_api
    except ImportError:  # the client is not installed: the environment variable is all we can do
        return
    constants.ENDPOINT = endpoint
    constants.HUGGINGFACE_CO_URL_TEMPLATE = endpoint + "/{repo_id}/resolve/{revision}/{filename}"
    hf_api.api.endpoint = endpoint
    parsed = urlsplit(endpoint)
    # Hosts the client treats as "the Hub" (redirect following, auth forwarding, hf:// URL parsing); best effort.
    if parsed.hostname and isinstance(getattr(constants, "HF_URL_HOSTS", None), frozenset):
        constants.HF_URL_HOSTS = constants.HF_URL_HOSTS | {parsed.hostname.lower()}
    try:
        from huggingface_hub.utils import _http

        if isinstance(getattr(_http, "_HUB_ORIGINS", None), frozenset):
            _http._HUB_ORIGINS = _http._HUB_ORIGINS | {_http._url_origin(endpoint)}
    except (ImportError, AttributeError):  # private API: absent in other client versions
        pass


def _git_blob_sha1(data: bytes) -> str:
    """Git object id of a blob: what the Hub reports as `oid`/`blobId`/ETag for regular files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file stored in git in place of an LFS file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def _now_iso() -> str:
    """Current UTC time in the Hub's date format (`2024-01-31T12:34:56.789Z`)."""
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a temp file + rename, so readers never see a half-written state file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _split_repo_id(repo_id: str) -> tuple[str, str]:
    """Split `ns/name`; LocalHub only serves namespaced repo ids."""
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts) or any(p in (".", "..") for p in parts):
        raise ValueError(f"Invalid repo id {repo_id!r}: expected 'namespace/name'.")
    return parts[0], parts[1]


def parse_card_metadata(readme: str) -> dict[str, Any] | None:
    """Parse the YAML front matter of a model card.

    Returns the metadata mapping, ``{}`` for a README without front matter, or ``None`` when PyYAML is missing.
    Raises `ValueError` when the front matter is not valid YAML or not a mapping (what the Hub rejects).
    """
    match = _YAML_BLOCK_RE.search(readme)
    if match is None:
        return {}
    if _yaml is None:
        return None
    try:
        data = _yaml.safe_load(match.group(2))
    except _yaml.YAMLError as err:
        raise ValueError(f"Invalid YAML in README.md metadata: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"README.md metadata must be a YAML mapping, got {type(data).__name__}.")
    return data


# ----------------------------------------------------------------------------------------------------------------------
# Errors and records
# ----------------------------------------------------------------------------------------------------------------------


class HubError(Exception):
    """An error answered to the client: HTTP status, message and the Hub's `X-Error-Code` (if any)."""

    def __init__(
        self, status: int, message: str, *, code: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


def _repo_not_found(repo_type: str, repo_id: str) -> HubError:
    return HubError(404, f"Repository {repo_type}s/{repo_id} not found", code="RepoNotFound")


def _revision_not_found(revision: str) -> HubError:
    return HubError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")


@dataclasses.dataclass(frozen=True)
class RequestRecord:
    """One request served by `LocalHub` (see `LocalHub.requests`).

    `path` is the raw, still URL-quoted request path (no query string); `query` is the raw query string; `status` is
    the HTTP status answered, or 0 when the connection was dropped without an answer (`LocalHub.offline`).
    """

    method: str
    path: str
    query: str
    status: int


@dataclasses.dataclass
class _Response:
    """What a route handler answers. `length` overrides Content-Length (HEAD advertises the size, sends no body)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    content_type: str = "application/json"
    length: int | None = None


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> _Response:
    # default=str: card metadata may hold YAML dates, which JSON cannot encode natively.
    return _Response(status=status, body=json.dumps(data, default=str).encode(), headers=dict(headers or {}))


# ----------------------------------------------------------------------------------------------------------------------
# On-disk store
# ----------------------------------------------------------------------------------------------------------------------

# A tree entry: {"sha256": str, "size": int, "lfs": bool, "oid": git blob id (of the LFS pointer for LFS files)}
Tree = dict[str, dict[str, Any]]


class _Store:
    """Repos, commits and blobs on disk under `root`. Every public method holds the (re-entrant) lock.

    Layout::

        root/blobs/<sha256[:2]>/<sha256>                 file contents, content-addressed
        root/repos/<type>/<ns>/<name>/repo.json          {"id", "type", "private", "branches", "tags", "prs", ...}
        root/repos/<type>/<ns>/<name>/commits/<sha>.json {"id", "parents", "tree", "title", "message", "date", ...}
    """

    def __init__(self, root: Path, user: str) -> None:
        self.root = root
        self.user = user
        self.lock = threading.RLock()
        self._counter = itertools.count()  # makes commit ids unique even for identical commits in the same ms
        (root / "blobs").mkdir(parents=True, exist_ok=True)
        (root / "repos").mkdir(parents=True, exist_ok=True)

    # -- blobs ---------------------------------------------------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        return self.root / "blobs" / sha256[:2] / sha256

    def has_blob(self, sha256: str) -> bool:
        return bool(_SHA256_RE.fullmatch(sha256)) and self.blob_path(sha256).is_file()

    def put_blob(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        path = self.blob_path(sha256)
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{sha256}.{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return sha256

    def read_blob(self, sha256: str) -> bytes:
        return self.blob_path(sha256).read_bytes()

    def make_entry(self, data: bytes, *, lfs: bool) -> dict[str, Any]:
        """Store `data` and return its tree entry (empty files are never LFS, as with the real client)."""
        sha256 = self.put_blob(data)
        lfs = lfs and len(data) > 0
        oid = _git_blob_sha1(_lfs_pointer(sha256, len(data))) if lfs else _git_blob_sha1(data)
        return {"sha256": sha256, "size": len(data), "lfs": lfs, "oid": oid}

    # -- repos ---------------------------------------------------------------------------------------------------------

    def _repo_dir(self, repo_type: str, repo_id: str) -> Path:
        if repo_type not in _REPO_TYPES:
            raise HubError(400, f"Invalid repo type {repo_type!r}")
        try:
            ns, name = _split_repo_id(repo_id)
        except ValueError as err:
            raise HubError(400, str(err)) from err
        return self.root / "repos" / repo_type / ns / name

    def get_repo(self, repo_type: str, repo_id: str) -> dict[str, Any]:
        with self.lock:
            path = self._repo_dir(repo_type, repo_id) / "repo.json"
            if not path.is_file():
                raise _repo_not_found(repo_type, repo_id)
            return json.loads(path.read_text(encoding="utf-8"))

    def save_repo(self, repo: dict[str, Any]) -> None:
        with self.lock:
            _write_json_atomic(self._repo_dir(repo["type"], repo["id"]) / "repo.json", repo)

    def repo_exists(self, repo_type: str, repo_id: str) -> bool:
        with self.lock:
            return (self._repo_dir(repo_type, repo_id) / "repo.json").is_file()

    def list_repos(self, repo_type: str) -> list[dict[str, Any]]:
        with self.lock:
            base = self.root / "repos" / repo_type
            return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(base.glob("*/*/repo.json"))]

    def create_repo(self, repo_type: str, repo_id: str, *, private: bool = False) -> bool:
        """Create a repo with an initial commit holding `.gitattributes`; False if it already exists."""
        with self.lock:
            if self.repo_exists(repo_type, repo_id):
                return False
            now = _now_iso()
            repo: dict[str, Any] = {
                "id": repo_id,
                "type": repo_type,
                "private": private,
                "gated": False,
                "createdAt": now,
                "lastModified": now,
                "branches": {},
                "tags": {},
                "prs": {},
            }
            tree = {".gitattributes": self.make_entry(DEFAULT_GITATTRIBUTES.encode(), lfs=False)}
            sha = self._write_commit(repo, tree, parents=[], title="initial commit", message="")
            repo["branches"]["main"] = sha
            self.save_repo(repo)
            return True

    def delete_repo(self, repo_type: str, repo_id: str) -> None:
        with self.lock:
            repo_dir = self._repo_dir(repo_type, repo_id)
            if not (repo_dir / "repo.json").is_file():
                raise _repo_not_found(repo_type, repo_id)
            # Rename first so the repo disappears atomically, then delete the files (blobs are shared: kept).
            trash = repo_dir.with_name(f".deleted-{repo_dir.name}-{uuid.uuid4().hex}")
            os.replace(repo_dir, trash)
            for path in sorted(trash.rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()
            trash.rmdir()

    # -- commits -------------------------------------------------------------------------------------------------------

    def _write_commit(
        self, repo: dict[str, Any], tree: Tree, *, parents: list[str], title: str, message: str
    ) -> str:
        date = _now_iso()
        # Unique per commit: identical trees committed twice still get distinct ids (cache pointers stay correct).
        seed = json.dumps([tree, parents, title, message, date, next(self._counter), uuid.uuid4().hex], sort_keys=True)
        sha = hashlib.sha1(seed.encode()).hexdigest()
        commit = {
            "id": sha,
            "parents": parents,
            "tree": tree,
            "title": title,
            "message": message,
            "date": date,
            "authors": [self.user],
        }
        _write_json_atomic(self._repo_dir(repo["type"], repo["id"]) / "commits" / f"{sha}.json", commit)
        repo["lastModified"] = date
        return sha

    def get_commit(self, repo: dict[str, Any], sha: str) -> dict[str, Any]:
        with self.lock:
            path = self._repo_dir(repo["type"], repo["id"]) / "commits" / f"{sha}.json"
            if not _SHA1_RE.fullmatch(sha) or not path.is_file():
                raise _revision_not_found(sha)
            return json.loads(path.read_text(encoding="utf-8"))

    def resolve(self, repo: dict[str, Any], revision: str) -> str:
        """Resolve a branch, tag, `refs/heads/*`, `refs/tags/*`, `refs/pr/N` or full commit id to a commit id."""
        rev = revision
        if rev.startswith("refs/heads/") and rev[len("refs/heads/") :] in repo["branches"]:
            return repo["branches"][rev[len("refs/heads/") :]]
        if rev.startswith("refs/tags/") and rev[len("refs/tags/") :] in repo["tags"]:
            return repo["tags"][rev[len("refs/tags/") :]]["target"]
        if rev in repo["branches"]:
            return repo["branches"][rev]
        if rev in repo["tags"]:
            return repo["tags"][rev]["target"]
        match = re.fullmatch(r"refs/pr/(\d+)", rev)
        if match and match.group(1) in repo["prs"]:
            return repo["prs"][match.group(1)]
        if _SHA1_RE.fullmatch(rev):
            self.get_commit(repo, rev)  # raises RevisionNotFound for unknown ids
            return rev
        raise _revision_not_found(revision)

    def branch_ref(self, repo: dict[str, Any], revision: str) -> tuple[str, str]:
        """Map a committable revision (branch or `refs/pr/N`) to its ref kind and key."""
        name = revision[len("refs/heads/") :] if revision.startswith("refs/heads/") else revision
        if name in repo["branches"]:
            return "branches", name
        match = re.fullmatch(r"refs/pr/(\d+)", revision)
        if match and match.group(1) in repo["prs"]:
            return "prs", match.group(1)
        raise HubError(404, f"Invalid rev id: {revision} (commits must target a branch)", code="RevisionNotFound")

    def commit(
        self,
        repo_type: str,
        repo_id: str,
        revision: str,
        operations: Iterable[tuple[str, str, dict[str, Any] | None]],
        *,
        title: str,
        message: str = "",
        parent_commit: str | None = None,
        create_pr: bool = False,
    ) -> tuple[str, str | None]:
        """Apply `(kind, path, entry)` operations on top of `revision` and record a commit.

        `kind` is ``"add"`` (entry = tree entry), ``"delete_file"`` or ``"delete_folder"``. Returns
        ``(commit id, pull-request number or None)``.
        """
        with self.lock:
            repo = self.get_repo(repo_type, repo_id)
            if create_pr:
                head = self.resolve(repo, revision)
                ref_kind, ref_key = "prs", str(max((int(n) for n in repo["prs"]), default=0) + 1)
            else:
                ref_kind, ref_key = self.branch_ref(repo, revision)
                head = repo[ref_kind][ref_key]
            if parent_commit is not None and parent_commit != head:
                raise HubError(412, f"A commit has happened since {parent_commit}. Please refresh and try again.")
            tree: Tree = dict(self.get_commit(repo, head)["tree"])
            for kind, path, entry in operations:
                if kind == "add":
                    assert entry is not None
                    # A file replaces a folder of the same name, and files in the way of its parent folders.
                    for other in [p for p in tree if p.startswith(path + "/")]:
                        del tree[other]
                    parts = path.split("/")
                    for i in range(1, len(parts)):
                        tree.pop("/".join(parts[:i]), None)
                    tree[path] = entry
                elif kind == "delete_file":
                    if path not in tree:
                        raise HubError(
                            404, f"A file with this name doesn't exist: {path}", code="EntryNotFound",
                            headers={"X-Repo-Commit": head},
                        )
                    del tree[path]
                elif kind == "delete_folder":
                    prefix = path.rstrip("/") + "/"
                    matches = [p for p in tree if p.startswith(prefix)] if prefix != "/" else list(tree)
                    if not matches:
                        raise HubError(
                            404, f"A folder with this name doesn't exist: {path}", code="EntryNotFound",
                            headers={"X-Repo-Commit": head},
                        )
                    for p in matches:
                        del tree[p]
                else:  # pragma: no cover - operations are built by this module
                    raise HubError(400, f"Unknown operation {kind!r}")
            sha = self._write_commit(repo, tree, parents=[head], title=title, message=message)
            repo[ref_kind][ref_key] = sha
            self.save_repo(repo)
            return sha, (ref_key if create_pr else None)

    def history(self, repo: dict[str, Any], sha: str) -> Iterator[dict[str, Any]]:
        """Commits reachable from `sha` through first parents, newest first."""
        with self.lock:
            while True:
                commit = self.get_commit(repo, sha)
                yield commit
                if not commit["parents"]:
                    return
                sha = commit["parents"][0]


# ----------------------------------------------------------------------------------------------------------------------
# HTTP layer
# ----------------------------------------------------------------------------------------------------------------------


class _HubHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers its open connections, so `stop()` can close keep-alive sockets."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # snapshot_download opens 8 connections at once; the default backlog of 5 drops SYNs

    def __init__(self, address: tuple[str, int], hub: LocalHub) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.hub = hub
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _HubRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-request (or stop() closing their sockets) is normal here: no stderr tracebacks.
        logger.debug("LocalHub: error while serving %s", client_address, exc_info=True)

    def close_open_sockets(self) -> int:
        """Shut down every live connection (handler threads blocked on keep-alive reads return at once); count them."""
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by the peer
                sock.shutdown(socket.SHUT_RDWR)
        return len(sockets)


class _HubRequestHandler(BaseHTTPRequestHandler):
    """Parses a request, hands it to `LocalHub._handle`, writes the answer and records it."""

    protocol_version = "HTTP/1.1"  # keep-alive, like the real Hub (the client pools connections)
    disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid 40 ms delayed-ACK stalls
    server: _HubHTTPServer
    server_version = "LocalHub/1.0"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        logger.debug("%s - %s", self.address_string(), format % args)

    def _read_body(self) -> bytes:
        """Read the request body, decoding `Transfer-Encoding: chunked` (http.server does not; LFS PUTs use it)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size_line = self.rfile.readline(65537)
                if not size_line:
                    raise ConnectionError("connection closed inside a chunked body")
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):  # optional trailers
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()  # the CRLF closing each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self, method: str) -> None:
        hub = self.server.hub
        split = urlsplit(self.path)
        if hub.offline and hub.offline_mode == "drop":
            # Close the connection without a byte of answer: the client sees "Server disconnected" at once.
            hub._record(RequestRecord(method, split.path, split.query, 0))
            self.close_connection = True
            return
        try:
            body = self._read_body()
        except (ValueError, ConnectionError, OSError):
            self.close_connection = True
            return
        if hub.offline:  # offline_mode == "error"
            response = hub._error_response(
                HubError(_OFFLINE_STATUS, "LocalHub is offline (simulated network failure)", code="LocalHubOffline")
            )
        else:
            # URLs in answers (repo URL, LFS hrefs) use the host the client reached us on.
            base_url = f"http://{self.headers['Host']}" if self.headers.get("Host") else hub.url
            try:
                response = hub._handle(method, split.path, parse_qs(split.query), body, self.headers, base_url)
            except HubError as err:
                response = hub._error_response(err)
            except Exception as err:  # a bug in the server: answer 500 with the traceback, keep serving
                logger.exception("LocalHub failed on %s %s", method, self.path)
                hub.errors.append(traceback.format_exc())
                response = _json({"error": f"LocalHub internal error: {err!r}"}, status=500)
        hub._record(RequestRecord(method, split.path, split.query, response.status))
        self._write(method, response)

    def _write(self, method: str, response: _Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        length = response.length if response.length is not None else len(response.body)
        self.send_header("Content-Length", str(length))
        if self.close_connection:  # tell the client, or it would reuse the connection and hit a closed socket
            self.send_header("Connection", "close")
        self.end_headers()
        if method != "HEAD" and response.body:
            self.wfile.write(response.body)


Route = tuple[str, re.Pattern[str], Callable[..., _Response]]


class LocalHub:
    """A Hugging Face Hub-compatible HTTP server on localhost, backed by a folder on disk.

    Args:
        root: folder holding the repos, commits and blobs. Reusing a folder keeps its repos (a restarted server, or a
            second `LocalHub` on the same root, sees them). ``None`` uses a temporary folder removed when the object
            is garbage collected.
        host: interface to bind (default ``127.0.0.1``).
        port: TCP port; 0 (default) picks a free one at the first `start`. Later restarts reuse that port.
        upload_mode: what the preupload endpoint answers for non-empty files: ``"regular"`` (bytes travel inside the
            commit, works with any client) or ``"lfs"`` (LFS batch API + PUT; the client must run with
            ``HF_HUB_DISABLE_XET=1``, as this server implements no Xet storage). Can be changed at any time.
        offline_mode: how the server behaves while `offline` is True (see there). Can be changed while online.
        user: the user name reported by ``whoami`` and used as the namespace of repos created without one.

    Attributes:
        requests: every request served, in order (`RequestRecord`); reset with `clear_requests`.
        errors: tracebacks of internal server errors (answered as HTTP 500); should stay empty.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        upload_mode: UploadMode = "regular",
        offline_mode: OfflineMode = "error",
        user: str = "local-user",
    ) -> None:
        if upload_mode not in ("regular", "lfs"):
            raise ValueError(f"upload_mode must be 'regular' or 'lfs', got {upload_mode!r}")
        if offline_mode not in ("error", "drop", "refuse"):
            raise ValueError(f"offline_mode must be 'error', 'drop' or 'refuse', got {offline_mode!r}")
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if root is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="localhub-")
            root = self._tmpdir.name
        self.root = Path(root)
        self.host = host
        self.port = port
        self.upload_mode: UploadMode = upload_mode
        self.offline_mode: OfflineMode = offline_mode
        self.user = user
        self.requests: list[RequestRecord] = []
        self.errors: list[str] = []
        self._store = _Store(self.root, user)
        self._server: _HubHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._started = False  # start() called and stop() not yet: the socket may still be closed by "refuse"
        self._offline = False
        self._refusing = False  # the listening socket is closed because of offline_mode="refuse"
        self._lifecycle_lock = threading.RLock()
        self._log_lock = threading.Lock()
        self._routes = self._build_routes()

    # -- lifecycle -----------------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. ``http://127.0.0.1:53127`` (the endpoint to give the client)."""
        if self.port == 0:
            raise RuntimeError("The port is chosen at start(): start the server first (or pass port=...).")
        host = f"[{self.host}]" if ":" in self.host else self.host  # IPv6 literal
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections right now."""
        return self._server is not None

    def start(self) -> LocalHub:
        """Bind the port and serve in a background (daemon) thread. Returns ``self``; no-op if already started."""
        with self._lifecycle_lock:
            self._started = True
            if self._server is None and not self._refusing:
                self._bind()
        return self

    def stop(self) -> None:
        """Stop serving, close every open (keep-alive) connection and release the port. Safe to call twice."""
        with self._lifecycle_lock:
            self._started = False
            self._unbind()

    def _bind(self) -> None:
        server = _HubHTTPServer((self.host, self.port), self)
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"LocalHub:{self.port}", daemon=True
        )
        self._thread.start()

    def _unbind(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        # shutdown() only ends the accept loop: handler threads would keep serving keep-alive connections.
        if server.close_open_sockets():
            # Give the client's side a moment to see the FINs, so its pool drops those connections instead of
            # sending the next request on one of them (RemoteProtocolError instead of a clean ConnectError).
            time.sleep(0.02)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self._started else "stopped"
        return f"LocalHub(root={str(self.root)!r}, {state}, upload_mode={self.upload_mode!r}, offline={self._offline})"

    # -- test helpers --------------------------------------------------------------------------------------------------

    @property
    def offline(self) -> bool:
        """Simulate an unreachable Hub (set to True), then bring it back (False). Behaviour per `offline_mode`:

        - ``"error"`` (default): every request is answered ``511 Network Authentication Required`` (what captive
          portals answer), a 5xx the client does *not* retry. Downloads behave as with a Hub outage, fast:
          ``hf_hub_download``/``snapshot_download`` fall back to the cache (branch and tag refs included) and raise
          ``LocalEntryNotFoundError`` for uncached files; API calls (``model_info``, uploads) raise ``HfHubHTTPError``.
        - ``"refuse"``: the listening socket is closed (same port reopened when back online), so connections are
          refused (``httpx.ConnectError``), exactly like a machine without network: same cache fallbacks, but the
          client retries an uncached ``hf_hub_download`` and uploads with exponential backoff (~23 s) before failing;
          ``model_info`` and other API calls fail at once.
        - ``"drop"``: each request is answered by closing the connection (``httpx.RemoteProtocolError``, which the
          client's cache fallback does not catch): only files cached under a commit id (no request at all) still
          resolve; downloads and API calls fail at once, uploads after ~23 s of retries.

        For "the user runs offline" tests, prefer the client's own switch,
        ``huggingface_hub.constants.HF_HUB_OFFLINE = True`` (read at call time).
        """
        return self._offline

    @offline.setter
    def offline(self, value: bool) -> None:
        with self._lifecycle_lock:
            value = bool(value)
            if value == self._offline:
                return
            self._offline = value
            # "error" and "drop" are checked on every request, kept-alive connections included: nothing to do now.
            if value and self.offline_mode == "refuse":
                self._refusing = True
                self._unbind()
            elif not value and self._refusing:
                self._refusing = False
                if self._started:
                    self._bind()  # same port as before

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._log_lock:
            self.requests.clear()

    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self.requests.append(record)

    def create_repo(
        self, repo_id: str, *, repo_type: RepoType = "model", private: bool = False, exist_ok: bool = True
    ) -> None:
        """Create a repo directly (no HTTP), with the same initial `.gitattributes` commit as over HTTP."""
        created = self._store.create_repo(repo_type, repo_id, private=private)
        if not created and not exist_ok:
            raise FileExistsError(f"Repo {repo_type}s/{repo_id} already exists")

    def delete_repo(self, repo_id: str, *, repo_type: RepoType = "model") -> None:
        """Delete a repo directly (no HTTP). Raises `KeyError` if it does not exist."""
        try:
            self._store.delete_repo(repo_type, repo_id)
        except HubError as err:
            raise KeyError(err.message) from err

    def repo_exists(self, repo_id: str, *, repo_type: RepoType = "model") -> bool:
        """Whether the repo exists on this hub."""
        return self._store.repo_exists(repo_type, repo_id)

    def commit_files(
        self,
        repo_id: str,
        files: Mapping[str, bytes],
        *,
        message: str = "Commit files with LocalHub",
        revision: str = "main",
        repo_type: RepoType = "model",
        delete: Iterable[str] = (),
        lfs: bool | None = None,
    ) -> str:
        """Commit `files` ({path in repo: content}) directly (no HTTP) and return the new commit id.

        The repo is created if missing. `delete` lists paths to remove in the same commit. Files are stored as LFS when
        `lfs` is True, regular when False, and per `upload_mode` when None.
        """
        self._store.create_repo(repo_type, repo_id)
        as_lfs = (self.upload_mode == "lfs") if lfs is None else lfs
        ops: list[tuple[str, str, dict[str, Any] | None]] = [("delete_file", p, None) for p in delete]
        ops += [("add", path, self._store.make_entry(bytes(data), lfs=as_lfs)) for path, data in files.items()]
        try:
            sha, _ = self._store.commit(repo_type, repo_id, revision, ops, title=message)
        except HubError as err:
            raise KeyError(err.message) from err
        return sha

    def corrupt_file(
        self,
        repo_id: str,
        path: str,
        data: bytes = b"corrupted by LocalHub",
        *,
        revision: str = "main",
        repo_type: RepoType = "model",
    ) -> str:
        """Commit new content `data` for an *existing* file, keeping its storage kind (LFS or regular).

        Used to test integrity checks: the file at the branch head no longer matches a hash recorded earlier (e.g. in a
        model card). Returns the new commit id. Raises `KeyError` if the file does not exist.
        """
        entry = self._file_entry(repo_type, repo_id, revision, path)
        return self.commit_files(
            repo_id, {path: data}, message=f"Corrupt {path}", revision=revision, repo_type=repo_type, lfs=entry["lfs"]
        )

    def delete_file_content(
        self, repo_id: str, path: str, *, revision: str = "main", repo_type: RepoType = "model"
    ) -> str:
        """Commit an empty version of an existing file (truncate it to 0 bytes). Returns the new commit id."""
        return self.corrupt_file(repo_id, path, b"", revision=revision, repo_type=repo_type)

    def resolve_revision(self, repo_id: str, revision: str = "main", *, repo_type: RepoType = "model") -> str:
        """Commit id that `revision` (branch, tag or commit id) points to. Raises `KeyError` if unknown."""
        try:
            with self._store.lock:
                return self._store.resolve(self._store.get_repo(repo_type, repo_id), revision)
        except HubError as err:
            raise KeyError(err.message) from err

    def list_files(self, repo_id: str, revision: str = "main", *, repo_type: RepoType = "model") -> list[str]:
        """Sorted file paths of the repo at `revision`."""
        return sorted(self._tree_at(repo_type, repo_id, revision))

    def read_file(self, repo_id: str, path: str, revision: str = "main", *, repo_type: RepoType = "model") -> bytes:
        """Content of a file at `revision`. Raises `KeyError` if the repo, revision or file is unknown."""
        return self._store.read_blob(self._file_entry(repo_type, repo_id, revision, path)["sha256"])

    def _tree_at(self, repo_type: str, repo_id: str, revision: str) -> Tree:
        try:
            with self._store.lock:
                repo = self._store.get_repo(repo_type, repo_id)
                return self._store.get_commit(repo, self._store.resolve(repo, revision))["tree"]
        except HubError as err:
            raise KeyError(err.message) from err

    def _file_entry(self, repo_type: str, repo_id: str, revision: str, path: str) -> dict[str, Any]:
        tree = self._tree_at(repo_type, repo_id, revision)
        if path not in tree:
            raise KeyError(f"{path!r} not found in {repo_type}s/{repo_id}@{revision}")
        return tree[path]

    # -- request dispatch ----------------------------------------------------------------------------------------------

    def _build_routes(self) -> list[Route]:
        t = r"(?P<t>models|datasets|spaces)"
        repo = r"(?P<ns>[^/]+)/(?P<name>[^/]+)"
        prefixed_repo = r"(?:(?P<prefix>datasets|spaces)/)?" + repo  # file URLs: no prefix for models
        rev = r"(?P<rev>[^/]+)"
        table: list[tuple[str, str, Callable[..., _Response]]] = [
            ("GET", r"/api/whoami-v2", self._api_whoami),
            ("POST", r"/api/repos/create", self._api_create_repo),
            ("DELETE", r"/api/repos/delete", self._api_delete_repo),
            ("POST", r"/api/validate-yaml", self._api_validate_yaml),
            ("GET", rf"/api/{t}", self._api_list_repos),
            ("GET", rf"/api/{t}/{repo}", self._api_repo_info),
            ("GET", rf"/api/{t}/{repo}/revision/{rev}", self._api_repo_info),
            ("PUT", rf"/api/{t}/{repo}/settings", self._api_settings),
            ("POST", rf"/api/{t}/{repo}/preupload/{rev}", self._api_preupload),
            ("POST", rf"/api/{t}/{repo}/commit/{rev}", self._api_commit),
            ("GET", rf"/api/{t}/{repo}/tree/{rev}(?:/(?P<path>.*))?", self._api_tree),
            ("POST", rf"/api/{t}/{repo}/paths-info/{rev}", self._api_paths_info),
            ("GET", rf"/api/{t}/{repo}/refs", self._api_refs),
            ("GET", rf"/api/{t}/{repo}/commits/{rev}", self._api_commits),
            ("POST", rf"/api/{t}/{repo}/branch/{rev}", self._api_create_branch),
            ("DELETE", rf"/api/{t}/{repo}/branch/{rev}", self._api_delete_branch),
            ("POST", rf"/api/{t}/{repo}/tag/{rev}", self._api_create_tag),
            ("DELETE", rf"/api/{t}/{repo}/tag/{rev}", self._api_delete_tag),
            ("GET", rf"/api/{t}/{repo}/xet-write-token/{rev}", self._api_xet_token),
            ("GET", rf"/api/{t}/{repo}/xet-read-token/{rev}", self._api_xet_token),
            ("POST", rf"/{prefixed_repo}\.git/info/lfs/objects/batch", self._lfs_batch),
            ("PUT", r"/lfs-upload/(?P<oid>[0-9a-f]{64})", self._lfs_upload),
            ("POST", r"/lfs-verify/(?P<oid>[0-9a-f]{64})", self._lfs_verify),
            ("HEAD", rf"/{prefixed_repo}/resolve/{rev}/(?P<path>.+)", self._resolve),
            ("GET", rf"/{prefixed_repo}/resolve/{rev}/(?P<path>.+)", self._resolve),
        ]
        return [(method, re.compile(pattern), handler) for method, pattern, handler in table]

    def _handle(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes, headers: Any, base_url: str
    ) -> _Response:
        for route_method, pattern, handler in self._routes:
            if route_method != method:
                continue
            match = pattern.fullmatch(path)
            if match is None:
                continue
            # Path segments arrive URL-quoted (a revision's "/" as %2F): unquote each captured group.
            params = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
            if "t" in params:
                params["repo_type"] = params.pop("t")[:-1]
            elif "ns" in params:
                params["repo_type"] = {"datasets": "dataset", "spaces": "space"}.get(params.pop("prefix", ""), "model")
            if "ns" in params:
                params["repo_id"] = f"{params.pop('ns')}/{params.pop('name')}"
            return handler(
                method=method, query=query, body=body, headers=headers, base_url=base_url, **params
            )
        # Unknown endpoints (e.g. /api/agent-harnesses, telemetry) are a plain 404: the client treats them as optional.
        return _json({"error": f"LocalHub does not implement {method} {path}"}, status=404)

    @staticmethod
    def _error_response(err: HubError) -> _Response:
        headers = dict(err.headers)
        # Headers must be latin-1; the client shows X-Error-Message in its exception text.
        headers["X-Error-Message"] = err.message.encode("ascii", "replace").decode()
        if err.code is not None:
            headers["X-Error-Code"] = err.code
        return _json({"error": err.message}, status=err.status, headers=headers)

    @staticmethod
    def _json_body(body: bytes) -> Any:
        try:
            return json.loads(body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise HubError(400, f"Invalid JSON body: {err}") from err

    def _repo_url(self, base_url: str, repo_type: str, repo_id: str) -> str:
        return f"{base_url}/{_URL_PREFIX[repo_type]}{repo_id}"

    # -- /api: account and repos ---------------------------------------------------------------------------------------

    def _api_whoami(self, **_: Any) -> _Response:
        return _json(
            {
                "type": "user",
                "id": hashlib.sha1(self.user.encode()).hexdigest()[:24],
                "name": self.user,
                "fullname": self.user,
                "email": None,
                "emailVerified": False,
                "isPro": False,
                "canPay": False,
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": {"displayName": "LocalHub", "role": "write"}},
            }
        )

    def _api_create_repo(self, *, body: bytes, base_url: str, **_: Any) -> _Response:
        payload = self._json_body(body)
        repo_type = payload.get("type") or "model"
        name = payload.get("name")
        if not isinstance(name, str) or not name:
            raise HubError(400, "Missing repo name")
        repo_id = f"{payload.get('organization') or self.user}/{name}"
        private = payload.get("private") or payload.get("visibility") == "private"
        url = self._repo_url(base_url, repo_type, repo_id)
        if not self._store.create_repo(repo_type, repo_id, private=bool(private)):
            # The client reads "url" from the 409 body too when exist_ok=True.
            return _json({"error": "You already created this model repo", "url": url}, status=409)
        return _json({"url": url, "name": repo_id, "id": repo_id})

    def _api_delete_repo(self, *, body: bytes, **_: Any) -> _Response:
        payload = self._json_body(body)
        repo_id = f"{payload.get('organization') or self.user}/{payload.get('name')}"
        self._store.delete_repo(payload.get("type") or "model", repo_id)
        return _json({})

    def _api_settings(self, *, repo_type: str, repo_id: str, body: bytes, **_: Any) -> _Response:
        payload = self._json_body(body)
        with self._store.lock:
            repo = self._store.get_repo(repo_type, repo_id)
            if "private" in payload:
                repo["private"] = bool(payload["private"])
            if "visibility" in payload:
                repo["private"] = payload["visibility"] == "private"
            if "gated" in payload:
                repo["gated"] = payload["gated"]
            self._store.save_repo(repo)
        return _json({})

    def _api_validate_yaml(self, *, body: bytes, **_: Any) -> _Response:
        payload = self._json_body(body)
        try:
            parse_card_metadata(str(payload.get("content") or ""))
        except ValueError as err:
            # Always JSON: the client calls .json() before checking the status.
            return _json({"errors": [{"message": str(err)}], "warnings": []}, status=400)
        return _json({"errors": [], "warnings": []})

    def _card_data(self, tree: Tree) -> dict[str, Any] | None:
        if "README.md" not in tree:
            return None
        try:
            return parse_card_metadata(self._store.read_blob(tree["README.md"]["sha256"]).decode("utf-8", "replace"))
        except ValueError:
            return None

    def _info(
        self, repo: dict[str, Any], sha: str, *, siblings: bool, blobs: bool, card: bool
    ) -> dict[str, Any]:
        """The `ModelInfo`/`DatasetInfo` JSON of `repo` at commit `sha`."""
        commit = self._store.get_commit(repo, sha)
        tree: Tree = commit["tree"]
        card_data = self._card_data(tree)
        info: dict[str, Any] = {
            "_id": hashlib.sha1(f"{repo['type']}/{repo['id']}".encode()).hexdigest()[:24],
            "id": repo["id"],
            "author": repo["id"].split("/")[0],
            "sha": sha,
            "lastModified": commit["date"],
            "createdAt": repo["createdAt"],
            "private": repo["private"],
            "gated": repo.get("gated", False),
            "disabled": False,
            "downloads": 0,
            "likes": 0,
        }
        tags: list[str] = []
        if card_data:
            raw_tags = card_data.get("tags") or []
            tags += [str(x) for x in ([raw_tags] if isinstance(raw_tags, str) else raw_tags)]
            for key in ("library_name", "pipeline_tag"):
                if isinstance(card_data.get(key), str):
                    info[key] = card_data[key]
            if isinstance(card_data.get("library_name"), str) and card_data["library_name"] not in tags:
                tags.append(card_data["library_name"])
            if isinstance(card_data.get("license"), str):
                tags.append(f"license:{card_data['license']}")
            if card:
                info["cardData"] = card_data
        info["tags"] = tags
        if siblings:
            info["siblings"] = []
            for path in sorted(tree):
                entry = tree[path]
                sibling: dict[str, Any] = {"rfilename": path}
                if blobs:  # like the Hub: sizes and blob ids only with ?blobs=True (files_metadata=True)
                    sibling.update(size=entry["size"], blobId=entry["oid"])
                    if entry["lfs"]:
                        pointer = _lfs_pointer(entry["sha256"], entry["size"])
                        sibling["lfs"] = {"size": entry["size"], "sha256": entry["sha256"], "pointerSize": len(pointer)}
                info["siblings"].append(sibling)
            info["usedStorage"] = sum(e["size"] for e in tree.values())
        return info

    def _api_repo_info(
        self, *, repo_type: str, repo_id: str, query: dict[str, list[str]], rev: str = "main", **_: Any
    ) -> _Response:
        with self._store.lock:
            repo = self._store.get_repo(repo_type, repo_id)
            sha = self._store.resolve(repo, rev)
            blobs = query.get("blobs", ["false"])[0].lower() == "true"
            return _json(self._info(repo, sha, siblings=True, blobs=blobs, card=True))

    def _api_list_repos(self, *, repo_type: str, query: dict[str, list[str]], **_: Any) -> _Response:
        def flag(name: str) -> bool:
            return query.get(name, ["false"])[0].lower() in ("true", "1")

        author = query.get("author", [None])[0]
        search = (query.get("search", [""])[0] or "").lower()
        filters = query.get("filter", [])
        limit = int(query.get("limit", ["0"])[0] or 0)
        full = flag("full") or bool(filters)
        results = []
        with self._store.lock:
            repos = self._store.list_repos(repo_type)
            for repo in sorted(repos, key=lambda r: r["lastModified"], reverse=True):
                if author and repo["id"].split("/")[0] != author:
                    continue
                if search and search not in repo["id"].lower():
                    continue
                sha = repo["branches"].get("main") or next(iter(repo["branches"].values()))
                info = self._info(repo, sha, siblings=full, blobs=False, card=flag("cardData"))
                if any(f not in info["tags"] and f != info.get("pipeline_tag") for f in filters):
                    continue
                results.append(info)
        return _json(results[:limit] if limit > 0 else results)

    # -- /api: uploads -------------------------------------------------------------------------------------------------

    def _api_preupload(self, *, repo_type: str, repo_id: str, rev: str, body: bytes, **_: Any) -> _Response:
        payload = self._json_body(body)
        with self._store.lock:
            repo = self._store.get_repo(repo_type, repo_id)
            tree: Tree = self._store.get_commit(repo, self._store.resolve(repo, rev))["tree"]
        files = []
        for item in payload.get("files", []):
            path = item["path"]
            size = int(item.get("size") or 0)
            mode = "lfs" if self.upload_mode == "lfs" and size > 0 else "regular"
            entry = tree.get(path)
            # The client skips files whose remote oid equals its local one: sha256 for LFS, git blob id otherwise.
            oid = None if entry is None else (entry["sha256"] if entry["lfs"] else entry["oid"])
            files.append({"path": path, "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        return _json({"files": files, "commitOid": None})

    def _api_commit(
        self, *, repo_type: str, repo_id: str, rev: str, query: dict[str, list[str]], body: bytes, base_url: str,
        **_: Any,
    ) -> _Response:
        header: dict[str, Any] = {}
        ops: list[tuple[str, str, dict[str, Any] | None]] = []
        for line in body.splitlines():
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                key, value = item["key"], item["value"]
            except (json.JSONDecodeError, KeyError, TypeError) as err:
                raise HubError(400, f"Invalid commit payload line: {err}") from err
            if key == "header":
                header = value
            elif key == "file":
                if value.get("encoding", "base64") != "base64":
                    raise HubError(400, f"Unsupported encoding {value.get('encoding')!r}")
                try:
                    data = base64.b64decode(value["content"], validate=True)
                except (binascii.Error, ValueError) as err:
                    raise HubError(400, f"Invalid base64 content for {value.get('path')}") from err
                ops.append(("add", value["path"], self._store.make_entry(data, lfs=False)))
            elif key == "lfsFile":
                oid, size = value["oid"], int(value["size"])
                if value.get("algo", "sha256") != "sha256" or not self._store.has_blob(oid):
                    raise HubError(400, f"LFS object {oid} for {value['path']} was not uploaded")
                if self._store.blob_path(oid).stat().st_size != size:
                    raise HubError(400, f"LFS object {oid} has a different size than {size}")
                ops.append(("add", value["path"], self._store.make_entry(self._store.read_blob(oid), lfs=True)))
            elif key in ("deletedFile", "deletedFolder"):
                ops.append(("delete_file" if key == "deletedFile" else "delete_folder", value["path"], None))
            else:
                raise HubError(400, f"Unsupported commit operation {key!r}")
        create_pr = query.get("create_pr", ["0"])[0] in ("1", "true", "True")
        sha, pr_num = self._store.commit(
            repo_type,
            repo_id,
            rev,
            ops,
            title=str(header.get("summary") or "Commit with LocalHub"),
            message=str(header.get("description") or ""),
            parent_commit=header.get("parentCommit"),
            create_pr=create_pr,
        )
        repo_url = self._repo_url(base_url, repo_type, repo_id)
        answer: dict[str, Any] = {"success": True, "commitOid": sha, "commitUrl": f"{repo_url}/commit/{sha}"}
        if pr_num is not None:
            answer["pullRequestUrl"] = f"{repo_url}/discussions/{pr_num}"
        return _json(answer)

    def _api_xet_token(self, **_: Any) -> _Response:
        message = (
            "LocalHub does not implement Xet storage. Run the client with HF_HUB_DISABLE_XET=1 (or set"
            " huggingface_hub.constants.HF_HUB_DISABLE_XET = True) to upload LFS files through the LFS batch API."
        )
        return _json({"error": message}, status=501, headers={"X-Error-Message": message})

    # -- LFS -----------------------------------------------------------------------------------------------------------

    def _lfs_batch(self, *, body: bytes, base_url: str, **_: Any) -> _Response:
        payload = self._json_body(body)
        if payload.get("operation", "upload") != "upload":
            raise HubError(400, "LocalHub only implements LFS uploads (downloads go through /resolve)")
        objects = []
        for obj in payload.get("objects", []):
            oid, size = str(obj["oid"]), int(obj["size"])
            answer: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
            if not _SHA256_RE.fullmatch(oid):
                answer["error"] = {"code": 422, "message": f"Invalid oid {oid!r}"}
            elif not self._store.has_blob(oid):  # no "actions" tells the client the object is already stored
                answer["actions"] = {
                    "upload": {"href": f"{base_url}/lfs-upload/{oid}"},
                    "verify": {"href": f"{base_url}/lfs-verify/{oid}"},
                }
            objects.append(answer)
        return _Response(
            body=json.dumps({"transfer": "basic", "objects": objects, "hash_algo": "sha256"}).encode(),
            content_type="application/vnd.git-lfs+json",
        )

    def _lfs_upload(self, *, oid: str, body: bytes, **_: Any) -> _Response:
        if hashlib.sha256(body).hexdigest() != oid:
            raise HubError(400, f"Uploaded content does not match oid {oid}")
        self._store.put_blob(body)
        return _Response(body=b"", content_type="text/plain")

    def _lfs_verify(self, *, oid: str, body: bytes, **_: Any) -> _Response:
        payload = self._json_body(body)
        if not self._store.has_blob(oid):
            raise HubError(404, f"LFS object {oid} not found")
        if "size" in payload and self._store.blob_path(oid).stat().st_size != int(payload["size"]):
            raise HubError(422, f"LFS object {oid} has a different size")
        return _json({"oid": oid, "size": self._store.blob_path(oid).stat().st_size})

    # -- /api: listings ------------------------------------------------------------------------------------------------

    def _last_commits(self, repo: dict[str, Any], sha: str, paths: Iterable[str]) -> dict[str, dict[str, Any]]:
        """For each path (file or folder), the newest commit that changed it (first-parent history)."""
        wanted = set(paths)
        found: dict[str, dict[str, Any]] = {}
        commits = list(self._store.history(repo, sha))
        parents: list[dict[str, Any] | None] = [*commits[1:], None]
        for commit, parent in zip(commits, parents):
            parent_tree: Tree = parent["tree"] if parent else {}
            changed = {
                p for p in set(commit["tree"]) | set(parent_tree) if commit["tree"].get(p) != parent_tree.get(p)
            }
            for path in wanted - set(found):
                if path in changed or any(c.startswith(path + "/") for c in changed):
                    found[path] = {"id": commit["id"], "title": commit["title"], "date": commit["date"]}
            if len(found) == len(wanted):
                break
        return found

    @staticmethod
    def _file_entry_json(path: str, entry: dict[str, Any]) -> dict[str, Any]:
        item: dict[str, Any] = {"type": "file", "oid": entry["oid"], "size": entry["size"], "path": path}
        if entry["lfs"]:
            pointer = _lfs_pointer(entry["sha256"], entry["size"])
            item["lfs"] = {"oid": entry["sha256"], "size": entry["size"], "pointerSize": len(pointer)}
        return item

    @staticmethod
    def _folder_entry_json(path: str, tree: Tree) -> dict[str, Any]:
        sub = sorted((p, e["oid"]) for p, e in tree.items() if p.startswith(path + "/"))
        return {"type": "directory", "oid": hashlib.sha1(json.dumps(sub).encode()).hexdigest(), "path": path}

    def _entries(
        self, repo: dict[str, Any], sha: str, tree: Tree, paths: list[str], expand: bool
    ) -> list[dict[str, Any]]:
        """Tree/paths-info JSON for `paths` (files or folders that exist in `tree`)."""
        folders = {"/".join(p.split("/")[:i]) for p in tree for i in range(1, p.count("/") + 1)}
        items = []
        for path in paths:
            if path in tree:
                items.append(self._file_entry_json(path, tree[path]))
            elif path in folders:
                items.append(self._folder_entry_json(path, tree))
        if expand and items:
            last = self._last_commits(repo, sha, [i["path"] for i in items])
            for item in items:
                if item["path"] in last:
                    item["lastCommit"] = last[item["path"]]
        return items

    def _api_tree(
        self, *, repo_type: str, repo_id: str, rev: str, query: dict[str, list[str]], path: str = "", **_: Any
    ) -> _Response:
        recursive = query.get("recursive", ["false"])[0].lower() in ("true", "1")
        expand = query.get("expand", ["false"])[0].lower() in ("true", "1")
        path = path.strip("/")
        with self._store.lock:
            repo = self._store.get_repo(repo_type, repo_id)
            sha = self._store.resolve(repo, rev)
            tree: Tree = self._store.get_commit(repo, sha)["tree"]
            prefix = path + "/" if path else ""
            below = [p for p in tree if p.startswith(prefix)]
            if path and not below:
                raise HubError(
                    404, f"{path} does not exist on {rev}", code="EntryNotFound", headers={"X-Repo-Commit": sha}
                )
            names: set[str] = set()
            for p in below:
                parts = p[len(prefix) :].split("/")
                depth = len(parts) if recursive else 1
                for i in range(1, depth + 1):
                    names.add(prefix + "/".join(parts[:i]))
            # Folders first, then files, each sorted by path.
            ordered = sorted(names, key=lambda p: (p in tree, p))
            return _json(self._entries(repo, sha, tree, ordered, expand))

    def _api_paths_info(
        self, *, repo_type: str, repo_id: str, rev: str, body: bytes, headers: Any, **_: Any
    ) -> _Response:
        if "json" in headers.get("Content-Type", ""):
            payload = self._json_body(body)
            paths, expand = list(payload.get("paths", [])), bool(payload.get("expand"))
        else:  # the client posts form data: paths=a&paths=b&expand=False
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            paths = form.get("paths", [])
            expand = form.get("expand", ["false"])[0].lower() in ("true", "1")
        with self._store.lock:
            repo = self._store.get_repo(repo_type, repo_id)
            sha = self._store.resolve(repo, rev)
            tree: Tree = self._store.get_commit(repo, sha)["tree"]
            return _json(self._entries(repo, sha, tree, [p.strip("/") for p in paths], expand))

    def _api_refs(self, *, repo_type: str, repo_id: str, query: dict[str, list[str]], **_: Any) -> _Response:
        repo = self._store.get_repo(repo_type, repo_id)
        answer: dict[str, Any] = {
            "branches": [
                {"name": n, "ref": f"refs/heads/{n}", "targetCommit": s} for n, s in sorted(repo["branches"].items())
            ],
            "converts": [],
            "tags": [
                {"name": n, "ref": f"refs/tags/{n}", "targetCommit": t["target"]}
                for n, t in sorted(repo["tags"].items())
            ],
        }
        if query.get("include_prs", ["0"])[0] in ("1", "true", "True"):
            answer["pullRequests"] = [
                {"name": f"refs/pr/{n}", "ref": f"refs/pr/{n}", "targetCommit": s}
                for n, s in sorted(repo["prs"].items(), key=lambda kv: int(kv[0]))
            ]
        return _json(answer)

    def _api_commits(
        self, *, repo_type: str, repo_id: str, rev: str, query: dict[str, list[str]], **_: Any
    ) -> _Response:
        formatted = "formatted" in query.get("expand[]", [])
        with self._store.lock:
            repo = self._store.get_repo(repo_type, repo_id)
            items = []
            for commit in self._store.history(repo, self._store.resolve(repo, rev)):
                item: dict[str, Any] = {
                    "id": commit["id"],
                    "title": commit["title"],
                    "message": commit["message"],
                    "date": commit["date"],
                    "authors": [{"user": user} for user in commit["authors"]],
                }
                if formatted:
                    item["formatted"] = {"title": commit["title"], "message": commit["message"]}
                items.append(item)
        return _json(items)

    # -- /api: branches and tags ---------------------------------------------------------------------------------------

    def _api_create_branch(self, *, repo_type: str, repo_id: str, rev: str, body: bytes, **_: Any) -> _Response:
        payload = self._json_body(body)
        with self._store.lock:
            repo = self._store.get_repo(repo_type, repo_id)
            if rev in repo["branches"]:
                raise HubError(409, f"Reference refs/heads/{rev} already exists")
            start = payload.get("startingPoint") or "main"
            repo["branches"][rev] = self._store.resolve(repo, start)
            self._store.save_repo(repo)
        return _json({})

    def _api_delete_branch(self, *, repo_type: str, repo_id: str, rev: str, **_: Any) -> _Response:
        with self._store.lock:
            repo = self._store.get_repo(repo_type, repo_id)
            if rev not in repo["branches"]:
                raise _revision_not_found(rev)
            if rev == "main":
                raise HubError(403, "Cannot delete the default branch")
            del repo["branches"][rev]
            self._store.save_repo(repo)
        return _json({})

    def _api_create_tag(self, *, repo_type: str, repo_id: str, rev: str, body: bytes, **_: Any) -> _Response:
        payload = self._json_body(body)
        tag = payload.get("tag")
        if not isinstance(tag, str) or not tag:
            raise HubError(400, "Missing tag name")
        with self._store.lock:
            repo = self._store.get_repo(repo_type, repo_id)
            if tag in repo["tags"]:
                raise HubError(409, f"Tag {tag} already exists")
            repo["tags"][tag] = {"target": self._store.resolve(repo, rev), "message": payload.get("message")}
            self._store.save_repo(repo)
        return _json({})

    def _api_delete_tag(self, *, repo_type: str, repo_id: str, rev: str, **_: Any) -> _Response:
        with self._store.lock:
            repo = self._store.get_repo(repo_type, repo_id)
            if rev not in repo["tags"]:
                raise _revision_not_found(rev)
            del repo["tags"][rev]
            self._store.save_repo(repo)
        return _json({})

    # -- file downloads ------------------------------------------------------------------------------------------------

    def _resolve(
        self, *, method: str, repo_type: str, repo_id: str, rev: str, path: str, headers: Any, **_: Any
    ) -> _Response:
        with self._store.lock:
            repo = self._store.get_repo(repo_type, repo_id)
            sha = self._store.resolve(repo, rev)
            entry = self._store.get_commit(repo, sha)["tree"].get(path)
        if entry is None:
            # X-Repo-Commit lets the client cache the miss under .no_exist/<sha>/.
            raise HubError(
                404, f"Entry not found: {path}", code="EntryNotFound", headers={"X-Repo-Commit": sha}
            )
        size = int(entry["size"])
        # ETag = git blob id for regular files, sha256 for LFS files: the client uses it as the cache blob name.
        etag = entry["sha256"] if entry["lfs"] else entry["oid"]
        out_headers = {"X-Repo-Commit": sha, "ETag": f'"{etag}"', "Accept-Ranges": "bytes"}
        if entry["lfs"]:
            out_headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(size)})
        start, end, status = 0, size, 200
        range_header = headers.get("Range")
        if range_header:
            parsed = self._parse_range(range_header, size)
            if parsed is None:
                raise HubError(416, f"Invalid range {range_header!r}", headers={"Content-Range": f"bytes */{size}"})
            start, end = parsed
            status = 206
            out_headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        if method == "HEAD":
            # No body, but the real length: a HEAD advertising 0 bytes makes the client cache an empty file.
            return _Response(status, headers=out_headers, content_type="application/octet-stream", length=end - start)
        with self._store.blob_path(entry["sha256"]).open("rb") as f:
            f.seek(start)
            data = f.read(end - start)
        return _Response(status, body=data, headers=out_headers, content_type="application/octet-stream")

    @staticmethod
    def _parse_range(value: str, size: int) -> tuple[int, int] | None:
        """Parse a single `bytes=a-b` / `bytes=a-` / `bytes=-n` range into [start, end); None if unsatisfiable."""
        match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", value)
        if match is None or match.group(1) == match.group(2) == "":
            return None
        if match.group(1) == "":
            start, end = max(size - int(match.group(2)), 0), size
        else:
            start = int(match.group(1))
            end = min(int(match.group(2)) + 1, size) if match.group(2) else size
        if start >= size or start >= end:
            return None
        return start, end


# ----------------------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run a LocalHub in the foreground: ``python -m ganzoo.testing.hub_server --root DIR --port N``."""
    parser = argparse.ArgumentParser(
        prog="python -m ganzoo.testing.hub_server",
        description="Serve a local, Hugging Face Hub-compatible server (for tests and CI; no authentication).",
    )
    parser.add_argument("--root", required=True, help="folder holding the repos (created if missing, reused if not)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: 0 = any free port)")
    parser.add_argument(
        "--upload-mode", choices=("regular", "lfs"), default="regular",
        help="'lfs' needs clients with HF_HUB_DISABLE_XET=1 (default: regular)",
    )
    parser.add_argument("--user", default="local-user", help="user name answered by whoami (default: local-user)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    hub = LocalHub(args.root, host=args.host, port=args.port, upload_mode=args.upload_mode, user=args.user)
    stop_requested = threading.Event()
    # SIGTERM (kill, CI teardown) stops cleanly like Ctrl-C; installed first so no moment is left uncovered.
    signal.signal(signal.SIGTERM, lambda signum, frame: stop_requested.set())
    try:
        hub.start()
        # The URL on stdout (flushed) lets scripts start the server in the background and read where it listens.
        print(f"LocalHub serving {Path(args.root).resolve()} at {hub.url}  (export HF_ENDPOINT={hub.url})", flush=True)
        while not stop_requested.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
