"""Tests of `ganzoo.testing.hub_server.LocalHub`, driven by the real `huggingface_hub` client (no mocks).

What is tested is what the server offers: repos, validated cards, pre-upload, commits (inline and LFS), downloads,
repo info at a revision, refs, branch and tag creation, and the faults it injects (outage, hung server, hostile
headers). Nothing here may reach huggingface.co: the `hub` fixture points the already-imported client at a fresh
LocalHub (endpoint constants, module-level `HfApi`, cache folders) and restores everything afterwards.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import select
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import huggingface_hub
import pytest
from huggingface_hub import CommitOperationAdd, HfApi, constants, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import _http  # private: its set of trusted Hub origins is patched by configure_client

from ganzoo.testing.hub_server import LocalHub, RequestRecord, configure_client, reserve_port

REPO = "ganzoo/dcgan-tiny"
README = """---
license: mit
library_name: ganzoo
tags:
- gan
- dcgan
---
# DCGAN tiny

A test card.
"""
CONFIG = b'{"arch": "dcgan", "nz": 8}'
WEIGHTS = bytes(range(256)) * 40  # 10 KiB of binary data


def _point_client_at(hub: LocalHub, cache_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the imported client at `hub`, with a private cache; monkeypatch restores it all after the test."""
    # Register the current values first, so that monkeypatch undoes what configure_client changes.
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    for name in ("ENDPOINT", "HUGGINGFACE_CO_URL_TEMPLATE", "HF_URL_HOSTS"):
        monkeypatch.setattr(constants, name, getattr(constants, name))
    monkeypatch.setattr(huggingface_hub.hf_api.api, "endpoint", huggingface_hub.hf_api.api.endpoint)
    monkeypatch.setattr(_http, "_HUB_ORIGINS", _http._HUB_ORIGINS)
    configure_client(hub.url)
    home = cache_root / "hf-home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))  # read at import
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)  # no GET /api/agent-harnesses
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHub]:
    with LocalHub(tmp_path / "hub-root") as server:
        _point_client_at(server, tmp_path, monkeypatch)
        yield server
        assert server.errors == [], "the server hit internal errors"


@pytest.fixture
def api(hub: LocalHub) -> HfApi:
    return HfApi(endpoint=hub.url)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "weights").mkdir(parents=True)
    (folder / "README.md").write_text(README)
    (folder / "config.json").write_bytes(CONFIG)
    (folder / "weights" / "generator.safetensors").write_bytes(WEIGHTS)
    return folder


@pytest.fixture
def pushed(api: HfApi, model_dir: Path) -> str:
    """Create the repo and upload the model folder; returns the commit id."""
    api.create_repo(REPO)
    return api.upload_folder(folder_path=model_dir, repo_id=REPO).oid


def _calls(hub: LocalHub, method: str, fragment: str) -> list[RequestRecord]:
    return [r for r in hub.requests if r.method == method and fragment in r.path]


def _read(path: str) -> bytes:
    return Path(path).read_bytes()  # follows the cache's snapshot -> blob symlink


# ----------------------------------------------------------------------------------------------------------------------
# Repos and uploads


def test_create_repo_and_exist_ok(hub: LocalHub, api: HfApi) -> None:
    url = api.create_repo(REPO)
    assert url == f"{hub.url}/{REPO}" and url.repo_id == REPO
    assert api.create_repo(REPO, exist_ok=True) == url  # 409 carries "url"
    with pytest.raises(HfHubHTTPError) as info:
        api.create_repo(REPO)
    assert info.value.response.status_code == 409
    assert api.repo_exists(REPO) and not api.repo_exists("ganzoo/other")
    assert hub.repo_exists(REPO)
    # A new repo starts with the Hub's initial commit holding .gitattributes.
    assert hub.list_files(REPO) == [".gitattributes"]
    # No namespace: the server's user is used.
    assert api.create_repo("solo").repo_id == f"{hub.user}/solo"
    with pytest.raises(HfHubHTTPError) as info:
        api.create_repo("ganzoo/faces", repo_type="dataset")  # model repos only
    assert info.value.response.status_code == 400


