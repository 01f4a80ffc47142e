"""The Hub endpoints :class:`~ganzoo.testing.hub_server.LocalHub` answers (its HTTP handlers, as a mixin).

Each handler takes the parsed request (path parameters, query, body, headers, the base URL the client used) and
returns a :class:`Response`; :class:`~ganzoo.testing.hub_store.StoreError` becomes the Hub's error answer
(status, ``X-Error-Code``, ``X-Error-Message``). What the client needs from each answer is noted where it matters.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

import yaml

from .hub_store import SHA256_RE, Store, StoreError, Tree, lfs_pointer

__all__ = ["HubRoutes", "Response", "parse_card_metadata", "UNSAFE"]

UNSAFE = "../../../../ganzoo-escaped"  # what a hostile endpoint answers where the client expects a hash
# Same front-matter regex as `huggingface_hub.repocard.REGEX_YAML_BLOCK`.
_YAML_BLOCK_RE = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")


def parse_card_metadata(readme: str) -> dict[str, Any]:
    """The YAML front matter of a model card (``{}`` without one).

    Raises:
        ValueError: the front matter is not valid YAML or not a mapping (what the Hub rejects).
    """
    match = _YAML_BLOCK_RE.search(readme)
    if match is None:
        return {}
    try:
        data = yaml.safe_load(match.group(2))
    except yaml.YAMLError as err:
        raise ValueError(f"Invalid YAML in README.md metadata: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"README.md metadata must be a YAML mapping, got {type(data).__name__}.")
    return data


@dataclasses.dataclass
class Response:
    """What a route handler answers. `length` overrides Content-Length (HEAD advertises the size, sends no body)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    content_type: str = "application/json"
    length: int | None = None


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    # default=str: card metadata may hold YAML dates, which JSON cannot encode natively.
    return Response(status=status, body=json.dumps(data, default=str).encode(), headers=dict(headers or {}))


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise StoreError(400, f"Invalid JSON body: {err}") from err


Route = tuple[str, re.Pattern[str], Callable[..., Response]]


