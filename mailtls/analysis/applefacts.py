"""What mailtls knows about Apple's trust store without the store itself.

The project may not carry Apple's certificates (docs/trust-store.md), but it may carry facts
about them: the store's version and, for each root, its SHA-256 fingerprint, subject and key
identifier. With these, a check that has to fall back to certifi's bundle (Mozilla's list)
keeps Mozilla-only roots from anchoring, and names a missing issuer that every iPhone
trusts instead of calling it a possible private root.

``apple_store_facts.json`` beside this module is made by ``scripts/apple-store-facts`` from
a copy of the store; ``tests/analysis/test_apple_facts.py`` remakes it from the shared copy.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

FACTS_FILE = Path(__file__).with_name("apple_store_facts.json")

#: What a fact says of a certificate: a root for TLS servers; a root that constraints.json
#: limits to other Apple policies; or a certificate Apple removed from the store.
Status = Literal["trusted", "restricted", "removed"]

#: Apple's SSL policy as constraints.json names it: kSecPolicyAppleSSL and its server form
#: (``.3.1``; ``.3.2`` is the client form). ConvertPolicyOidToCompatibilityOid maps ``.3.1``
#: back to ``.3`` (Security, trust/trustd/SecAnchorCache.m).
SSL_POLICY = "1.2.840.113635.100.1.3"
SSL_SERVER_POLICIES = frozenset({SSL_POLICY, SSL_POLICY + ".1"})


def may_anchor_tls(policies: tuple[str, ...] | list[str]) -> bool:
    """Does a system root limited to these Apple policies anchor a TLS server's chain? An
    empty list limits nothing (anchorRecordsPermitttedForPolicy:, SecAnchorCache.m)."""
    return not policies or any(p.strip() in SSL_SERVER_POLICIES for p in policies)


@dataclass(frozen=True, slots=True)
class KnownRoot:
    sha256: str  # upper-case hex of the DER
    subject: str  # as mailtls prints names (CertificateInfo.subject)
    key_id: str | None  # subjectKeyIdentifier, lower-case hex
    status: Status
    policies: tuple[str, ...] = ()  # the Apple policy OIDs a restricted root is limited to


_STATUS_ORDER: dict[str, int] = {"trusted": 0, "restricted": 1, "removed": 2}


@dataclass(frozen=True)  # no slots: cached_property needs the instance's __dict__
class StoreFacts:
    version: int
    roots: tuple[KnownRoot, ...]

    @functools.cached_property
    def _by_sha256(self) -> dict[str, KnownRoot]:
        return {r.sha256: r for r in self.roots}

    @functools.cached_property
    def _by_name(self) -> dict[str, tuple[KnownRoot, ...]]:
        index: dict[str, list[KnownRoot]] = {}
        for r in self.roots:
            index.setdefault(r.subject, []).append(r)
        return {k: tuple(v) for k, v in index.items()}

    def by_certificate(self, sha256: str, subject: str, key_id: str | None) -> KnownRoot | None:
        """The fact for this certificate: the same DER, or the same name and key identifier
        (a root re-issued with the same key is the same root to a path builder)."""
        exact = self._by_sha256.get(sha256.upper())
        if exact is not None:
            return exact
        if key_id is None:
            return None
        for known in self._by_name.get(subject, ()):
            if known.key_id == key_id.lower():
                return known
        return None

    def by_issuer(self, issuer: str, aki: str | None) -> KnownRoot | None:
        """The certificate a child names as its issuer (by name, and key id when it has one);
        a trusted one wins over a removed one of the same name (a re-keyed CA)."""
        candidates = self._by_name.get(issuer, ())
        if aki is not None:
            candidates = tuple(c for c in candidates if c.key_id == aki.lower())
        return min(candidates, key=lambda c: _STATUS_ORDER[c.status], default=None)


def facts_from_json(data: Any) -> StoreFacts:
    roots = [
        KnownRoot(
            sha256=str(entry["sha256"]),
            subject=str(entry["subject"]),
            key_id=entry.get("key_id") or None,
            status=entry["status"],
            policies=tuple(entry.get("policies", ())),
        )
        for entry in data["roots"]
    ]
    return StoreFacts(version=int(data["version"]), roots=tuple(roots))


@functools.cache
def apple_facts() -> StoreFacts | None:
    """The facts shipped with mailtls (None if the file is missing or unreadable)."""
    try:
        return facts_from_json(json.loads(FACTS_FILE.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --------------------------------------------------------------------------- making the facts


def facts_json(store: Path) -> str:
    """The facts file for a store directory (``scripts/apple-store-facts``): only the
    version and, per certificate, SHA-256, subject, key identifier and status."""
    import hashlib
    import plistlib

    from mailtls.analysis.certs import describe_certificate

    base = store / "certificates" if (store / "certificates" / "roots").is_dir() else store
    plist = next(
        p
        for p in (store / "config" / "AssetVersion.plist", store / "AssetVersion.plist")
        if p.exists()
    )
    version = int(plistlib.loads(plist.read_bytes())["VersionNumber"])
    constraints = json.loads((base / "constraints.json").read_text(encoding="utf-8"))
    # Only the "system" group limits what a root of roots/ anchors; "platform" and "custom"
    # records serve other policies (anchorRecordsPermitttedForPolicy:, SecAnchorCache.m).
    limited: dict[str, list[str]] = constraints.get("system", {})

    def entry(der: bytes, status: Status) -> dict[str, object]:
        sha256 = hashlib.sha256(der).hexdigest().upper()
        info = describe_certificate(der)
        policies = limited.get(sha256)
        if status == "trusted" and policies is not None and not may_anchor_tls(policies):
            status = "restricted"
        out: dict[str, object] = {
            "sha256": sha256,
            "subject": info.subject,
            "key_id": info.ski,
            "status": status,
        }
        if status == "restricted":
            out["policies"] = [p.strip() for p in policies or ()]
        return out

    roots = [entry(p.read_bytes(), "trusted") for p in sorted((base / "roots").glob("*.cer"))]
    known = {str(r["sha256"]) for r in roots}
    removed = sorted(
        p for p in (base / "removed").rglob("*") if p.suffix in (".cer", ".crt", ".der")
    )
    for path in removed:
        fact = entry(path.read_bytes(), "removed")
        if fact["sha256"] not in known:  # a certificate both kept and removed is kept
            known.add(str(fact["sha256"]))
            roots.append(fact)
    return json.dumps({"version": version, "roots": roots}, indent=1, sort_keys=True) + "\n"
