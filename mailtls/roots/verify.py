"""Verify a store's files before they are cached (one-line :class:`StoreError` otherwise).

* ``AssetVersion.plist`` is present and its ``VersionNumber`` is a YYYYMMDDNN integer;
* every ``roots/*.cer`` is named by 64 hex digits, parses as an X.509 certificate
  (cryptography) and the SHA-256 of its DER equals its name;
* there are at least :data:`MIN_ROOTS` roots (unless forced);
* every other certificate file parses, and the JSON files parse as the objects they must be.
"""

from __future__ import annotations

import hashlib
import json
import plistlib
import re
import warnings
from typing import Any

from mailtls.roots import MIN_ROOTS, StoreError

_ROOT_NAME = re.compile(r"roots/([0-9A-Fa-f]{64})\.cer")
_VERSION = re.compile(r"20\d{8}")


def version_of(files: dict[str, bytes]) -> int:
    data = files.get("AssetVersion.plist")
    if data is None:
        raise StoreError("no AssetVersion.plist (config/AssetVersion.plist upstream): no version")
    try:
        plist = plistlib.loads(data)
    except Exception:
        raise StoreError("AssetVersion.plist is not a readable property list") from None
    version = plist.get("VersionNumber") if isinstance(plist, dict) else None
    if isinstance(version, str) and version.isdigit():
        version = int(version)
    if (
        not isinstance(version, int)
        or isinstance(version, bool)
        or not _VERSION.fullmatch(str(version))
    ):
        raise StoreError(
            f"AssetVersion.plist: VersionNumber {version!r} is not a YYYYMMDDNN number"
        )
    return version


def parse_json(files: dict[str, bytes], name: str) -> Any:
    data = files.get(name)
    if data is None:
        return None
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise StoreError(f"{name} is not valid JSON") from None


def verify(files: dict[str, bytes], *, force: bool = False) -> int:
    """Check ``files`` (canonical paths, see layout.py); return the store's version."""
    with warnings.catch_warnings():
        # cryptography warns (and pytest -W error fails) on a few old certificates' negative
        # serial numbers; they are Apple's, and the parse below is only a sanity check.
        warnings.simplefilter("ignore")
        return _verify(files, force=force)


def _verify(files: dict[str, bytes], *, force: bool) -> int:
    from cryptography import x509

    version = version_of(files)
    roots = sorted(k for k in files if k.startswith("roots/"))
    for name in roots:
        match = _ROOT_NAME.fullmatch(name)
        if match is None:
            raise StoreError(f"{name}: a root file must be named by the SHA-256 of its DER (.cer)")
        stem = match.group(1)
        der = files[name]
        try:
            x509.load_der_x509_certificate(der)
        except ValueError:
            raise StoreError(f"{name}: not an X.509 certificate (DER)") from None
        digest = hashlib.sha256(der).hexdigest().upper()
        if digest != stem.upper():
            raise StoreError(f"{name}: its SHA-256 is {digest}, not its file name (corrupted?)")
    if len(roots) < MIN_ROOTS and not force:
        raise StoreError(
            f"only {len(roots)} roots (Apple's store has more than {MIN_ROOTS}): refusing it "
            "(--force to take it anyway)"
        )
    if not roots:
        raise StoreError("no roots at all (roots/*.cer or certificates/roots/*.cer)")
    for name in sorted(files):
        if not name.startswith("roots/") and "/" in name:
            try:
                x509.load_der_x509_certificate(files[name])
            except ValueError:
                # removed/ holds some ancient certificates cryptography cannot read; they
                # are kept as bytes (matched by hash), so only an empty file is refused.
                if not files[name]:
                    raise StoreError(f"{name}: empty certificate file") from None
    constraints = parse_json(files, "constraints.json")
    if constraints is not None and not (
        isinstance(constraints, dict)
        and all(isinstance(group, dict) for group in constraints.values())
    ):
        raise StoreError("constraints.json: not an object of groups (system, platform, custom)")
    ev = parse_json(files, "EVRoots.json")
    if ev is not None and not (isinstance(ev, dict) and isinstance(ev.get("EV_config", {}), dict)):
        raise StoreError("EVRoots.json: not an object with EV_config")
    log_list = parse_json(files, "log_list.json")
    if log_list is not None and not isinstance(log_list, dict):
        raise StoreError("log_list.json: not a JSON object")
    parse_json(files, "hash_to_human_name.json")
    return version


def merged_constraints(raw: Any) -> dict[str, tuple[str, ...]]:
    """constraints.json's "system" group: what limits a root of roots/ as a system anchor.
    "platform" and "custom" records are separate anchors for Apple's own and for other
    constrained policies, never for TLS servers (anchorRecordsPermitttedForPolicy:,
    Security trust/trustd/SecAnchorCache.m); GTS Root R1 is in both roots/ and "custom"."""
    merged: dict[str, tuple[str, ...]] = {}
    if not isinstance(raw, dict):
        return merged
    for group in ("system",):
        entries = raw.get(group)
        if not isinstance(entries, dict):
            continue
        for sha, oids in entries.items():
            if not isinstance(sha, str) or not isinstance(oids, list):
                continue
            key = sha.upper()
            merged[key] = tuple(dict.fromkeys([*merged.get(key, ()), *map(str, oids)]))
    return merged


def ev_roots(raw: Any) -> dict[str, tuple[str, ...]]:
    """EVRoots.json's EV_config: SHA-256 -> EV policy OIDs."""
    if not isinstance(raw, dict):
        return {}
    config = raw.get("EV_config", {})
    if not isinstance(config, dict):
        return {}
    return {
        sha.upper(): tuple(map(str, oids))
        for sha, oids in config.items()
        if isinstance(sha, str) and isinstance(oids, list)
    }