def test_upload_folder_then_download_at_branch_and_commit(hub: LocalHub, api: HfApi, pushed: str) -> None:
    assert len(pushed) == 40 and pushed == hub.resolve_revision(REPO, "main")
    assert [r.path for r in hub.requests if r.method == "POST"][-3:] == [
        "/api/validate-yaml",
        f"/api/models/{REPO}/preupload/main",
        f"/api/models/{REPO}/commit/main",
    ]
    at_main = hf_hub_download(REPO, "weights/generator.safetensors")
    at_sha = hf_hub_download(REPO, "weights/generator.safetensors", revision=pushed)
    assert _read(at_main) == _read(at_sha) == WEIGHTS
    assert f"/snapshots/{pushed}/" in at_main
    # Regular files are cached under their git blob id (the ETag).
    assert Path(at_main).resolve().name == hashlib.sha1(b"blob %d\0" % len(WEIGHTS) + WEIGHTS).hexdigest()
    hub.clear_requests()
    again = hf_hub_download(REPO, "weights/generator.safetensors", revision=pushed)
    assert again == at_sha and hub.requests == []  # cached commit id: zero requests


def test_model_info_with_card_data(api: HfApi, pushed: str) -> None:
    info = api.model_info(REPO)
    assert info.id == REPO and info.sha == pushed
    assert info.card_data is not None and info.card_data.license == "mit"
    assert info.card_data.tags == ["gan", "dcgan"] and info.library_name == "ganzoo"
    assert sorted(s.rfilename for s in info.siblings) == [
        ".gitattributes", "README.md", "config.json", "weights/generator.safetensors"
    ]
    # The module-level helper (pitfall 1: bound to huggingface_hub.hf_api.api) reaches the local hub too.
    assert huggingface_hub.model_info(REPO, revision=pushed).sha == pushed
    sizes = {s.rfilename: s.size for s in api.model_info(REPO, files_metadata=True).siblings}
    assert sizes["config.json"] == len(CONFIG) and sizes["weights/generator.safetensors"] == len(WEIGHTS)


def test_file_exists(api: HfApi, pushed: str) -> None:
    assert api.file_exists(REPO, "config.json")
    assert api.file_exists(REPO, "config.json", revision=pushed)
    assert not api.file_exists(REPO, "missing.bin")


def test_reupload_unchanged_folder_makes_no_commit(hub: LocalHub, api: HfApi, model_dir: Path, pushed: str) -> None:
    hub.clear_requests()
    assert api.upload_folder(folder_path=model_dir, repo_id=REPO).oid == pushed
    assert _calls(hub, "POST", "/commit/") == []  # preupload's oids told the client nothing changed
    assert hub.resolve_revision(REPO) == pushed


def test_invalid_card_metadata_is_rejected(api: HfApi, pushed: str) -> None:
    with pytest.raises(ValueError, match="YAML mapping"):
        api.upload_file(path_or_fileobj=b"---\n- not\n- a mapping\n---\n", path_in_repo="README.md", repo_id=REPO)
    with pytest.raises(ValueError, match="Invalid YAML"):
        api.upload_file(path_or_fileobj=b"---\nkey: [unclosed\n---\n", path_in_repo="README.md", repo_id=REPO)


def test_parent_commit_mismatch_is_rejected(api: HfApi, pushed: str) -> None:
    newer = api.upload_file(path_or_fileobj=b"1", path_in_repo="a.txt", repo_id=REPO).oid
    with pytest.raises(HfHubHTTPError) as info:
        api.create_commit(REPO, [CommitOperationAdd("b.txt", b"2")], commit_message="stale", parent_commit=pushed)
    assert info.value.response.status_code == 412
    ok = api.create_commit(REPO, [CommitOperationAdd("b.txt", b"2")], commit_message="fresh", parent_commit=newer)
    assert ok.oid != newer


def test_delete_file(hub: LocalHub, api: HfApi, pushed: str) -> None:
    api.delete_file("config.json", repo_id=REPO)
    assert "config.json" not in hub.list_files(REPO) and "config.json" in hub.list_files(REPO, pushed)
    with pytest.raises(EntryNotFoundError):
        api.delete_file("config.json", repo_id=REPO)


def test_what_is_not_implemented_says_so(hub: LocalHub, api: HfApi, pushed: str) -> None:
    """Pull requests and listings are not emulated: a clear HTTP error, never a wrong answer."""
    with pytest.raises(HfHubHTTPError, match="pull requests"):
        api.create_commit(REPO, [CommitOperationAdd("extra.txt", b"x")], commit_message="PR", create_pr=True)
    with pytest.raises(HfHubHTTPError) as info:
        api.list_repo_files(REPO)
    assert info.value.response.status_code == 404
    assert "extra.txt" not in hub.list_files(REPO)


