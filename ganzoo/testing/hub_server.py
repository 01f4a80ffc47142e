"""A small Hugging Face Hub-compatible HTTP server for offline tests of pushing and pulling models.

`LocalHub` speaks the part of the Hub protocol that publishing and loading model repos uses, for the real
``huggingface_hub`` client (2.x): create a repo, validate card metadata, pre-upload, commit (files inline or
through the LFS batch API), download (``HEAD``/``GET /resolve``, with ranges), repo info at a revision, refs, and
branch and tag creation. It can also misbehave on purpose (:attr:`LocalHub.offline`, :attr:`LocalHub.fault`: an
outage, a hung server, hostile headers), so that a client's handling of faults is tested through the real
client. Storage is on disk under one root folder (:mod:`ganzoo.testing.hub_store`); the endpoints are in
:mod:`ganzoo.testing.hub_routes`; this module has the HTTP server, the faults and the command line.

Typical use in a test suite::

    from huggingface_hub import HfApi, hf_hub_download
    from ganzoo.testing.hub_server import LocalHub, configure_client

    with LocalHub(tmp_path / "hub") as hub:
        configure_client(hub.url)            # huggingface_hub was imported before: point it at the server
        api = HfApi(endpoint=hub.url)
        api.create_repo("me/tiny")
        api.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id="me/tiny")
        hf_hub_download("me/tiny", "config.json")

Better: set ``HF_ENDPOINT`` to the server URL *before* ``huggingface_hub`` is imported (at the top of
``conftest.py``, with a port from :func:`reserve_port`), because the client freezes its endpoint at import.

Not implemented, by design (ganzoo and its plugins do not need them): dataset and Space repos, listings (``tree``,
``paths-info``, ``list_models``, commit history, so no ``snapshot_download``), repo deletion and settings,
pull requests, deleting refs, ``whoami``, authentication (tokens are accepted and ignored), Xet storage (clients must
run with ``HF_HUB_DISABLE_XET=1`` when :attr:`LocalHub.upload_mode` is ``"lfs"``), pagination.
Standard library only (plus PyYAML, a ganzoo dependency, to validate card metadata).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from .hub_routes import UNSAFE, HubRoutes, Response, _json, parse_card_metadata
from .hub_store import Store, StoreError, Tree

__all__ = ["LocalHub", "RequestRecord", "UploadMode", "OfflineMode", "Fault", "configure_client", "reserve_port",
           "parse_card_metadata", "main"]

logger = logging.getLogger(__name__)

UploadMode = Literal["regular", "lfs"]
OfflineMode = Literal["error", "drop", "refuse"]
Fault = Literal["hang", "unsafe-etag", "unsafe-commit"]
_FAULTS = ("hang", "unsafe-etag", "unsafe-commit")
# Answered while offline in "error" mode: a 5xx the client does not retry (408/429/500/502/503/504 are retried
# with ~23 s of backoff), the status captive portals use for "no network access".
_OFFLINE_STATUS = 511


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

    ``huggingface_hub`` reads ``HF_ENDPOINT`` once, at import. This patches the frozen values instead:
    ``constants.ENDPOINT``, ``constants.HUGGINGFACE_CO_URL_TEMPLATE``, the endpoint of the module-level ``HfApi``
    behind ``huggingface_hub.model_info``/``upload_file``/… and the sets of trusted Hub hosts, then exports
    ``HF_ENDPOINT`` for subprocesses. ``HfApi`` objects created *before* this call keep their old endpoint.
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


@dataclasses.dataclass(frozen=True)
class RequestRecord:
    """One request served by `LocalHub` (see `LocalHub.requests`).

    `path` is the raw, still URL-quoted request path; `query` the raw query string; `status` the HTTP status
    answered, or 0 when the connection was closed without an answer (offline ``"drop"``, fault ``"hang"``).
    """

    method: str
    path: str
    query: str
    status: int


# ----------------------------------------------------------------------------------------------------------------------
# HTTP layer


class _HubHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers its open connections, so `stop()` can close keep-alive sockets."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # clients open several connections at once; the default backlog of 5 drops SYNs

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

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

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
        if hub.fault == "hang":
            # Accept, read, never answer: the client waits until its timeouts (or the fault is cleared).
            hub._hang(self.server)
            hub._record(RequestRecord(method, split.path, split.query, 0))
            self.close_connection = True
            return
        if hub.offline:  # offline_mode == "error"
            response = hub._error_response(StoreError(_OFFLINE_STATUS, "LocalHub is offline (simulated network "
                                                                        "failure)", code="LocalHubOffline"))
        else:
            # URLs in answers (repo URL, LFS hrefs) use the host the client reached us on.
            base_url = f"http://{self.headers['Host']}" if self.headers.get("Host") else hub.url
            try:
                response = hub._handle(method, split.path, parse_qs(split.query), body, self.headers, base_url)
            except StoreError as err:
                response = hub._error_response(err)
            except Exception as err:  # a bug in the server: answer 500 with the traceback, keep serving
                logger.exception("LocalHub failed on %s %s", method, self.path)
                hub.errors.append(traceback.format_exc())
                response = _json({"error": f"LocalHub internal error: {err!r}"}, status=500)
        if hub.fault == "unsafe-commit" and "X-Repo-Commit" in response.headers:
            response.headers["X-Repo-Commit"] = UNSAFE
        hub._record(RequestRecord(method, split.path, split.query, response.status))
        self._write(method, response)

    def _write(self, method: str, response: Response) -> None:
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




class LocalHub(HubRoutes):
    """A Hugging Face Hub-compatible HTTP server on localhost, backed by a folder on disk.

    Args:
        root: folder holding the repos, commits and blobs. Reusing a folder keeps its repos. ``None`` uses a
            temporary folder removed when the object is garbage collected.
        host: interface to bind (default ``127.0.0.1``).
        port: TCP port; 0 (default) picks a free one at the first `start`. Later restarts reuse that port.
        upload_mode: what the preupload endpoint answers for non-empty files: ``"regular"`` (bytes travel inside the
            commit, works with any client) or ``"lfs"`` (LFS batch API + PUT; the client must run with
            ``HF_HUB_DISABLE_XET=1``). Can be changed at any time.
        offline_mode: how the server behaves while `offline` is True (see there).
        user: the namespace of repos created without one.

    Attributes:
        requests: every request served, in order (`RequestRecord`); reset with `clear_requests`.
        errors: tracebacks of internal server errors (answered as HTTP 500); should stay empty.
        fault: a misbehaviour to inject, or None (see :attr:`fault`).
    """

    def __init__(self, root: str | os.PathLike[str] | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 upload_mode: UploadMode = "regular", offline_mode: OfflineMode = "error",
                 user: str = "local-user") -> None:
        if upload_mode not in ("regular", "lfs"):
            raise ValueError(f"upload_mode must be 'regular' or 'lfs', got {upload_mode!r}")
        if offline_mode not in ("error", "drop", "refuse"):
            raise ValueError(f"offline_mode must be 'error', 'drop' or 'refuse', got {offline_mode!r}")
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if root is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="localhub-")
            root = self._tmpdir.name
        self.root = Path(root)
        self.host, self.port, self.user = host, port, user
        self.upload_mode: UploadMode = upload_mode
        self.offline_mode: OfflineMode = offline_mode
        self.requests: list[RequestRecord] = []
        self.errors: list[str] = []
        self._store = Store(self.root, user)
        self._server: _HubHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._started = False  # start() called and stop() not yet: the socket may still be closed by "refuse"
        self._offline = False
        self._refusing = False  # the listening socket is closed because of offline_mode="refuse"
        self._fault: Fault | None = None
        self._release = threading.Event()  # set: hung requests return
        self._release.set()
        self._lifecycle_lock = threading.RLock()
        self._log_lock = threading.Lock()
        self._routes = self._build_routes()

    # -- lifecycle -----------------------------------------------------------------------------------------------

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
        """Stop serving, release hung requests, close every open connection and the port. Safe to call twice."""
        with self._lifecycle_lock:
            self._started = False
            self._release.set()
            self._unbind()

    def _bind(self) -> None:
        server = _HubHTTPServer((self.host, self.port), self)
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"LocalHub:{self.port}", daemon=True)
        self._thread.start()

    def _unbind(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        # shutdown() only ends the accept loop: handler threads would keep serving keep-alive connections.
        if server.close_open_sockets():
            # Give the client a moment to see the FINs, so its pool drops those connections instead of sending the
            # next request on one of them (RemoteProtocolError instead of a clean ConnectError).
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

    # -- faults --------------------------------------------------------------------------------------------------

    @property
    def offline(self) -> bool:
        """Simulate an unreachable Hub (set to True), then bring it back (False). Behaviour per `offline_mode`:

        - ``"error"`` (default): every request is answered ``511``, a 5xx the client does *not* retry: downloads
          fall back to the cache fast, API calls raise ``HfHubHTTPError``.
        - ``"refuse"``: the listening socket is closed (the same port reopens when back online): connections are
          refused, as on a machine without network.
        - ``"drop"``: each request is answered by closing the connection (``RemoteProtocolError``).

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
            if value and self.offline_mode == "refuse":
                self._refusing = True
                self._unbind()
            elif not value and self._refusing:
                self._refusing = False
                if self._started:
                    self._bind()  # same port as before

    @property
    def fault(self) -> Fault | None:
        """A misbehaviour the server injects until reset to None:

        - ``"hang"``: accept every connection, read the request, never answer (a hung Hub or proxy). Setting the
          fault back to None (or stopping the server) closes those connections without an answer.
        - ``"unsafe-etag"``: file downloads advertise ``ETag: "../../../../ganzoo-escaped"`` (the client would name
          a cache file after it).
        - ``"unsafe-commit"``: every ``X-Repo-Commit`` header says ``../../../../ganzoo-escaped``.
        """
        return self._fault

    @fault.setter
    def fault(self, value: Fault | None) -> None:
        if value is not None and value not in _FAULTS:
            raise ValueError(f"fault must be one of {_FAULTS} or None, got {value!r}")
        with self._lifecycle_lock:
            self._fault = value
            if value == "hang":
                self._release.clear()
            else:
                self._release.set()

    @contextlib.contextmanager
    def inject(self, fault: Fault) -> Any:
        """``with hub.inject("hang"): ...`` — the fault for the block only."""
        self.fault = fault
        try:
            yield self
        finally:
            self.fault = None

    def _hang(self, server: _HubHTTPServer) -> None:
        while not self._release.wait(0.1):
            if self._server is not server:  # stopped or restarted meanwhile
                return

    # -- test helpers (no HTTP) ----------------------------------------------------------------------------------

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._log_lock:
            self.requests.clear()

    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self.requests.append(record)

    def create_repo(self, repo_id: str, *, private: bool = False, exist_ok: bool = True) -> None:
        """Create a repo directly, with the same initial `.gitattributes` commit as over HTTP."""
        if not self._store.create_repo(repo_id, private=private) and not exist_ok:
            raise FileExistsError(f"Repo {repo_id} already exists")

    def repo_exists(self, repo_id: str) -> bool:
        """Whether the repo exists on this hub."""
        return self._store.repo_exists(repo_id)

    def commit_files(self, repo_id: str, files: Mapping[str, bytes], *, message: str = "Commit files with LocalHub",
                     revision: str = "main", delete: Iterable[str] = (), lfs: bool | None = None) -> str:
        """Commit `files` ({path in repo: content}) directly and return the new commit id.

        The repo is created if missing; `delete` lists paths to remove in the same commit. Files are stored as LFS
        when `lfs` is True, regular when False, and per `upload_mode` when None.
        """
        self._store.create_repo(repo_id)
        as_lfs = (self.upload_mode == "lfs") if lfs is None else lfs
        ops: list[tuple[str, str, dict[str, Any] | None]] = [("delete", p, None) for p in delete]
        ops += [("add", path, self._store.make_entry(bytes(data), lfs=as_lfs)) for path, data in files.items()]
        try:
            return self._store.commit(repo_id, revision, ops, title=message)
        except StoreError as err:
            raise KeyError(err.message) from err

    def corrupt_file(self, repo_id: str, path: str, data: bytes = b"corrupted by LocalHub", *,
                     revision: str = "main") -> str:
        """Commit new content `data` for an *existing* file, keeping its storage kind (LFS or regular).

        Used to test integrity checks: the file at the branch head no longer matches a hash recorded earlier (e.g.
        in a model card). Returns the new commit id. Raises `KeyError` if the file does not exist.
        """
        entry = self._file_entry(repo_id, revision, path)
        return self.commit_files(repo_id, {path: data}, message=f"Corrupt {path}", revision=revision,
                                 lfs=entry["lfs"])

    def resolve_revision(self, repo_id: str, revision: str = "main") -> str:
        """Commit id that `revision` (branch, tag or commit id) points to. Raises `KeyError` if unknown."""
        return self._tree_at(repo_id, revision)[0]

    def list_files(self, repo_id: str, revision: str = "main") -> list[str]:
        """Sorted file paths of the repo at `revision`."""
        return sorted(self._tree_at(repo_id, revision)[1])

    def read_file(self, repo_id: str, path: str, revision: str = "main") -> bytes:
        """Content of a file at `revision`. Raises `KeyError` if the repo, revision or file is unknown."""
        return self._store.read_blob(self._file_entry(repo_id, revision, path)["sha256"])

    def _tree_at(self, repo_id: str, revision: str) -> tuple[str, Tree]:
        try:
            return self._store.tree_at(repo_id, revision)
        except StoreError as err:
            raise KeyError(err.message) from err

    def _file_entry(self, repo_id: str, revision: str, path: str) -> dict[str, Any]:
        tree = self._tree_at(repo_id, revision)[1]
        if path not in tree:
            raise KeyError(f"{path!r} not found in {repo_id}@{revision}")
        return tree[path]


def main(argv: list[str] | None = None) -> int:
    """Run a LocalHub in the foreground: ``python -m ganzoo.testing.hub_server --root DIR --port N``."""
    parser = argparse.ArgumentParser(prog="python -m ganzoo.testing.hub_server",
                                     description="Serve a local, Hugging Face Hub-compatible server (tests, CI).")
    parser.add_argument("--root", required=True, help="folder holding the repos (created if missing, reused if not)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: 0 = any free port)")
    parser.add_argument("--upload-mode", choices=("regular", "lfs"), default="regular",
                        help="'lfs' needs clients with HF_HUB_DISABLE_XET=1 (default: regular)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    hub = LocalHub(args.root, host=args.host, port=args.port, upload_mode=args.upload_mode)
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
