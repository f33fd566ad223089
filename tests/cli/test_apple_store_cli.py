"""Issue 14's done-criterion end to end, through real subprocesses (``python3 -m mailtls``).

Every run gets a throwaway data directory (``MAILTLS_DATA_DIR``) into which
``mailtls roots update --from`` imports the shared copy of Apple's published store
(``../shared/apple-trust-store``), or a copy of it with a root of our own laid out the way
Apple lays it out (``roots/<SHA-256>.cer``). Our leaves have a notBefore before 2018-10-16
and are judged during their validity (``--at``), so the Certificate Transparency rule does
not apply to them. Nothing reaches the network: the lab servers, a TCP listener standing in
for an unwanted download and the HTTPS server standing in for Apple's archive are all on
loopback. No test depends on the machine's certifi bundle: where the stand-in is judged by
what its bundle holds, a ``certifi`` package of our own comes first on PYTHONPATH.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailtls import pki
from mailtls.analysis.certs import describe_certificate
from mailtls.lab.servers import Lab, start_lab
from tests.conftest import SHARED_STORE
from tests.report.schema import validate
from tests.roots.storebuild import (
    HTTPSServer,
    Route,
    https_server,
    set_version,
    tarball,
    upstream_checkout,
)

pytestmark = pytest.mark.skipif(
    not (SHARED_STORE / "roots").is_dir(), reason="no ../shared/apple-trust-store"
)

REPO = Path(__file__).resolve().parents[2]
VERSION = 2025072000
OLDER = 2024051501  # iOS 18.0 - 18.3 (mailtls/roots/ios.py)
HOST = "mail.example.test"
AT = "2019-03-01T12:00Z"  # during our leaf's validity, before CT applied to it
#: A real CA certificate of Apple's data (custom/), issued by "Entrust Root Certification
#: Authority", a root of Apple's store.
ENTRUST_CA = "C97F2F6E6A8ADB6ECFE4978F08CA8F6F0123A94784522B610ADF6"
FIX = "mailtls roots update"
#: Our leaf is judged in 2019, before the store's date: said on stderr, never silently.
AT_NOTE = (
    f"mailtls: note: --at 2019-03-01 is before Apple's trust store {VERSION} in use "
    "(no cached release is that old): iPhones then had an older store\n"
)


# ------------------------------------------------------------------------------ helpers


@dataclass(frozen=True)
class Run:
    rc: int
    out: str
    err: str

    def json(self) -> dict[str, object]:
        data = json.loads(self.out)
        assert isinstance(data, dict)
        return data

    def fix_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if FIX in line]


def mailtls(*args: str, data: Path, env: dict[str, str] | None = None) -> Run:
    """``python3 -m mailtls ARGS`` with its own data directory, offline unless ``env`` says
    otherwise, never through a proxy."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
        and k not in ("MAILTLS_ROOTS_URL", "MAILTLS_OFFLINE", "XDG_DATA_HOME")
    }
    base.update(
        {
            "MAILTLS_DATA_DIR": str(data),
            "MAILTLS_OFFLINE": "1",
            "NO_COLOR": "1",
            "NO_PROXY": "*",
            "PYTHONPATH": str(REPO),
        }
    )
    base.update(env or {})
    base = {k: v for k, v in base.items() if v is not None and v != "<unset>"}
    done = subprocess.run(
        [sys.executable, "-m", "mailtls", *args],
        capture_output=True,
        text=True,
        env=base,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr)