# ----------------------------------------------------------------------------------------------------------------------
# Refs, branches and tags


def test_refs_branches_and_tags(hub: LocalHub, api: HfApi, pushed: str) -> None:
    api.create_tag(REPO, tag="v1.0", tag_message="first release")
    api.create_branch(REPO, branch="feature/x")  # a "/" travels as %2F
    api.create_branch(REPO, branch="feature/x", exist_ok=True)
    new_config = b'{"arch": "dcgan", "nz": 16}'
    on_branch = api.upload_file(path_or_fileobj=new_config, path_in_repo="config.json", repo_id=REPO,
                                revision="feature/x").oid
    refs = api.list_repo_refs(REPO)
    assert {b.name: b.target_commit for b in refs.branches} == {"main": pushed, "feature/x": on_branch}
    assert [(t.name, t.ref, t.target_commit) for t in refs.tags] == [("v1.0", "refs/tags/v1.0", pushed)]
    assert refs.converts == []
    assert _read(hf_hub_download(REPO, "config.json", revision="feature/x")) == new_config
    assert _read(hf_hub_download(REPO, "config.json", revision="v1.0")) == CONFIG
    assert _read(hf_hub_download(REPO, "config.json", revision="main")) == CONFIG
    assert api.model_info(REPO, revision="v1.0").sha == pushed
    assert api.model_info(REPO, revision="feature/x").sha == on_branch
    with pytest.raises(HfHubHTTPError) as info:
        api.create_tag(REPO, tag="v1.0")
    assert info.value.response.status_code == 409


# ----------------------------------------------------------------------------------------------------------------------
# Errors


def test_not_found_errors_are_typed(hub: LocalHub, api: HfApi, pushed: str) -> None:
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("ganzoo/missing", "config.json")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("ganzoo/missing")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(REPO, "config.json", revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="0" * 40)
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(REPO, "missing.bin")
    # The miss was recorded in the cache (thanks to X-Repo-Commit on the 404): no request the second time.
    no_exist = Path(constants.HF_HUB_CACHE) / "models--ganzoo--dcgan-tiny" / ".no_exist" / pushed / "missing.bin"
    assert no_exist.exists()


# ----------------------------------------------------------------------------------------------------------------------
# LFS


# huggingface_hub's own LFS PUT (`data=fileobj`) triggers this httpx2 deprecation warning: not ours to fix.
@pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")
def test_lfs_upload_through_batch_api(hub: LocalHub, api: HfApi, model_dir: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    hub.upload_mode = "lfs"
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)  # read at call time; Xet is not emulated
    (model_dir / "empty.txt").write_bytes(b"")
    api.create_repo(REPO)
    sha = api.upload_folder(folder_path=model_dir, repo_id=REPO).oid
    oid = hashlib.sha256(WEIGHTS).hexdigest()
    assert _calls(hub, "POST", f"/{REPO}.git/info/lfs/objects/batch")
    assert _calls(hub, "PUT", f"/lfs-upload/{oid}") and _calls(hub, "POST", f"/lfs-verify/{oid}")
    files = {f.rfilename: f for f in api.model_info(REPO, files_metadata=True).siblings}
    assert files["weights/generator.safetensors"].lfs.sha256 == oid
    assert files["empty.txt"].lfs is None  # empty files are always regular
    path = hf_hub_download(REPO, "weights/generator.safetensors", revision=sha)
    assert _read(path) == WEIGHTS
    assert Path(path).resolve().name == oid  # LFS files are cached under their sha256 (the ETag)
    # Same content again: the batch answer has no "actions", so nothing is PUT.
    hub.clear_requests()
    api.upload_file(path_or_fileobj=WEIGHTS, path_in_repo="copy.safetensors", repo_id=REPO)
    assert _calls(hub, "POST", "/info/lfs/objects/batch") and not _calls(hub, "PUT", "/lfs-upload/")


