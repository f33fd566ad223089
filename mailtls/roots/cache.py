"""The cache of Apple's trust store under :func:`mailtls.roots.data_dir`::

    apple-trust-store/
      versions/2025072000/   one directory per version, canonical layout (see layout.py)
        meta.json            {"version", "source", "imported_at", "roots", "removed", ...}
      current                the version in use (one line), replaced atomically
      fetch-failed.json      the last failed automatic fetch (time, reason): a day's back-off
      tmp-*/                 a version being written (removed on failure; stale ones swept)

A version is written into ``tmp-*`` and moved into place with ``os.replace``; ``meta.json``
is written last, so a directory under ``versions/`` is complete. ``current`` is written to
a temporary file and replaced. A reader never sees half a version.

Loading reads files only (no certificate parsing): a corrupt or partial cache is None.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailtls.roots import AppleStore, StoreError, data_dir

STORE_DIR = "apple-trust-store"
META = "meta.json"
CURRENT = "current"
FAILURE_MARKER = "fetch-failed.json"


def store_root() -> Path:
    return data_dir() / STORE_DIR


def versions_dir() -> Path:
    return store_root() / "versions"


def current_version() -> int | None:
    try:
        text = (store_root() / CURRENT).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def cached_versions() -> list[int]:
    """Version numbers with a directory under versions/, newest first (not yet loaded)."""
    try:
        names = [p.name for p in versions_dir().iterdir() if p.is_dir()]
    except OSError:
        return []
    return sorted((int(n) for n in names if n.isdigit()), reverse=True)


def load(version: int | None = None) -> AppleStore | None:
    """The current store, or ``version``; None when nothing (usable) is cached."""
    if version is not None:
        return _load_dir(versions_dir() / str(version))
    current = current_version()
    if current is not None:
        store = _load_dir(versions_dir() / str(current))
        if store is not None:
            return store
    for number in cached_versions():  # no (usable) pointer: the newest version that loads
        store = _load_dir(versions_dir() / str(number))
        if store is not None:
            return store
    return None


def versions() -> list[AppleStore]:
    stores = (_load_dir(versions_dir() / str(n)) for n in cached_versions())
    return [s for s in stores if s is not None]


def _cert_files(directory: Path) -> list[Path]:
    from mailtls.roots.layout import CERT_SUFFIXES

    try:
        entries = sorted(directory.iterdir(), key=lambda p: p.name)
    except FileNotFoundError:
        return []
    return [p for p in entries if p.name.lower().endswith(CERT_SUFFIXES) and p.is_file()]


def _json_or_none(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return json.loads(data)


def _load_dir(path: Path) -> AppleStore | None:
    from mailtls.roots.verify import ev_roots, merged_constraints

    try:
        meta = json.loads((path / META).read_bytes())
        version = int(meta["version"])
        if str(version) != path.name:
            return None
        roots = tuple(p.read_bytes() for p in _cert_files(path / "roots"))
        if not roots or len(roots) != int(meta["roots"]):
            return None
        # A certificate both in roots/ and in removed/ (Apple's data has one: AppleDEVID in
        # removed/intermediates/) is a root: roots/ decides.
        in_roots = set(roots)
        removed = tuple(
            der
            for der in (
                p.read_bytes()
                for p in [
                    *_cert_files(path / "removed"),
                    *_cert_files(path / "removed" / "intermediates"),
                ]
            )
            if der not in in_roots
        )
        imported_at = datetime.fromisoformat(str(meta["imported_at"]))
        if imported_at.tzinfo is None:
            imported_at = imported_at.replace(tzinfo=UTC)
        log_list = _json_or_none(path / "log_list.json")
        return AppleStore(
            version=version,
            path=path,
            roots=roots,
            removed=removed,
            constraints=merged_constraints(_json_or_none(path / "constraints.json")),
            ev_roots=ev_roots(_json_or_none(path / "EVRoots.json")),
            ct_log_list=log_list if isinstance(log_list, dict) else None,
            imported_at=imported_at.astimezone(UTC),
            source=str(meta.get("source", "")),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_version(
    files: dict[str, bytes], version: int, *, source: str, now: datetime | None = None
) -> AppleStore:
    """Cache ``files`` (verified, canonical paths) as ``version`` and make it current."""
    root = store_root()
    target = versions_dir() / str(version)
    imported_at = (now or datetime.now(UTC)).astimezone(UTC)
    try:
        versions_dir().mkdir(parents=True, exist_ok=True)
        _sweep_temporaries(root)
        tmp = Path(tempfile.mkdtemp(prefix="tmp-", dir=root))
    except OSError as exc:
        raise StoreError(f"{root}: cannot write the cache ({exc.strerror or exc})") from None
    try:
        for name, data in files.items():
            dest = tmp / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        meta = {
            "version": version,
            "source": source,
            "imported_at": imported_at.isoformat(),
            "roots": sum(1 for n in files if n.startswith("roots/")),
            "removed": sum(1 for n in files if n.startswith("removed/")),
            "files": len(files),
        }
        (tmp / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700; the store is public data
        if target.exists():  # re-caching a version (--force): move the old one aside first
            old = Path(tempfile.mkdtemp(prefix="tmp-old-", dir=root))
            os.replace(target, old / "v")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
        set_current(version)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise StoreError(f"{root}: cannot write the cache ({exc.strerror or exc})") from None
    store = _load_dir(target)
    if store is None:  # pragma: no cover - written just now
        raise StoreError(f"{target}: the cached copy does not load back")
    return store


def set_current(version: int) -> None:
    root = store_root()
    fd, tmp_name = tempfile.mkstemp(prefix="tmp-current-", dir=root)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(f"{version}\n")
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, root / CURRENT)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _sweep_temporaries(root: Path, max_age: float = 3600.0) -> None:
    """Remove ``tmp-*`` left by an interrupted run (older than an hour: not a running one)."""
    import time

    for entry in root.glob("tmp-*"):
        try:
            if time.time() - entry.stat().st_mtime > max_age:
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink()
        except OSError:
            continue


# --- the automatic fetch's back-off ---------------------------------------------------------


def read_failure() -> tuple[datetime, str] | None:
    try:
        data = json.loads((store_root() / FAILURE_MARKER).read_bytes())
        when = datetime.fromisoformat(str(data["time"]))
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when, str(data.get("reason", ""))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_failure(when: datetime, reason: str) -> None:
    root = store_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix="tmp-failed-", dir=root)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"time": when.astimezone(UTC).isoformat(), "reason": reason}, handle)
        os.replace(tmp_name, root / FAILURE_MARKER)
    except OSError:
        pass  # an unwritable data directory must not break a check; it just retries


def clear_failure() -> None:
    with contextlib.suppress(OSError):
        (store_root() / FAILURE_MARKER).unlink(missing_ok=True)