def sha_name(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest().upper() + ".cer"


@dataclass(frozen=True)
class Own:
    """Our root (in no public list) and a leaf for HOST under it."""

    root_der: bytes
    root_pem: Path
    leaf_pem: Path
    key_pem: Path


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Own:
    directory = tmp_path_factory.mktemp("own")
    root_key, leaf_key = pki.generate_key("ec", 256), pki.generate_key("ec", 256)
    root = pki.issue(
        pki.ca_spec("mailtls CLI Test Apple-layout Root"),
        root_key,
        not_before=datetime(2017, 1, 1, tzinfo=UTC),
        not_after=datetime(2037, 1, 1, tzinfo=UTC),
    )
    leaf = pki.issue(
        pki.leaf_spec(HOST),
        leaf_key,
        issuer_cert=root,
        issuer_key=root_key,
        not_before=datetime(2018, 9, 1, tzinfo=UTC),
        not_after=datetime(2019, 9, 1, tzinfo=UTC),
    )
    own = Own(
        pki.cert_to_der(root),
        directory / "root.pem",
        directory / "leaf.pem",
        directory / "leaf.key",
    )
    own.root_pem.write_bytes(pki.cert_to_pem(root))
    own.leaf_pem.write_bytes(pki.cert_to_pem(leaf))
    own.key_pem.write_bytes(pki.key_to_pem(leaf_key))
    return own


def store_with(dest: Path, own: Own, version: int = VERSION) -> Path:
    """The shared store with our root added as Apple lays roots out (roots/<SHA-256>.cer)."""
    shutil.copytree(SHARED_STORE, dest)
    (dest / "roots" / sha_name(own.root_der)).write_bytes(own.root_der)
    if version != VERSION:
        set_version(dest / "AssetVersion.plist", version)
    return dest


def imported(data: Path, store: Path, *, force: bool = False) -> None:
    run = mailtls(
        "roots", "update", "--from", str(store), *(["--force"] if force else []), data=data
    )
    assert run.rc == 0, run.err
    assert "roots" in run.out


@pytest.fixture(scope="module")
def apple(tmp_path_factory: pytest.TempPathFactory, own: Own) -> Path:
    """A data directory with Apple's store plus our root, imported by `mailtls roots update`."""
    base = tmp_path_factory.mktemp("apple")
    data = base / "data"
    imported(data, store_with(base / "store", own))
    return data


@pytest.fixture(scope="module")
def apple_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with Apple's store as published (our root is not in it)."""
    data = tmp_path_factory.mktemp("apple-only") / "data"
    run = mailtls("roots", "update", "--from", str(SHARED_STORE), data=data)
    assert run.rc == 0, run.err
    assert f"Apple trust store {VERSION} (156 roots)" in run.out
    return data


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory, own: Own) -> Path:
    """Two releases cached side by side: the shared one (with our root) and an older copy."""
    base = tmp_path_factory.mktemp("two")
    data = base / "data"
    imported(data, store_with(base / "new", own))
    imported(data, store_with(base / "old", own, OLDER), force=True)
    listed = mailtls("roots", "list-versions", data=data)
    assert str(VERSION) in listed.out and str(OLDER) in listed.out, listed.out
    return data


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    return tmp_path / "nothing-cached"


@pytest.fixture(scope="module")
def lab(own: Own) -> Iterator[Lab]:
    with start_lab(
        own.leaf_pem.read_bytes(), own.key_pem.read_bytes(), schemes=("imaps",)
    ) as running:
        yield running


def check_args(lab: Lab, *extra: str) -> list[str]:
    targets = [f"{scheme}://{HOST}:{port}" for scheme, port in lab.endpoints.items()]
    return ["check", *targets, "--address", "127.0.0.1", "--at", AT, "--timeout", "5",
            "--no-history", "--no-versions", "--no-discover", *extra]  # fmt: skip


