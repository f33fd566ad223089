"""Apple's trust store: download, import, verify and cache it (issue 14).

The store is the data of Apple's open-source ``security_certificates`` project, the source
from which Apple builds the root store of iOS, iPadOS and macOS. mailtls never ships it:
the user's own mailtls fetches it (:func:`fetch`, ``mailtls roots update``) or imports it
offline (:func:`import_from`, ``--from``), verifies it and caches it under
:func:`data_dir`. See docs/trust-store.md.

Contract (other layers code against it)::

    AppleStore                frozen record of one cached version (roots as DER, constraints...)
    StoreError                a one-line UsageError (the CLI prints it, exit 3)
    FetchError(StoreError)    the download itself failed (network, TLS, truncated): 'could not check'
    data_dir() -> Path        $MAILTLS_DATA_DIR, else $XDG_DATA_HOME/mailtls, else ~/.local/share/mailtls
    load(version=None)        the current (or given) cached store; None when none / corrupt
    versions()                every cached version, newest first
    import_from(path, force=) offline import (checkout, .tar.gz, flat directory); makes it current
    fetch(url=None, deadline=, force=)  download + verify + cache; makes it current
    auto_fetch(deadline=)     for ``check``: (store, "") or (None, one-line reason); never raises
    age_days(store, now=)     days since the copy was cached

Importing this package is cheap: no cryptography, ssl or urllib until a function needs them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mailtls.errors import UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

#: The public release archive of Apple's open-source security_certificates project.
DEFAULT_URL = "https://github.com/apple-oss-distributions/security_certificates/archive/refs/heads/main.tar.gz"
#: Environment variable naming a mirror of :data:`DEFAULT_URL` (``--url`` overrides it).
URL_ENV = "MAILTLS_ROOTS_URL"
#: A store with fewer roots is refused unless forced (Apple's has had 150 and more).
MIN_ROOTS = 100
#: A cached store older than this is still used, and called old.
STALE_DAYS = 90


@dataclass(frozen=True, slots=True)
class AppleStore:
    """One cached version of Apple's trust store."""

    version: int  # AssetVersion.plist VersionNumber, YYYYMMDDNN
    path: Path  # the cached directory of this version
    roots: tuple[bytes, ...]  # DER of roots/*.cer, sorted by file name
    removed: tuple[bytes, ...]  # DER of removed/*.cer, then removed/intermediates/*.cer
    # upper-hex SHA-256 -> Apple policy OIDs, from constraints.json's "system" group (its
    # "platform"/"custom" records are other anchors, never TLS: verify.merged_constraints)
    constraints: Mapping[str, tuple[str, ...]]
    ev_roots: Mapping[str, tuple[str, ...]]  # upper-hex SHA-256 -> EV policy OIDs
    ct_log_list: Mapping[str, Any] | None  # parsed log_list.json, None if absent
    imported_at: datetime  # UTC, when this copy was cached
    source: str  # URL or path it came from

    @property
    def label(self) -> str:
        return f"Apple trust store {self.version} ({len(self.roots)} roots)"


class StoreError(UsageError):
    """The store could not be imported or fetched; one line naming what was wrong."""


class FetchError(StoreError):
    """The download failed (network, TLS, deadline, truncated transfer): 'could not check'."""


def data_dir() -> Path:
    """Where mailtls keeps data: ``$MAILTLS_DATA_DIR``, else ``$XDG_DATA_HOME/mailtls``, else
    ``~/.local/share/mailtls`` (empty variables count as unset)."""
    explicit = os.environ.get("MAILTLS_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg:
        return Path(xdg).expanduser() / "mailtls"
    return Path.home() / ".local" / "share" / "mailtls"


def age_days(store: AppleStore, now: datetime | None = None) -> float:
    """Days since ``store`` was cached (by ``imported_at``)."""
    if now is None:
        from datetime import UTC

        now = datetime.now(UTC)
    return (now - store.imported_at).total_seconds() / 86400.0


def load(version: int | None = None) -> AppleStore | None:
    """The current cached store (or the given cached version); None if nothing usable."""
    from mailtls.roots.cache import load as _load

    return _load(version)


def versions() -> list[AppleStore]:
    """Every cached version that loads, newest first."""
    from mailtls.roots.cache import versions as _versions

    return _versions()


def import_from(path: Path, *, force: bool = False) -> AppleStore:
    """Import a checkout, ``.tar.gz`` or flat directory offline, verify, cache, make current."""
    from mailtls.roots.download import import_from as _import_from

    return _import_from(Path(path), force=force)


def fetch(url: str | None = None, *, deadline: float = 30.0, force: bool = False) -> AppleStore:
    """Download (verified HTTPS), verify and cache the store; make it current."""
    from mailtls.roots.download import fetch as _fetch

    return _fetch(url, deadline=deadline, force=force)


def auto_fetch(deadline: float = 8.0) -> tuple[AppleStore | None, str]:
    """For ``check`` when nothing is cached: fetch once, back off a day after a failure.

    ``(store, "")`` on success, ``(None, reason)`` (one line with the fix) on failure or
    while backing off. Never raises (but KeyboardInterrupt); never exceeds ``deadline``.
    """
    from mailtls.roots.download import auto_fetch as _auto_fetch

    return _auto_fetch(deadline)


__all__ = [
    "DEFAULT_URL",
    "MIN_ROOTS",
    "STALE_DAYS",
    "URL_ENV",
    "AppleStore",
    "FetchError",
    "StoreError",
    "age_days",
    "auto_fetch",
    "data_dir",
    "fetch",
    "import_from",
    "load",
    "versions",
]
