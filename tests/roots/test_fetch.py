"""The download over verified HTTPS (a loopback server stands in for GitHub), and check's
automatic fetch with its day of back-off. In every failure the previous cache stays."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from mailtls import roots
from mailtls.roots import cache
from mailtls.roots.download import auto_fetch
from tests.roots.storebuild import (
    SHARED_ROOTS,
    SHARED_VERSION,
    HTTPSServer,
    Route,
    flat_store,
    sha_name,
    snapshot,
    tarball,
    upstream_checkout,
)


def _archive(tmp_path: Path, name: str, **kw: object) -> bytes:
    flat = flat_store(tmp_path / f"{name}-flat", **kw)  # type: ignore[arg-type]
    checkout = upstream_checkout(flat, tmp_path / f"{name}-checkout")
    return tarball(checkout, tmp_path / f"{name}.tar.gz").read_bytes()


@pytest.fixture
def good(tmp_path: Path, our_root: bytes) -> bytes:
    return _archive(tmp_path, "good", extra_roots=(our_root,))


@pytest.fixture
def cached(data_dir: Path, server: HTTPSServer, good: bytes) -> dict[str, bytes]:
    """The good archive fetched once; the cache's files, to show a failure leaves them."""
    server.routes["/main.tar.gz"] = Route(good)
    store = roots.fetch(server.url("/main.tar.gz"), deadline=20)
    assert store.version == SHARED_VERSION
    return snapshot(data_dir / "apple-trust-store")


def _intact(before: dict[str, bytes], data_dir: Path) -> None:
    assert snapshot(data_dir / "apple-trust-store") == before
    store = roots.load()
    assert store is not None and store.version == SHARED_VERSION
    assert len(store.roots) == SHARED_ROOTS + 1


def test_fetch_success(data_dir: Path, server: HTTPSServer, good: bytes, our_root: bytes) -> None:
    server.routes["/main.tar.gz"] = Route(good)
    store = roots.fetch(server.url("/main.tar.gz"), deadline=20)
    assert store.label == f"Apple trust store {SHARED_VERSION} ({SHARED_ROOTS + 1} roots)"
    assert our_root in store.roots
    assert store.source == server.url("/main.tar.gz")
    assert roots.load() == store
    assert not list((data_dir / "apple-trust-store").glob("tmp-*"))  # the download is gone


