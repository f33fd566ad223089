"""Offline import (`--from`) of the three layouts, verification, the cache and data_dir."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailtls import roots
from mailtls.errors import UsageError
from mailtls.roots import cache
from tests.roots.storebuild import (
    SHARED_ROOTS,
    SHARED_VERSION,
    flat_store,
    sha_name,
    snapshot,
    tar_with,
    tarball,
    upstream_checkout,
)


def _check_store(store: roots.AppleStore, our_root: bytes, data_dir: Path) -> None:
    assert store.version == SHARED_VERSION
    assert len(store.roots) == SHARED_ROOTS + 1
    assert our_root in store.roots
    assert store.label == f"Apple trust store {SHARED_VERSION} ({SHARED_ROOTS + 1} roots)"
    assert store.path == data_dir / "apple-trust-store" / "versions" / str(SHARED_VERSION)
    names = [hashlib.sha256(d).hexdigest().upper() for d in store.roots]
    assert names == sorted(names)  # sorted by file name
    assert len(store.removed) > 200  # removed/ and removed/intermediates/
    assert not set(store.removed) & set(store.roots)
    # constraints: the "system" group, what limits a root of roots/ as a system anchor;
    # "platform" and "custom" records are other anchors (never TLS), test-* are tests
    raw = json.loads((store.path / "constraints.json").read_bytes())
    assert store.constraints == {k: tuple(v) for k, v in raw["system"].items()}
    some_system = next(iter(raw["system"]))
    assert set(raw["platform"][some_system]) - set(store.constraints[some_system])
    assert not set(raw["custom"]) & set(store.constraints)
    assert not set(raw["test-system"]) & set(store.constraints)
    assert all(isinstance(v, tuple) for v in store.constraints.values())
    assert store.ev_roots and all(k == k.upper() and len(k) == 64 for k in store.ev_roots)
    assert "2.23.140.1.1" in next(iter(store.ev_roots.values()))
    assert store.ct_log_list is not None and "operators" in store.ct_log_list
    assert store.imported_at.tzinfo is not None
    assert roots.load() == store


def test_import_flat_directory(data_dir: Path, flat: Path, our_root: bytes) -> None:
    store = roots.import_from(flat)
    _check_store(store, our_root, data_dir)
    assert store.source == str(flat.resolve())


def test_import_upstream_checkout(
    data_dir: Path, flat: Path, our_root: bytes, tmp_path: Path
) -> None:
    checkout = upstream_checkout(flat, tmp_path / "security_certificates")
    _check_store(roots.import_from(checkout), our_root, data_dir)
    # an extracted GitHub archive: the checkout one directory down
    shutil.rmtree(data_dir)
    outer = tmp_path / "extracted"
    outer.mkdir()
    checkout.rename(outer / "security_certificates-main")
    _check_store(roots.import_from(outer), our_root, data_dir)


def test_import_tar_gz(data_dir: Path, flat: Path, our_root: bytes, tmp_path: Path) -> None:
    checkout = upstream_checkout(flat, tmp_path / "checkout")
    archive = tarball(checkout, tmp_path / "main.tar.gz")
    _check_store(roots.import_from(archive), our_root, data_dir)


def test_store_error_is_a_usage_error() -> None:
    assert issubclass(roots.StoreError, UsageError)
    assert issubclass(roots.FetchError, roots.StoreError)


def _cache_with_shared(flat: Path) -> dict[str, bytes]:
    store = roots.import_from(flat)
    return snapshot(store.path.parent.parent)


def _still_intact(before: dict[str, bytes], data_dir: Path) -> None:
    assert snapshot(data_dir / "apple-trust-store") == before
    store = roots.load()
    assert store is not None and store.version == SHARED_VERSION


def test_wrong_hash_is_refused_and_the_cache_stays(
    data_dir: Path, flat: Path, tmp_path: Path, our_root: bytes
) -> None:
    before = _cache_with_shared(flat)
    bad = flat_store(tmp_path / "bad", version=SHARED_VERSION + 100)
    victim = sorted((bad / "roots").iterdir())[3]
    victim.rename(victim.with_name(sha_name(our_root)))  # a real root under another's name
    with pytest.raises(roots.StoreError, match=r"SHA-256 is [0-9A-F]{64}, not its file name"):
        roots.import_from(bad)
    _still_intact(before, data_dir)


def test_a_root_that_is_not_a_certificate_is_refused(
    data_dir: Path, flat: Path, tmp_path: Path
) -> None:
    before = _cache_with_shared(flat)
    bad = flat_store(tmp_path / "bad", version=SHARED_VERSION + 100)
    junk = b"-----BEGIN nothing-----"
    (bad / "roots" / sha_name(junk)).write_bytes(junk)
    with pytest.raises(roots.StoreError, match=r"not an X\.509 certificate"):
        roots.import_from(bad)
    (bad / "roots" / sha_name(junk)).unlink()
    (bad / "roots" / "DigiCert.cer").write_bytes(next((bad / "roots").iterdir()).read_bytes())
    with pytest.raises(roots.StoreError, match="named by the SHA-256"):
        roots.import_from(bad)
    _still_intact(before, data_dir)


def test_too_few_roots_needs_force(data_dir: Path, flat: Path, tmp_path: Path) -> None:
    before = _cache_with_shared(flat)
    few = flat_store(tmp_path / "few", version=SHARED_VERSION + 100, keep_roots=10)
    with pytest.raises(roots.StoreError, match=r"only 10 roots.*--force"):
        roots.import_from(few)
    _still_intact(before, data_dir)
    forced = roots.import_from(few, force=True)
    assert forced.version == SHARED_VERSION + 100 and len(forced.roots) == 10
    assert roots.load() == forced


def test_an_older_version_needs_force_and_versions_are_kept(
    data_dir: Path, flat: Path, tmp_path: Path
) -> None:
    before = _cache_with_shared(flat)
    older = flat_store(tmp_path / "older", version=2024010100)
    with pytest.raises(roots.StoreError, match="older than the cached 2025072000"):
        roots.import_from(older)
    _still_intact(before, data_dir)
    assert roots.import_from(older, force=True).version == 2024010100
    assert roots.load() is not None and roots.load().version == 2024010100  # type: ignore[union-attr]
    newer = flat_store(tmp_path / "newer", version=2026010100)
    roots.import_from(newer)
    assert [s.version for s in roots.versions()] == [2026010100, SHARED_VERSION, 2024010100]
    assert roots.load(SHARED_VERSION) is not None
    assert roots.load(SHARED_VERSION).version == SHARED_VERSION  # type: ignore[union-attr]
    assert roots.load(1999010100) is None


def test_same_version_again_is_not_rewritten(data_dir: Path, flat: Path) -> None:
    first = roots.import_from(flat)
    meta = (first.path / "meta.json").read_bytes()
    again = roots.import_from(flat)
    assert again == first and (first.path / "meta.json").read_bytes() == meta
    forced = roots.import_from(flat, force=True)
    assert forced.imported_at > first.imported_at
    assert not list((data_dir / "apple-trust-store").glob("tmp-*"))


def test_missing_version_and_bad_json(data_dir: Path, tmp_path: Path) -> None:
    store = flat_store(tmp_path / "s")
    (store / "AssetVersion.plist").unlink()
    with pytest.raises(roots.StoreError, match=r"no AssetVersion\.plist"):
        roots.import_from(store)
    (store / "AssetVersion.plist").write_bytes(
        b"<plist><dict><key>VersionNumber</key><string>x</string></dict></plist>"
    )
    with pytest.raises(roots.StoreError, match="VersionNumber"):
        roots.import_from(store)
    store2 = flat_store(tmp_path / "s2")
    (store2 / "constraints.json").write_text("{not json")
    with pytest.raises(roots.StoreError, match=r"constraints\.json is not valid JSON"):
        roots.import_from(store2)
    assert roots.load() is None


def test_not_a_store(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(roots.StoreError, match="no such file"):
        roots.import_from(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(roots.StoreError, match="not a trust store"):
        roots.import_from(tmp_path / "empty")
    (tmp_path / "junk.tar.gz").write_bytes(b"\x1f\x8b\x08garbage" * 100)
    with pytest.raises(roots.StoreError, match=r"not a readable \.tar\.gz"):
        roots.import_from(tmp_path / "junk.tar.gz")


@pytest.mark.parametrize(
    ("name", "kind", "message"),
    [
        ("../certificates/roots/X.cer", tarfile.REGTYPE, "unsafe member"),
        ("/etc/certificates/roots/X.cer", tarfile.REGTYPE, "unsafe member"),
        ("top/certificates/roots/" + "A" * 64 + ".cer", tarfile.SYMTYPE, "is a link"),
        ("top/certificates/roots/" + "A" * 64 + ".cer", tarfile.LNKTYPE, "is a link"),
    ],
)
def test_unsafe_archive_members_are_refused(
    data_dir: Path, tmp_path: Path, name: str, kind: bytes, message: str
) -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
        info.linkname = "/etc/passwd"
        archive = tar_with(tmp_path / "evil.tar.gz", [(info, None)])
    else:
        archive = tar_with(tmp_path / "evil.tar.gz", [(info, b"x")])
    with pytest.raises(roots.StoreError, match=message):
        roots.import_from(archive)
    assert not (data_dir / "apple-trust-store" / "versions").exists()


def test_oversized_member_is_refused(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mailtls.roots import layout

    monkeypatch.setattr(layout, "MAX_MEMBER_BYTES", 1000)
    info = tarfile.TarInfo("top/certificate_transparency/log_list.json")
    archive = tar_with(tmp_path / "big.tar.gz", [(info, b" " * 5000)])
    with pytest.raises(roots.StoreError, match="more than a store file may be"):
        roots.import_from(archive)


def test_corrupt_cache_loads_as_none(data_dir: Path, flat: Path) -> None:
    store = roots.import_from(flat)
    next((store.path / "roots").iterdir()).unlink()  # a root missing: counts disagree
    assert roots.load() is None
    assert roots.versions() == []
    roots.import_from(flat, force=True)
    assert roots.load() is not None
    (store.path / "meta.json").write_text("{")
    assert roots.load() is None
    (store.path / "meta.json").write_text(json.dumps({"version": 1, "roots": 1}))
    assert roots.load() is None


def test_current_pointer_decides_and_falls_back(data_dir: Path, tmp_path: Path) -> None:
    roots.import_from(flat_store(tmp_path / "a", version=2025010100))
    roots.import_from(flat_store(tmp_path / "b", version=2025020200))
    assert roots.load().version == 2025020200  # type: ignore[union-attr]
    cache.set_current(2025010100)
    assert roots.load().version == 2025010100  # type: ignore[union-attr]
    (data_dir / "apple-trust-store" / "current").write_text("garbage")
    assert roots.load().version == 2025020200  # type: ignore[union-attr]  # newest that loads


def test_nothing_cached(data_dir: Path) -> None:
    assert roots.load() is None
    assert roots.versions() == []


def test_age_days(data_dir: Path, flat: Path) -> None:
    store = roots.import_from(flat)
    later = store.imported_at + timedelta(days=roots.STALE_DAYS + 1.5)
    assert roots.age_days(store, later) == pytest.approx(roots.STALE_DAYS + 1.5)
    assert 0 <= roots.age_days(store) < 0.1
    assert store.imported_at <= datetime.now(UTC)


def test_data_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MAILTLS_DATA_DIR", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert roots.data_dir() == tmp_path / "home" / ".local" / "share" / "mailtls"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert roots.data_dir() == tmp_path / "xdg" / "mailtls"
    monkeypatch.setenv("MAILTLS_DATA_DIR", str(tmp_path / "explicit"))
    assert roots.data_dir() == tmp_path / "explicit"
    monkeypatch.setenv("MAILTLS_DATA_DIR", "")
    assert roots.data_dir() == tmp_path / "xdg" / "mailtls"


def test_importing_the_package_is_cheap() -> None:
    code = (
        "import sys, mailtls.roots; "
        "print(sorted(m for m in ('cryptography', 'ssl', 'urllib.request', 'tarfile', 'json') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "[]"
