"""Build trust stores for the tests from Apple's published data in ../shared (never copied
into the repository): the flat layout, an upstream checkout, its .tar.gz, our own root
laid out like Apple's, and an HTTPS server on loopback standing in for the download."""

from __future__ import annotations

import hashlib
import http.server
import io
import plistlib
import shutil
import ssl
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailtls import pki

CHECKOUT = Path(__file__).resolve().parents[2]
SHARED = (CHECKOUT / ".." / "shared" / "apple-trust-store").resolve()
SHARED_VERSION = 2025072000
SHARED_ROOTS = 156

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def require_shared() -> Path:
    if not (SHARED / "roots").is_dir():
        pytest.skip(
            f"Apple's published store is not at {SHARED} (CI has ../shared beside the checkout)"
        )
    return SHARED


def own_root(cn: str = "mailtls Test Apple-layout Root") -> bytes:
    """A root CA of our own, DER (named in a store by its SHA-256, as Apple's are)."""
    key = pki.generate_key("ec", 256)
    cert = pki.issue(
        pki.ca_spec(cn),
        key,
        not_before=datetime(2020, 1, 1, tzinfo=UTC),
        not_after=datetime(2040, 1, 1, tzinfo=UTC),
    )
    return pki.cert_to_der(cert)


def sha_name(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest().upper() + ".cer"


def set_version(plist_path: Path, version: int) -> None:
    data = plistlib.loads(plist_path.read_bytes())
    data["VersionNumber"] = version
    plist_path.write_bytes(plistlib.dumps(data))


def flat_store(
    dest: Path,
    *,
    version: int = SHARED_VERSION,
    extra_roots: tuple[bytes, ...] = (),
    keep_roots: int | None = None,
) -> Path:
    """A directory laid out like ../shared/apple-trust-store (roots/ at the top)."""
    shutil.copytree(require_shared(), dest)
    if keep_roots is not None:
        for extra in sorted((dest / "roots").iterdir())[keep_roots:]:
            extra.unlink()
    for der in extra_roots:
        (dest / "roots" / sha_name(der)).write_bytes(der)
    set_version(dest / "AssetVersion.plist", version)
    return dest


_FLAT_TO_UPSTREAM = {
    "roots": "certificates/roots",
    "removed": "certificates/removed",
    "custom": "certificates/custom",
    "platform": "certificates/platform",
    "constraints.json": "certificates/constraints.json",
    "EVRoots.json": "certificates/EVRoots.json",
    "hash_to_human_name.json": "certificates/hash_to_human_name.json",
    "log_list.json": "certificate_transparency/log_list.json",
    "AssetVersion.plist": "config/AssetVersion.plist",
}


def upstream_checkout(flat: Path, dest: Path) -> Path:
    """A checkout of apple-oss-distributions/security_certificates made from a flat store
    (plus files the project has that the store does not need)."""
    for name, upstream in _FLAT_TO_UPSTREAM.items():
        source = flat / name
        target = dest / upstream
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        elif source.exists():
            shutil.copyfile(source, target)
    (dest / "README.md").write_text("security_certificates\n")
    (dest / "certificates" / "test-roots").mkdir()
    (dest / "certificates" / "test-roots" / "TEST.cer").write_bytes(b"not a root of the store")
    return dest


def tarball(checkout: Path, dest: Path, top: str = "security_certificates-main") -> Path:
    """A GitHub-style archive: everything below one top-level directory."""
    with tarfile.open(dest, "w:gz") as archive:
        archive.add(checkout, arcname=top)
    return dest


def tar_with(dest: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(dest, "w:gz") as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                archive.addfile(info)
    return dest


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file below ``directory`` with its content (to show a cache is untouched)."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


# --- an HTTPS server on loopback standing in for the download ------------------------------


@dataclass
class Route:
    body: bytes = b""
    mode: str = "ok"  # ok | half (Content-Length, half the body, close) | stall | status
    status: int = 200


@dataclass
class HTTPSServer:
    port: int
    ca_pem: Path
    routes: dict[str, Route] = field(default_factory=dict)
    connections: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"


def _handler(server_state: HTTPSServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            server_state.connections.append(self.path)
            route = server_state.routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            if route.mode == "status":
                self.send_error(route.status)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if route.mode == "ok":
                self.wfile.write(route.body)
            elif route.mode == "half":
                self.wfile.write(route.body[: len(route.body) // 2])
                self.wfile.flush()
                self.close_connection = True
            elif route.mode == "stall":
                self.wfile.write(route.body[:100])
                self.wfile.flush()
                server_state.stop.wait(30)

    return Handler


@contextmanager
def https_server(tmp_path: Path) -> Iterator[HTTPSServer]:
    """A threaded HTTPS server on 127.0.0.1 with a certificate from a test CA (its PEM in
    ``ca_pem``: point ``SSL_CERT_FILE`` at it to trust the server)."""
    not_before, not_after = datetime(2020, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC)
    ca_key = pki.generate_key("ec", 256)
    ca = pki.issue(
        pki.ca_spec("mailtls Test Download CA"), ca_key, not_before=not_before, not_after=not_after
    )
    leaf_key = pki.generate_key("ec", 256)
    leaf = pki.issue(
        pki.leaf_spec("127.0.0.1", cn="mailtls test download server"),
        leaf_key,
        issuer_cert=ca,
        issuer_key=ca_key,
        not_before=not_before,
        not_after=not_after,
    )
    ca_pem = tmp_path / "download-ca.pem"
    ca_pem.write_bytes(pki.cert_to_pem(ca))
    chain = tmp_path / "server.pem"
    chain.write_bytes(pki.cert_to_pem(leaf) + pki.key_to_pem(leaf_key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    state = HTTPSServer(port=0, ca_pem=ca_pem)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    state.port = httpd.server_address[1]
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start