class HubRoutes:
    """The endpoints, for a class that provides ``_store`` (:class:`Store`), ``user``, ``upload_mode`` and
    ``fault``."""

    _store: Store
    user: str
    upload_mode: str
    fault: str | None

    # -- request dispatch ----------------------------------------------------------------------------------------

    def _build_routes(self) -> list[Route]:
        repo = r"(?P<ns>[^/]+)/(?P<name>[^/]+)"
        rev = r"(?P<rev>[^/]+)"
        table: list[tuple[str, str, Callable[..., Response]]] = [
            ("POST", r"/api/repos/create", self._api_create_repo),
            ("POST", r"/api/validate-yaml", self._api_validate_yaml),
            ("GET", rf"/api/models/{repo}", self._api_repo_info),
            ("GET", rf"/api/models/{repo}/revision/{rev}", self._api_repo_info),
            ("POST", rf"/api/models/{repo}/preupload/{rev}", self._api_preupload),
            ("POST", rf"/api/models/{repo}/commit/{rev}", self._api_commit),
            ("GET", rf"/api/models/{repo}/refs", self._api_refs),
            ("POST", rf"/api/models/{repo}/branch/{rev}", self._api_create_branch),
            ("POST", rf"/api/models/{repo}/tag/{rev}", self._api_create_tag),
            ("GET", rf"/api/models/{repo}/xet-write-token/{rev}", self._api_xet_token),
            ("POST", rf"/{repo}\.git/info/lfs/objects/batch", self._lfs_batch),
            ("PUT", r"/lfs-upload/(?P<oid>[0-9a-f]{64})", self._lfs_upload),
            ("POST", r"/lfs-verify/(?P<oid>[0-9a-f]{64})", self._lfs_verify),
            ("HEAD", rf"/{repo}/resolve/{rev}/(?P<path>.+)", self._resolve),
            ("GET", rf"/{repo}/resolve/{rev}/(?P<path>.+)", self._resolve),
        ]
        return [(method, re.compile(pattern), handler) for method, pattern, handler in table]

    def _handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes, headers: Any,
                base_url: str) -> Response:
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path) if route_method == method else None
            if match is None:
                continue
            # Path segments arrive URL-quoted (a revision's "/" as %2F): unquote each captured group.
            params = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
            if "ns" in params:
                params["repo_id"] = f"{params.pop('ns')}/{params.pop('name')}"
            return handler(method=method, query=query, body=body, headers=headers, base_url=base_url, **params)
        # Unknown endpoints (telemetry, what is not implemented) are a plain 404: the client treats them as optional.
        return _json({"error": f"LocalHub does not implement {method} {path}"}, status=404)

    @staticmethod
    def _error_response(err: StoreError) -> Response:
        headers = dict(err.headers)
        # Headers must be latin-1; the client shows X-Error-Message in its exception text.
        headers["X-Error-Message"] = err.message.encode("ascii", "replace").decode()
        if err.code is not None:
            headers["X-Error-Code"] = err.code
        return _json({"error": err.message}, status=err.status, headers=headers)

    # -- /api ----------------------------------------------------------------------------------------------------

    def _api_create_repo(self, *, body: bytes, base_url: str, **_: Any) -> Response:
        payload = _json_body(body)
        if (payload.get("type") or "model") != "model":
            raise StoreError(400, "LocalHub only serves model repos")
        name = payload.get("name")
        if not isinstance(name, str) or not name:
            raise StoreError(400, "Missing repo name")
        repo_id = f"{payload.get('organization') or self.user}/{name}"
        private = payload.get("private") or payload.get("visibility") == "private"
        url = f"{base_url}/{repo_id}"
        if not self._store.create_repo(repo_id, private=bool(private)):
            # The client reads "url" from the 409 body too when exist_ok=True.
            return _json({"error": "You already created this model repo", "url": url}, status=409)
        return _json({"url": url, "name": repo_id, "id": repo_id})

    def _api_validate_yaml(self, *, body: bytes, **_: Any) -> Response:
        payload = _json_body(body)
        try:
            parse_card_metadata(str(payload.get("content") or ""))
        except ValueError as err:
            # Always JSON: the client calls .json() before checking the status.
            return _json({"errors": [{"message": str(err)}], "warnings": []}, status=400)
        return _json({"errors": [], "warnings": []})

    def _api_repo_info(self, *, repo_id: str, query: dict[str, list[str]], rev: str = "main", **_: Any) -> Response:
        """The `ModelInfo` JSON of a repo at a revision (siblings with sizes and blob ids with ``?blobs=True``)."""
        with self._store.lock:
            repo = self._store.get_repo(repo_id)
            sha = self._store.resolve(repo, rev)
            commit = self._store.get_commit(repo, sha)
        tree: Tree = commit["tree"]
        card: dict[str, Any] | None = None
        if "README.md" in tree:
            text = self._store.read_blob(tree["README.md"]["sha256"]).decode("utf-8", "replace")
            with contextlib.suppress(ValueError):
                card = parse_card_metadata(text)
        raw_tags = (card or {}).get("tags") or []
        tags = [str(t) for t in ([raw_tags] if isinstance(raw_tags, str) else raw_tags)]
        info: dict[str, Any] = {"_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "id": repo_id,
                                "author": repo_id.split("/")[0], "sha": sha, "lastModified": commit["date"],
                                "createdAt": repo["createdAt"], "private": repo["private"], "gated": False,
                                "disabled": False, "downloads": 0, "likes": 0, "tags": tags}
        if card:
            info["cardData"] = card
            if isinstance(card.get("library_name"), str):
                info["library_name"] = card["library_name"]
        blobs = query.get("blobs", ["false"])[0].lower() == "true"
        info["siblings"] = []
        for path in sorted(tree):
            entry, sibling = tree[path], {"rfilename": path}
            if blobs:  # like the Hub: sizes and blob ids only with ?blobs=True (files_metadata=True)
                sibling.update(size=entry["size"], blobId=entry["oid"])
                if entry["lfs"]:
                    pointer = lfs_pointer(entry["sha256"], entry["size"])
                    sibling["lfs"] = {"size": entry["size"], "sha256": entry["sha256"], "pointerSize": len(pointer)}
            info["siblings"].append(sibling)
        return _json(info)

    def _api_preupload(self, *, repo_id: str, rev: str, body: bytes, **_: Any) -> Response:
        payload = _json_body(body)
        tree = self._store.tree_at(repo_id, rev)[1]
        files = []
        for item in payload.get("files", []):
            size = int(item.get("size") or 0)
            entry = tree.get(item["path"])
            # The client skips files whose remote oid equals its local one: sha256 for LFS, git blob id otherwise.
            oid = None if entry is None else (entry["sha256"] if entry["lfs"] else entry["oid"])
            mode = "lfs" if self.upload_mode == "lfs" and size else "regular"
            files.append({"path": item["path"], "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        return _json({"files": files, "commitOid": None})

    def _api_commit(self, *, repo_id: str, rev: str, query: dict[str, list[str]], body: bytes, base_url: str,
                    **_: Any) -> Response:
        if query.get("create_pr", ["0"])[0] in ("1", "true", "True"):
            raise StoreError(400, "LocalHub does not implement pull requests")
        header: dict[str, Any] = {}
        ops: list[tuple[str, str, dict[str, Any] | None]] = []
        for line in body.splitlines():
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                key, value = item["key"], item["value"]
            except (json.JSONDecodeError, KeyError, TypeError) as err:
                raise StoreError(400, f"Invalid commit payload line: {err}") from err
            if key == "header":
                header = value
            elif key == "file":
                try:
                    data = base64.b64decode(value["content"], validate=True)
                except (binascii.Error, ValueError, KeyError) as err:
                    raise StoreError(400, f"Invalid base64 content for {value.get('path')}") from err
                ops.append(("add", value["path"], self._store.make_entry(data, lfs=False)))
            elif key == "lfsFile":
                oid, size = value["oid"], int(value["size"])
                if value.get("algo", "sha256") != "sha256" or not self._store.has_blob(oid):
                    raise StoreError(400, f"LFS object {oid} for {value['path']} was not uploaded")
                if self._store.blob_path(oid).stat().st_size != size:
                    raise StoreError(400, f"LFS object {oid} has a different size than {size}")
                ops.append(("add", value["path"], self._store.make_entry(self._store.read_blob(oid), lfs=True)))
            elif key == "deletedFile":
                ops.append(("delete", value["path"], None))
            else:
                raise StoreError(400, f"LocalHub does not implement the commit operation {key!r}")
        sha = self._store.commit(repo_id, rev, ops, title=str(header.get("summary") or "Commit with LocalHub"),
                                 message=str(header.get("description") or ""),
                                 parent_commit=header.get("parentCommit"))
        return _json({"success": True, "commitOid": sha, "commitUrl": f"{base_url}/{repo_id}/commit/{sha}"})

    def _api_refs(self, *, repo_id: str, **_: Any) -> Response:
        repo = self._store.get_repo(repo_id)
        return _json({
            "branches": [{"name": n, "ref": f"refs/heads/{n}", "targetCommit": s}
                         for n, s in sorted(repo["branches"].items())],
            "converts": [],
            "tags": [{"name": n, "ref": f"refs/tags/{n}", "targetCommit": t["target"]}
                     for n, t in sorted(repo["tags"].items())],
        })

    def _api_create_branch(self, *, repo_id: str, rev: str, body: bytes, **_: Any) -> Response:
        self._store.create_ref(repo_id, "branches", rev, _json_body(body).get("startingPoint") or "main")
        return _json({})

    def _api_create_tag(self, *, repo_id: str, rev: str, body: bytes, **_: Any) -> Response:
        payload = _json_body(body)
        tag = payload.get("tag")
        if not isinstance(tag, str) or not tag:
            raise StoreError(400, "Missing tag name")
        self._store.create_ref(repo_id, "tags", tag, rev, payload.get("message"))
        return _json({})

    def _api_xet_token(self, **_: Any) -> Response:
        message = ("LocalHub does not implement Xet storage. Run the client with HF_HUB_DISABLE_XET=1 to upload LFS "
                   "files through the LFS batch API.")
        return _json({"error": message}, status=501, headers={"X-Error-Message": message})

    # -- LFS -----------------------------------------------------------------------------------------------------

    def _lfs_batch(self, *, body: bytes, base_url: str, **_: Any) -> Response:
        payload = _json_body(body)
        if payload.get("operation", "upload") != "upload":
            raise StoreError(400, "LocalHub only implements LFS uploads (downloads go through /resolve)")
        objects = []
        for obj in payload.get("objects", []):
            oid, size = str(obj["oid"]), int(obj["size"])
            answer: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
            if not SHA256_RE.fullmatch(oid):
                answer["error"] = {"code": 422, "message": f"Invalid oid {oid!r}"}
            elif not self._store.has_blob(oid):  # no "actions" tells the client the object is already stored
                answer["actions"] = {"upload": {"href": f"{base_url}/lfs-upload/{oid}"},
                                     "verify": {"href": f"{base_url}/lfs-verify/{oid}"}}
            objects.append(answer)
        return Response(body=json.dumps({"transfer": "basic", "objects": objects, "hash_algo": "sha256"}).encode(),
                         content_type="application/vnd.git-lfs+json")

    def _lfs_upload(self, *, oid: str, body: bytes, **_: Any) -> Response:
        if hashlib.sha256(body).hexdigest() != oid:
            raise StoreError(400, f"Uploaded content does not match oid {oid}")
        self._store.put_blob(body)
        return Response(body=b"", content_type="text/plain")

    def _lfs_verify(self, *, oid: str, body: bytes, **_: Any) -> Response:
        payload = _json_body(body)
        if not self._store.has_blob(oid):
            raise StoreError(404, f"LFS object {oid} not found")
        size = self._store.blob_path(oid).stat().st_size
        if "size" in payload and size != int(payload["size"]):
            raise StoreError(422, f"LFS object {oid} has a different size")
        return _json({"oid": oid, "size": size})

    # -- file downloads ------------------------------------------------------------------------------------------

    def _resolve(self, *, method: str, repo_id: str, rev: str, path: str, headers: Any, **_: Any) -> Response:
        sha, tree = self._store.tree_at(repo_id, rev)
        entry = tree.get(path)
        if entry is None:
            # X-Repo-Commit lets the client cache the miss under .no_exist/<sha>/.
            raise StoreError(404, f"Entry not found: {path}", code="EntryNotFound", headers={"X-Repo-Commit": sha})
        size = int(entry["size"])
        # ETag = git blob id for regular files, sha256 for LFS files: the client uses it as the cache blob name.
        etag = UNSAFE if self.fault == "unsafe-etag" else (entry["sha256"] if entry["lfs"] else entry["oid"])
        out = {"X-Repo-Commit": sha, "ETag": f'"{etag}"', "Accept-Ranges": "bytes"}
        if entry["lfs"]:
            out.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(size)})
        start, end, status = 0, size, 200
        if headers.get("Range"):
            match = re.fullmatch(r"\s*bytes=(\d+)-(\d*)\s*", headers["Range"])
            start = int(match.group(1)) if match else size
            end = min(int(match.group(2)) + 1, size) if match and match.group(2) else size
            if start >= end:
                raise StoreError(416, f"Invalid range {headers['Range']!r}",
                                 headers={"Content-Range": f"bytes */{size}"})
            status = 206
            out["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        if method == "HEAD":
            # No body, but the real length: a HEAD advertising 0 bytes makes the client cache an empty file.
            return Response(status, headers=out, content_type="application/octet-stream", length=end - start)
        with self._store.blob_path(entry["sha256"]).open("rb") as f:
            f.seek(start)
            data = f.read(end - start)
        return Response(status, body=data, headers=out, content_type="application/octet-stream")