def fake_certifi(directory: Path, *ders: bytes) -> dict[str, str]:
    """A ``certifi`` package holding exactly ``ders`` (a Mozilla-like list of our making),
    first on PYTHONPATH: the stand-in reads it instead of the machine's certifi."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    package = directory / "certifi"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        '__version__ = "2099.01.01"\n'
        "import os\n\n\n"
        "def where():\n"
        '    return os.path.join(os.path.dirname(__file__), "cacert.pem")\n'
    )
    (package / "cacert.pem").write_bytes(
        b"".join(x509.load_der_x509_certificate(d).public_bytes(Encoding.PEM) for d in ders)
    )
    return {"PYTHONPATH": f"{directory}{os.pathsep}{REPO}"}


# ------------------------------------------------- (a) inspect: Apple's store, no store flag


def test_inspect_with_no_flag_trusts_a_chain_to_a_root_of_the_imported_store(
    apple: Path, own: Own
) -> None:
    text = mailtls("inspect", str(own.leaf_pem), "--host", HOST, "--at", AT, data=apple)
    assert text.rc == 0, text.out + text.err
    assert "\nTRUSTED: " in text.out
    assert f"system roots: Apple trust store {VERSION} (157 roots)" in text.out
    assert text.err == AT_NOTE  # a cached, fresh store: no hint
    run = mailtls("inspect", str(own.leaf_pem), "--host", HOST, "--at", AT, "--format", "json",
                  data=apple)  # fmt: skip
    assert run.rc == 0
    document = run.json()
    assert document["verdict"] == "trusted"
    assert document["anchor_kind"] == "SYS"
    assert document["trust_store_version"] == VERSION
    assert document["trust_store_source"] == "apple"
    assert str(VERSION) in str(document["trust_store"])


def test_inspect_anchors_a_real_ca_certificate_at_its_apple_only_root(apple: Path) -> None:
    """A real CA of Apple's data below Entrust's root (in Apple's store, not Mozilla's)."""
    (ca,) = sorted((SHARED_STORE / "custom").glob(ENTRUST_CA + "*"))
    run = mailtls("inspect", str(ca), "--format", "json", data=apple)
    document = run.json()
    assert document["anchor_kind"] == "SYS"
    path = document["path"]
    assert isinstance(path, list)
    assert path[-1]["subject"].startswith("CN=Entrust Root Certification Authority")
    rules = {f["rule_id"] for f in document["findings"]}  # type: ignore[attr-defined]
    assert not rules & {"chain_anchor_required", "store_root_not_verified"}


# --------------------------------------- (b) a root Apple's store lacks is never trusted


def test_a_root_apples_store_lacks_is_not_trusted(apple_only: Path, own: Own) -> None:
    run = mailtls("inspect", str(own.leaf_pem), "--host", HOST, "--at", AT, "--format", "json",
                  data=apple_only)  # fmt: skip
    assert run.rc == 1
    document = run.json()
    assert document["verdict"] != "trusted"
    assert document["trust_store_source"] == "apple"
    assert document["trust_store_version"] == VERSION
    rules = {f["rule_id"] for f in document["findings"]}  # type: ignore[attr-defined]
    assert "chain_anchor_required" in rules


def test_the_standin_drops_a_root_of_mozillas_list_that_apple_lacks(
    empty: Path, own: Own, tmp_path: Path
) -> None:
    """Nothing cached: certifi stands in. Its bundle (ours) holds our root and Entrust's:
    our root, not in Apple's store, anchors nothing; Entrust's, in both, still does."""
    (ca,) = sorted((SHARED_STORE / "custom").glob(ENTRUST_CA + "*"))
    issuer = describe_certificate(ca.read_bytes()).issuer
    entrust_root = next(
        p.read_bytes()
        for p in sorted((SHARED_STORE / "roots").glob("*.cer"))
        if describe_certificate(p.read_bytes()).subject == issuer
    )
    env = fake_certifi(tmp_path / "site", own.root_der, entrust_root)
    run = mailtls("inspect", str(own.leaf_pem), "--host", HOST, "--at", AT, "--format", "json",
                  data=empty, env=env)  # fmt: skip
    assert run.rc == 1
    document = run.json()
    assert document["verdict"] != "trusted"
    assert document["trust_store_source"] == "standin"
    assert "certifi 2099.01.01 as a stand-in" in str(document["trust_store"])
    assert "(1 roots in both" in str(document["trust_store"])  # ours dropped, Entrust's kept
    assert len(run.fix_lines()) == 1, run.err
    assert "stand-in" in run.fix_lines()[0]
    kept = mailtls("inspect", str(ca), "--format", "json", data=empty, env=env).json()
    assert kept["anchor_kind"] == "SYS"


def test_the_standin_of_the_machine_certifi_does_not_trust_our_root(empty: Path, own: Own) -> None:
    text = mailtls("inspect", str(own.leaf_pem), "--host", HOST, "--at", AT, data=empty)
    assert text.rc == 1
    assert "\nTRUSTED: " not in text.out
    assert "stand-in" in text.out
    assert len(text.fix_lines()) == 1, text.err
    assert text.err.count("\n") == 1, text.err  # and nothing else on stderr
    assert not (empty / "apple-trust-store").exists()  # inspect never fetches nor caches


# ------------------------------------------------------------- (c) check, no store flag


def test_check_with_no_flag_judges_with_apples_store_and_names_it(apple: Path, lab: Lab) -> None:
    text = mailtls(*check_args(lab), data=apple)
    assert text.rc == 0, text.out + text.err
    assert f"trust store: Apple trust store {VERSION} (157 roots)" in text.out
    assert text.err == AT_NOTE
    run = mailtls(*check_args(lab, "--format", "json"), data=apple)
    assert run.rc == 0, run.err
    document = run.json()
    validate(document)
    options = document["options"]
    assert isinstance(options, dict)
    assert options["trust_store_version"] == VERSION
    assert options["trust_store_source"] == "apple"
    assert options["trust_store_hint"] is None
    endpoints = document["endpoints"]
    assert isinstance(endpoints, list) and endpoints
    assert {e["verdict"] for e in endpoints} == {"trusted"}


def test_check_with_apples_store_does_not_trust_a_root_it_lacks(apple_only: Path, lab: Lab) -> None:
    run = mailtls(*check_args(lab, "--format", "json"), data=apple_only)
    assert run.rc == 1, run.err
    document = run.json()
    validate(document)
    endpoints = document["endpoints"]
    assert isinstance(endpoints, list) and endpoints
    assert "trusted" not in {e["verdict"] for e in endpoints}


# ----------------------------------------------- (d) offline: never fetch, say stand-in


@pytest.fixture
def listener() -> Iterator[tuple[int, list[tuple[str, int]]]]:
    """A TCP listener on loopback that records every connection (and closes it)."""
    accepted: list[tuple[str, int]] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                peer, address = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(address)
            peer.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(5)
        server.close()


@pytest.mark.parametrize("how", ["env", "flag"])
def test_offline_check_never_fetches_and_says_stand_in_once(
    how: str, empty: Path, lab: Lab, listener: tuple[int, list[tuple[str, int]]]
) -> None:
    port, accepted = listener
    env = {"MAILTLS_ROOTS_URL": f"https://127.0.0.1:{port}/store.tar.gz"}
    extra: tuple[str, ...] = ()
    if how == "flag":
        env["MAILTLS_OFFLINE"] = "<unset>"
        extra = ("--offline",)
    run = mailtls(*check_args(lab, "--format", "json", *extra), data=empty, env=env)
    assert run.rc in (0, 1), run.err
    assert accepted == []
    assert len(run.fix_lines()) == 1, run.err
    assert "stand-in" in run.fix_lines()[0]
    assert "fetch" not in run.err
    document = run.json()
    validate(document)
    options = document["options"]
    assert isinstance(options, dict)
    assert options["trust_store_source"] == "standin"
    assert not (empty / "apple-trust-store" / "versions").exists()


def test_the_listener_would_see_a_fetch(
    empty: Path, lab: Lab, listener: tuple[int, list[tuple[str, int]]]
) -> None:
    """The control of the test above: without offline, the same check does connect."""
    port, accepted = listener
    env = {"MAILTLS_ROOTS_URL": f"https://127.0.0.1:{port}/store.tar.gz", "MAILTLS_OFFLINE": "0"}
    run = mailtls(*check_args(lab), data=empty, env=env)
    assert run.rc in (0, 1), run.err
    assert len(accepted) == 1
    assert "could not be fetched" in run.err


# ------------------------------------------- (e) the automatic fetch, once, and its back-off


@pytest.fixture
def download(tmp_path: Path) -> Iterator[HTTPSServer]:
    with https_server(tmp_path) as state:
        yield state


def online(server: HTTPSServer, path: str) -> dict[str, str]:
    return {
        "MAILTLS_OFFLINE": "<unset>",
        "MAILTLS_ROOTS_URL": server.url(path),
        "SSL_CERT_FILE": str(server.ca_pem),
        "SSL_CERT_DIR": "<unset>",
    }


def test_check_fetches_apples_store_once_and_says_so(
    empty: Path, lab: Lab, own: Own, download: HTTPSServer, tmp_path: Path
) -> None:
    checkout = upstream_checkout(store_with(tmp_path / "flat", own), tmp_path / "checkout")
    download.routes["/store.tar.gz"] = Route(
        tarball(checkout, tmp_path / "store.tar.gz").read_bytes()
    )
    env = online(download, "/store.tar.gz")
    run = mailtls(*check_args(lab, "--format", "json"), data=empty, env=env)
    assert run.rc == 0, run.err
    assert download.connections == ["/store.tar.gz"]
    assert run.err == (
        "mailtls: Apple's trust store is not cached: fetching it once\n"
        f"mailtls: cached Apple trust store {VERSION} (157 roots)\n" + AT_NOTE
    )
    options = run.json()["options"]
    assert isinstance(options, dict)
    assert options["trust_store_source"] == "apple"
    assert options["trust_store_version"] == VERSION
    again = mailtls(*check_args(lab), data=empty, env=env)
    assert again.rc == 0 and again.err == AT_NOTE
    assert download.connections == ["/store.tar.gz"]  # cached now: never fetched again


def test_after_a_failed_fetch_check_does_not_try_again_for_a_day(
    empty: Path, lab: Lab, download: HTTPSServer
) -> None:
    download.routes["/store.tar.gz"] = Route(mode="status", status=503)
    env = online(download, "/store.tar.gz")
    first = mailtls(*check_args(lab, "--format", "json"), data=empty, env=env)
    assert first.rc in (0, 1), first.err
    assert download.connections == ["/store.tar.gz"]
    assert "fetching it once" in first.err
    assert "could not be fetched" in first.err and "503" in first.err
    assert len(first.fix_lines()) == 1, first.err  # the stand-in's hint says the fix, once
    options = first.json()["options"]
    assert isinstance(options, dict) and options["trust_store_source"] == "standin"
    assert (empty / "apple-trust-store" / "fetch-failed.json").is_file()
    second = mailtls(*check_args(lab), data=empty, env=env)
    assert download.connections == ["/store.tar.gz"]  # backing off: no second try
    assert "fetching" not in second.err
    assert "not trying again before" in second.err
    assert len(second.fix_lines()) == 1, second.err


# ------------------------------------------------------- (f) choosing a cached release


def _inspect_version(data: Path, own: Own, *flags: str) -> Run:
    return mailtls("inspect", str(own.leaf_pem), "--host", HOST, "--format", "json", *flags,
                   data=data)  # fmt: skip


def _version(run: Run) -> object:
    return run.json()["trust_store_version"]


@pytest.mark.parametrize("version", [VERSION, OLDER])
def test_roots_version_picks_a_cached_release(two: Path, own: Own, version: int) -> None:
    run = _inspect_version(two, own, "--roots-version", str(version), "--at", AT)
    assert _version(run) == version
    assert f"Apple trust store {version} (157 roots)" == run.json()["trust_store"]


def test_check_roots_version_picks_a_cached_release(two: Path, own: Own, lab: Lab) -> None:
    for version in (VERSION, OLDER):
        run = mailtls(*check_args(lab, "--format", "json", "--roots-version", str(version)),
                      data=two)  # fmt: skip
        assert run.rc == 0, run.err
        options = run.json()["options"]
        assert isinstance(options, dict) and options["trust_store_version"] == version


@pytest.mark.parametrize("command", ["inspect", "check", "check-unreachable"])
def test_an_uncached_roots_version_is_a_one_line_error(
    two: Path, own: Own, lab: Lab, command: str
) -> None:
    """Before anything is judged or connected: also when no endpoint answers (then no store
    is ever loaded, and the bad option must still be said)."""
    if command == "inspect":
        args = ["inspect", str(own.leaf_pem), "--roots-version", "2023010100"]
    elif command == "check":
        args = check_args(lab, "--roots-version", "2023010100")
    else:
        args = ["check", "imaps://127.0.0.1:1", "--no-history", "--timeout", "2",
                "--roots-version", "2023010100"]  # fmt: skip
    run = mailtls(*args, data=two)
    assert run.rc == 3
    assert run.out == ""
    assert run.err.splitlines() == [
        f"mailtls: error: --roots-version 2023010100: not cached (cached: {VERSION}, {OLDER}); "
        "import it with `mailtls roots update --from PATH`"
    ]


def test_a_malformed_roots_version_is_a_one_line_error(two: Path, own: Own) -> None:
    run = mailtls("inspect", str(own.leaf_pem), "--roots-version", "2025", data=two)
    assert run.rc == 3 and len(run.err.splitlines()) == 1 and "10 digits" in run.err


@pytest.mark.parametrize(("ios", "version"), [("18.2", OLDER), ("26", VERSION)])
def test_ios_picks_the_release_it_shipped_with(two: Path, own: Own, ios: str, version: int) -> None:
    run = _inspect_version(two, own, "--ios", ios)
    assert _version(run) == version, run.err


def test_ios_whose_release_is_not_cached_says_so(apple: Path, own: Own) -> None:
    run = _inspect_version(apple, own, "--ios", "18.2")
    assert _version(run) == VERSION  # the only one cached
    assert f"iOS 18.2 had Apple's trust store {OLDER}, which is not cached" in run.err


def test_at_before_the_only_cached_store_says_so(apple: Path, own: Own) -> None:
    run = _inspect_version(apple, own, "--at", "2024-12-01")
    assert _version(run) == VERSION
    assert run.err.splitlines() == [
        f"mailtls: note: --at 2024-12-01 is before Apple's trust store {VERSION} in use "
        "(no cached release is that old): iPhones then had an older store"
    ]
    later = _inspect_version(apple, own, "--at", "2025-08-01")
    assert "note" not in later.err


@pytest.mark.parametrize(
    ("at", "version"), [("2024-12-01", OLDER), ("2026-01-01", VERSION), ("2025-07-20", VERSION)]
)
def test_at_picks_the_newest_cached_release_not_after_it(
    two: Path, own: Own, at: str, version: int
) -> None:
    run = _inspect_version(two, own, "--at", at)
    assert _version(run) == version
    assert "note" not in run.err


def test_check_at_picks_the_older_release(two: Path, lab: Lab) -> None:
    args = check_args(lab, "--format", "json")
    args[args.index("--at") + 1] = "2024-12-01"
    options = mailtls(*args, data=two).json()["options"]
    assert isinstance(options, dict) and options["trust_store_version"] == OLDER


def test_an_explicit_release_after_at_is_used_and_said(two: Path, own: Own) -> None:
    run = _inspect_version(two, own, "--roots-version", str(VERSION), "--at", "2024-12-01")
    assert _version(run) == VERSION
    assert run.err.splitlines() == [
        f"mailtls: note: --at 2024-12-01 is before Apple's trust store {VERSION} "
        "(--roots-version): iPhones then had an older store"
    ]