def test_lfs_put_with_chunked_body(hub: LocalHub) -> None:
    data = os.urandom(5000)
    oid = hashlib.sha256(data).hexdigest()
    conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=5)
    try:
        conn.request("PUT", f"/lfs-upload/{oid}", body=iter([data[:1234], data[1234:]]), encode_chunked=True)
        response = conn.getresponse()
        response.read()
        assert response.status == 200
        conn.request("PUT", f"/lfs-upload/{'0' * 64}", body=b"wrong")  # content must match its oid
        response = conn.getresponse()
        response.read()
        assert response.status == 400
    finally:
        conn.close()
    assert hub._store.has_blob(oid)


# ----------------------------------------------------------------------------------------------------------------------
# Raw protocol details


def test_resolve_head_range_and_error_headers(hub: LocalHub, pushed: str) -> None:
    url = f"{hub.url}/{REPO}/resolve/main/weights/generator.safetensors"
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=5) as response:
        assert response.headers["Content-Length"] == str(len(WEIGHTS))  # HEAD advertises the real size
        assert response.headers["X-Repo-Commit"] == pushed
        assert response.headers["ETag"].strip('"') == hashlib.sha1(b"blob %d\0" % len(WEIGHTS) + WEIGHTS).hexdigest()
        assert "X-Xet-Hash" not in response.headers
    request = urllib.request.Request(url, headers={"Range": "bytes=100-"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 206 and response.read() == WEIGHTS[100:]
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{hub.url}/{REPO}/resolve/{pushed}/nope.txt", timeout=5)
    with info.value:  # the error holds the open response
        assert info.value.headers["X-Error-Code"] == "EntryNotFound"
        assert info.value.headers["X-Repo-Commit"] == pushed
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{hub.url}/api/agent-harnesses", timeout=5)
    with info.value:
        assert info.value.code == 404


# ----------------------------------------------------------------------------------------------------------------------
# Test helpers, faults, lifecycle


def test_direct_helpers_and_corrupt_file(hub: LocalHub, pushed: str) -> None:
    sha = hub.commit_files(REPO, {"notes.txt": b"hello"}, message="Add notes")
    assert hub.read_file(REPO, "notes.txt") == b"hello" and "notes.txt" in hub.list_files(REPO)
    corrupted = hub.corrupt_file(REPO, "config.json", b"{garbage")
    assert corrupted != sha and hub.resolve_revision(REPO) == corrupted
    assert _read(hf_hub_download(REPO, "config.json")) == b"{garbage"
    assert _read(hf_hub_download(REPO, "config.json", revision=pushed)) == CONFIG  # history is intact
    emptied = hub.commit_files(REPO, {}, delete=["notes.txt"])
    assert "notes.txt" not in hub.list_files(REPO, emptied)
    with pytest.raises(KeyError):
        hub.corrupt_file(REPO, "missing.txt")


def test_offline_error_mode_falls_back_to_cache_fast(hub: LocalHub, api: HfApi, pushed: str) -> None:
    api.create_tag(REPO, tag="v1")
    hf_hub_download(REPO, "config.json", revision="v1")
    hf_hub_download(REPO, "config.json", revision=pushed)
    hub.offline = True
    hub.clear_requests()
    start = time.monotonic()
    assert _read(hf_hub_download(REPO, "config.json", revision=pushed)) == CONFIG
    assert hub.requests == []  # cached commit id: served without asking
    assert _read(hf_hub_download(REPO, "config.json", revision="v1")) == CONFIG  # HEAD fails, cached ref used
    with pytest.raises(LocalEntryNotFoundError):
        hf_hub_download(REPO, "README.md")  # not cached: no retries/backoff on a 511
    with pytest.raises(HfHubHTTPError):
        api.model_info(REPO)
    assert time.monotonic() - start < 2
    assert {r.status for r in hub.requests} == {511}
    hub.offline = False
    assert _read(hf_hub_download(REPO, "README.md")) == README.encode()


def test_offline_refuse_and_drop_modes(hub: LocalHub, api: HfApi, pushed: str) -> None:
    import httpx2  # the transport of huggingface_hub 2.x

    hf_hub_download(REPO, "config.json")
    hub.offline_mode = "refuse"
    hub.offline = True
    assert not hub.running
    start = time.monotonic()
    with pytest.raises(httpx2.ConnectError):  # connection refused, like a machine without network
        api.model_info(REPO)
    assert _read(hf_hub_download(REPO, "config.json")) == CONFIG  # cached branch ref used
    hub.offline = False
    assert hub.running and api.model_info(REPO).sha == pushed  # same port again

    hub.offline_mode = "drop"
    hub.offline = True
    with pytest.raises(httpx2.RemoteProtocolError):
        api.model_info(REPO)
    assert hub.requests[-1].status == 0
    hub.offline = False
    assert time.monotonic() - start < 2
    assert api.model_info(REPO).sha == pushed


def test_hang_fault_accepts_and_never_answers(hub: LocalHub, pushed: str) -> None:
    """A hung Hub: the request is read and never answered until the fault is cleared (then the connection closes)."""
    url = f"{hub.url}/{REPO}/resolve/main/config.json"
    outcome: dict[str, object] = {}

    def ask() -> None:
        try:
            urllib.request.urlopen(url, timeout=10)
            outcome["answer"] = True
        except Exception as err:  # the connection closed without an answer
            outcome["error"] = err

    with hub.inject("hang"):
        thread = threading.Thread(target=ask)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # still waiting for an answer
        conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=0.3)
        with pytest.raises(TimeoutError):
            conn.request("HEAD", f"/{REPO}/resolve/main/README.md")
            conn.getresponse()
        conn.close()
    thread.join(5)
    assert not thread.is_alive() and "error" in outcome and "answer" not in outcome
    assert hub.requests[-1].status == 0
    assert _read(hf_hub_download(REPO, "config.json")) == CONFIG  # answers again once cleared
    with pytest.raises(ValueError, match="fault must be"):
        hub.fault = "explode"  # type: ignore[assignment]


@pytest.mark.parametrize("fault, header", [("unsafe-etag", "ETag"), ("unsafe-commit", "X-Repo-Commit")])
def test_unsafe_header_faults(hub: LocalHub, pushed: str, fault: str, header: str) -> None:
    """A hostile endpoint: a path where the client expects a hash (what the client must refuse)."""
    with hub.inject(fault):  # type: ignore[arg-type]
        request = urllib.request.Request(f"{hub.url}/{REPO}/resolve/main/config.json", method="HEAD")
        with urllib.request.urlopen(request, timeout=5) as response:
            assert "../" in response.headers[header]
    with urllib.request.urlopen(request, timeout=5) as response:
        assert "../" not in response.headers[header]


def test_restart_on_same_root_keeps_repos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub: LocalHub,
                                          api: HfApi, pushed: str) -> None:
    import httpx2

    hub.stop()
    assert not hub.running
    with pytest.raises(httpx2.ConnectError):  # keep-alive connections were closed with the server
        api.model_info(REPO)
    with LocalHub(hub.root) as second:
        _point_client_at(second, tmp_path / "other-cache", monkeypatch)
        api2 = HfApi(endpoint=second.url)
        assert api2.model_info(REPO).sha == pushed
        assert _read(hf_hub_download(REPO, "weights/generator.safetensors")) == WEIGHTS
        assert second.resolve_revision(REPO) == pushed
    hub.start()  # the first one restarts on its old port
    assert api.model_info(REPO).sha == pushed


def test_reserve_port_and_command_line(tmp_path: Path) -> None:
    port = reserve_port()
    root = tmp_path / "cli-root"
    with open(tmp_path / "cli-stderr.txt", "w+") as stderr, subprocess.Popen(
        [sys.executable, "-m", "ganzoo.testing.hub_server", "--root", str(root), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=Path(__file__).resolve().parents[1],
    ) as process:
        try:
            assert process.stdout is not None
            # The URL line is printed once the port is bound; don't hang forever if the process never prints it.
            ready, _, _ = select.select([process.stdout], [], [], 30)
            line = process.stdout.readline() if ready else ""
            stderr.seek(0)
            assert f"http://127.0.0.1:{port}" in line, f"stdout: {line!r}, stderr: {stderr.read()!r}"
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/repos/create", method="POST",
                                             data=json.dumps({"name": "cli", "organization": "me"}).encode())
            with urllib.request.urlopen(request, timeout=5) as response:
                assert json.load(response)["id"] == "me/cli"
        finally:
            process.terminate()  # SIGTERM: clean shutdown
            assert process.wait(timeout=5) == 0
    assert (root / "repos" / "me" / "cli" / "repo.json").is_file()
