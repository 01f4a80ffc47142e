"""The on-disk store behind :class:`~ganzoo.testing.hub_server.LocalHub`: model repos, commits and blobs.

Layout under the root folder::

    blobs/<sha256[:2]>/<sha256>               file contents, content-addressed
    repos/<ns>/<name>/repo.json               {"id", "private", "createdAt", "lastModified", "branches", "tags"}
    repos/<ns>/<name>/commits/<sha>.json      {"id", "parents", "tree", "title", "message", "date", "authors"}

A tree maps each file path to ``{"sha256", "size", "lfs", "oid"}``; ``oid`` is the git blob id the Hub reports
(of the LFS pointer for LFS files). Standard library only.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import itertools
import json
import os
import re
import threading
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["Store", "StoreError", "Tree", "DEFAULT_GITATTRIBUTES", "git_blob_sha1", "lfs_pointer"]

#: The `.gitattributes` file of the initial commit of every new repo, as on the real Hub (abridged).
DEFAULT_GITATTRIBUTES = (
    "*.bin filter=lfs diff=lfs merge=lfs -text\n"
    "*.ckpt filter=lfs diff=lfs merge=lfs -text\n"
    "*.pt filter=lfs diff=lfs merge=lfs -text\n"
    "*.pth filter=lfs diff=lfs merge=lfs -text\n"
    "*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
)

SHA1_RE = re.compile(r"[0-9a-f]{40}")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
Tree = dict[str, dict[str, Any]]


class StoreError(Exception):
    """An error answered to the client: HTTP status, message and the Hub's `X-Error-Code` (if any)."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


def repo_not_found(repo_id: str) -> StoreError:
    return StoreError(404, f"Repository models/{repo_id} not found", code="RepoNotFound")


def revision_not_found(revision: str) -> StoreError:
    return StoreError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")


def git_blob_sha1(data: bytes) -> str:
    """Git object id of a blob: what the Hub reports as `oid`/`blobId`/ETag for regular files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file stored in git in place of an LFS file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def now_iso() -> str:
    """Current UTC time in the Hub's date format (`2024-01-31T12:34:56.789Z`)."""
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