def test_the_url_environment_variable_names_a_mirror(
    data_dir: Path, server: HTTPSServer, good: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/mirror.tar.gz"] = Route(good)
    monkeypatch.setenv(roots.URL_ENV, server.url("/mirror.tar.gz"))
    assert roots.fetch().source == server.url("/mirror.tar.gz")
    assert server.connections == ["/mirror.tar.gz"]


def test_only_https(data_dir: Path) -> None:
    with pytest.raises(roots.StoreError, match="only https://"):
        roots.fetch("http://127.0.0.1:9/main.tar.gz")
    with pytest.raises(roots.StoreError, match="only https://"):
        roots.fetch("file:///etc/passwd")
    assert roots.DEFAULT_URL.startswith(
        "https://github.com/apple-oss-distributions/security_certificates/"
    )


def test_corrupted_archive(
    data_dir: Path, server: HTTPSServer, cached: dict[str, bytes], good: bytes
) -> None:
    broken = bytearray(good)
    broken[len(broken) // 2 : len(broken) // 2 + 2000] = bytes(2000)
    server.routes["/broken.tar.gz"] = Route(bytes(broken))
    with pytest.raises(roots.StoreError, match=r"not a readable \.tar\.gz") as caught:
        roots.fetch(server.url("/broken.tar.gz"), deadline=20)
    assert not isinstance(caught.value, roots.FetchError)  # received, but bad: exit 3
    _intact(cached, data_dir)
    server.routes["/short.tar.gz"] = Route(good[: len(good) // 2])  # truncated gzip, no lie
    with pytest.raises(roots.StoreError, match=r"not a readable \.tar\.gz"):
        roots.fetch(server.url("/short.tar.gz"), deadline=20)
    _intact(cached, data_dir)


def test_wrong_hash(
    data_dir: Path, server: HTTPSServer, cached: dict[str, bytes], tmp_path: Path, our_root: bytes
) -> None:
    flat = flat_store(tmp_path / "wrong", version=SHARED_VERSION + 1)
    victim = sorted((flat / "roots").iterdir())[0]
    victim.rename(victim.with_name(sha_name(our_root)))
    checkout = upstream_checkout(flat, tmp_path / "wrong-checkout")
    server.routes["/wrong.tar.gz"] = Route(
        tarball(checkout, tmp_path / "wrong.tar.gz").read_bytes()
    )
    with pytest.raises(roots.StoreError, match="not its file name"):
        roots.fetch(server.url("/wrong.tar.gz"), deadline=20)
    _intact(cached, data_dir)


def test_interrupted_transfer(
    data_dir: Path, server: HTTPSServer, cached: dict[str, bytes], good: bytes
) -> None:
    server.routes["/half.tar.gz"] = Route(good, mode="half")
    with pytest.raises(roots.FetchError, match="cut off"):
        roots.fetch(server.url("/half.tar.gz"), deadline=20)
    _intact(cached, data_dir)


def test_stalled_transfer_meets_the_deadline(
    data_dir: Path, server: HTTPSServer, cached: dict[str, bytes], good: bytes
) -> None:
    server.routes["/stall.tar.gz"] = Route(good, mode="stall")
    start = time.monotonic()
    with pytest.raises(roots.FetchError, match=r"1 s"):
        roots.fetch(server.url("/stall.tar.gz"), deadline=1.0)
    assert time.monotonic() - start < 3
    _intact(cached, data_dir)


def test_untrusted_server_certificate(
    data_dir: Path,
    server: HTTPSServer,
    cached: dict[str, bytes],
    good: bytes,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    server.routes["/main.tar.gz"] = Route(good)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))
    with pytest.raises(roots.FetchError, match="certificate could not be verified"):
        roots.fetch(server.url("/main.tar.gz"), deadline=20)
    _intact(cached, data_dir)
    # and a certificate for another name: the host name is checked too
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_pem))
    with pytest.raises(roots.FetchError, match="certificate could not be verified"):
        roots.fetch(f"https://localhost:{server.port}/main.tar.gz", deadline=20)
    _intact(cached, data_dir)


def test_http_error(data_dir: Path, server: HTTPSServer, cached: dict[str, bytes]) -> None:
    with pytest.raises(roots.FetchError, match="HTTP 404"):
        roots.fetch(server.url("/nothing-here"), deadline=20)
    _intact(cached, data_dir)


def test_download_size_cap(
    data_dir: Path,
    server: HTTPSServer,
    cached: dict[str, bytes],
    good: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mailtls.roots import layout

    assert len(good) > 100_000
    monkeypatch.setattr(layout, "MAX_TOTAL_BYTES", 100_000)
    server.routes["/main.tar.gz"] = Route(good)
    with pytest.raises(roots.FetchError, match="more than 100000 bytes"):
        roots.fetch(server.url("/main.tar.gz"), deadline=20)
    _intact(cached, data_dir)


def test_too_few_roots(
    data_dir: Path, server: HTTPSServer, cached: dict[str, bytes], tmp_path: Path
) -> None:
    server.routes["/few.tar.gz"] = Route(
        _archive(tmp_path, "few", version=SHARED_VERSION + 1, keep_roots=20)
    )
    with pytest.raises(roots.StoreError, match="only 20 roots"):
        roots.fetch(server.url("/few.tar.gz"), deadline=20)
    _intact(cached, data_dir)


def test_older_version_than_cached(
    data_dir: Path, server: HTTPSServer, cached: dict[str, bytes], tmp_path: Path
) -> None:
    server.routes["/old.tar.gz"] = Route(_archive(tmp_path, "old", version=2023010100))
    with pytest.raises(roots.StoreError, match="older than the cached"):
        roots.fetch(server.url("/old.tar.gz"), deadline=20)
    _intact(cached, data_dir)
    assert roots.fetch(server.url("/old.tar.gz"), deadline=20, force=True).version == 2023010100
    assert [s.version for s in roots.versions()] == [SHARED_VERSION, 2023010100]


# --- auto_fetch ---------------------------------------------------------------------------


def test_auto_fetch_success(
    data_dir: Path, server: HTTPSServer, good: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/main.tar.gz"] = Route(good)
    monkeypatch.setenv(roots.URL_ENV, server.url("/main.tar.gz"))
    store, reason = roots.auto_fetch(deadline=20)
    assert reason == "" and store is not None and store.version == SHARED_VERSION
    assert cache.read_failure() is None


def test_auto_fetch_backs_off_for_a_day(
    data_dir: Path, server: HTTPSServer, good: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(roots.URL_ENV, server.url("/missing.tar.gz"))
    store, reason = roots.auto_fetch(deadline=5)
    assert store is None and "HTTP 404" in reason and "mailtls roots update" in reason
    assert "\n" not in reason
    assert server.connections == ["/missing.tar.gz"]
    marker = cache.read_failure()
    assert marker is not None and "HTTP 404" in marker[1]
    # the second call does not connect
    store, reason = roots.auto_fetch(deadline=5)
    assert store is None and "not trying again before" in reason and "HTTP 404" in reason
    assert server.connections == ["/missing.tar.gz"]
    # a day later it tries again (and succeeds, clearing the marker)
    server.routes["/missing.tar.gz"] = Route(good)
    store, reason = auto_fetch(deadline=20, _now=marker[0] + timedelta(days=1, minutes=1))
    assert store is not None and reason == ""
    assert server.connections == ["/missing.tar.gz", "/missing.tar.gz"]
    assert cache.read_failure() is None


def test_auto_fetch_never_exceeds_its_deadline(
    data_dir: Path, server: HTTPSServer, good: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/stall.tar.gz"] = Route(good, mode="stall")
    monkeypatch.setenv(roots.URL_ENV, server.url("/stall.tar.gz"))
    start = time.monotonic()
    store, reason = roots.auto_fetch(deadline=1.0)
    assert time.monotonic() - start < 1.3
    assert store is None and reason
    assert roots.load() is None


def test_auto_fetch_never_raises(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(roots.URL_ENV, "http://insecure.example/x.tar.gz")
    store, reason = roots.auto_fetch(deadline=1.0)
    assert store is None and "only https://" in reason