class Store:
    """Repos, commits and blobs on disk under `root`. Every public method holds the (re-entrant) lock."""

    def __init__(self, root: Path, user: str) -> None:
        self.root = root
        self.user = user
        self.lock = threading.RLock()
        self._counter = itertools.count()  # makes commit ids unique even for identical commits in the same ms
        (root / "blobs").mkdir(parents=True, exist_ok=True)
        (root / "repos").mkdir(parents=True, exist_ok=True)

    # -- blobs -------------------------------------------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        return self.root / "blobs" / sha256[:2] / sha256

    def has_blob(self, sha256: str) -> bool:
        return bool(SHA256_RE.fullmatch(sha256)) and self.blob_path(sha256).is_file()

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
        oid = git_blob_sha1(lfs_pointer(sha256, len(data))) if lfs else git_blob_sha1(data)
        return {"sha256": sha256, "size": len(data), "lfs": lfs, "oid": oid}

    # -- repos -------------------------------------------------------------------------------------------------

    def _repo_dir(self, repo_id: str) -> Path:
        parts = repo_id.split("/")
        if len(parts) != 2 or not all(re.fullmatch(r"[A-Za-z0-9][\w.\-]*", p) for p in parts):
            raise StoreError(400, f"Invalid repo id {repo_id!r}: expected 'namespace/name'")
        return self.root / "repos" / parts[0] / parts[1]

    def get_repo(self, repo_id: str) -> dict[str, Any]:
        with self.lock:
            path = self._repo_dir(repo_id) / "repo.json"
            if not path.is_file():
                raise repo_not_found(repo_id)
            return json.loads(path.read_text(encoding="utf-8"))

    def save_repo(self, repo: dict[str, Any]) -> None:
        with self.lock:
            _write_json_atomic(self._repo_dir(repo["id"]) / "repo.json", repo)

    def repo_exists(self, repo_id: str) -> bool:
        with self.lock:
            return (self._repo_dir(repo_id) / "repo.json").is_file()

    def create_repo(self, repo_id: str, *, private: bool = False) -> bool:
        """Create a repo with an initial commit holding `.gitattributes`; False if it already exists."""
        with self.lock:
            if self.repo_exists(repo_id):
                return False
            now = now_iso()
            repo: dict[str, Any] = {"id": repo_id, "private": private, "createdAt": now, "lastModified": now,
                                    "branches": {}, "tags": {}}
            tree = {".gitattributes": self.make_entry(DEFAULT_GITATTRIBUTES.encode(), lfs=False)}
            repo["branches"]["main"] = self._write_commit(repo, tree, parents=[], title="initial commit", message="")
            self.save_repo(repo)
            return True

    # -- commits -----------------------------------------------------------------------------------------------

    def _write_commit(self, repo: dict[str, Any], tree: Tree, *, parents: list[str], title: str, message: str) -> str:
        date = now_iso()
        # Unique per commit: identical trees committed twice still get distinct ids (cache pointers stay correct).
        seed = json.dumps([tree, parents, title, message, date, next(self._counter), uuid.uuid4().hex], sort_keys=True)
        sha = hashlib.sha1(seed.encode()).hexdigest()
        commit = {"id": sha, "parents": parents, "tree": tree, "title": title, "message": message, "date": date,
                  "authors": [self.user]}
        _write_json_atomic(self._repo_dir(repo["id"]) / "commits" / f"{sha}.json", commit)
        repo["lastModified"] = date
        return sha

    def get_commit(self, repo: dict[str, Any], sha: str) -> dict[str, Any]:
        with self.lock:
            path = self._repo_dir(repo["id"]) / "commits" / f"{sha}.json"
            if not SHA1_RE.fullmatch(sha) or not path.is_file():
                raise revision_not_found(sha)
            return json.loads(path.read_text(encoding="utf-8"))

    def resolve(self, repo: dict[str, Any], revision: str) -> str:
        """Resolve a branch, tag, ``refs/heads/*``, ``refs/tags/*`` or full commit id to a commit id."""
        rev = revision
        for prefix, kind in (("refs/heads/", "branches"), ("refs/tags/", "tags")):
            if rev.startswith(prefix) and rev[len(prefix):] in repo[kind]:
                rev = rev[len(prefix):]
        if rev in repo["branches"]:
            return repo["branches"][rev]
        if rev in repo["tags"]:
            return repo["tags"][rev]["target"]
        if SHA1_RE.fullmatch(rev):
            self.get_commit(repo, rev)  # raises RevisionNotFound for unknown ids
            return rev
        raise revision_not_found(revision)

    def tree_at(self, repo_id: str, revision: str) -> tuple[str, Tree]:
        """``(commit id, tree)`` of a repo at a revision."""
        with self.lock:
            repo = self.get_repo(repo_id)
            sha = self.resolve(repo, revision)
            return sha, self.get_commit(repo, sha)["tree"]

    def commit(self, repo_id: str, revision: str, operations: Iterable[tuple[str, str, dict[str, Any] | None]], *,
               title: str, message: str = "", parent_commit: str | None = None) -> str:
        """Apply ``(kind, path, entry)`` operations (``"add"`` with a tree entry, ``"delete"``) on top of branch
        `revision` and record a commit; return its id."""
        with self.lock:
            repo = self.get_repo(repo_id)
            branch = revision[len("refs/heads/"):] if revision.startswith("refs/heads/") else revision
            if branch not in repo["branches"]:
                raise StoreError(404, f"Invalid rev id: {revision} (commits must target a branch)",
                                 code="RevisionNotFound")
            head = repo["branches"][branch]
            if parent_commit is not None and parent_commit != head:
                raise StoreError(412, f"A commit has happened since {parent_commit}. Please refresh and try again.")
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
                elif path in tree:
                    del tree[path]
                else:
                    raise StoreError(404, f"A file with this name doesn't exist: {path}", code="EntryNotFound",
                                     headers={"X-Repo-Commit": head})
            sha = self._write_commit(repo, tree, parents=[head], title=title, message=message)
            repo["branches"][branch] = sha
            self.save_repo(repo)
            return sha

    def create_ref(self, repo_id: str, kind: str, name: str, start: str, message: str | None = None) -> None:
        """Create branch or tag ``name`` at revision ``start`` (409 if it exists)."""
        with self.lock:
            repo = self.get_repo(repo_id)
            if name in repo[kind]:
                raise StoreError(409, f"Reference {name} already exists")
            target = self.resolve(repo, start)
            repo[kind][name] = target if kind == "branches" else {"target": target, "message": message}
            self.save_repo(repo)
