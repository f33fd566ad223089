"""Trust stores: the system store (SYS) and the roots installed on the iPhone (USR).

The system store is Apple's published store once it is cached (``mailtls roots update``,
docs/trust-store.md). Without it, certifi's bundle (Mozilla's list) stands in, cut down to
the roots that Apple's store also has, by the facts mailtls carries about Apple's store
(:mod:`mailtls.analysis.applefacts`): a Mozilla-only root never anchors a chain.

A store holds DER certificates indexed by subject name; a certificate is parsed fully only
when path building actually uses it.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailtls.analysis import asn1
from mailtls.analysis.applefacts import KnownRoot, StoreFacts, apple_facts, may_anchor_tls
from mailtls.analysis.certs import (
    ParsedCertificate,
    certificates_from_bytes,
    load_certificates,
    parse_certificate,
)
from mailtls.errors import InputFileError
from mailtls.model import AnchorKind

if TYPE_CHECKING:
    from mailtls.roots import AppleStore


def _subject_of(der: bytes) -> bytes:
    """Raw subject Name of a certificate, read without a full parse (b"" if unreadable)."""
    try:
        certificate, _ = asn1.read_tlv(der)
        tbs, _ = asn1.read_tlv(certificate.content)
        fields = tbs.content
        element, offset = asn1.read_tlv(fields)
        if element.is_context(0):  # [0] version, then the serial number
            element, offset = asn1.read_tlv(fields, offset)
        for _ in range(3):  # signature algorithm, issuer, validity
            element, offset = asn1.read_tlv(fields, offset)
        subject, _ = asn1.read_tlv(fields, offset)
        return subject.raw
    except (asn1.DerError, IndexError):
        return b""


@dataclass(frozen=True)  # no slots: cached_property needs the instance's __dict__
class TrustStore:
    """A set of anchors. ``kind`` is SYS for the system store, USR for installed roots."""

    label: str
    kind: AnchorKind
    certificates: tuple[bytes, ...] = ()  # DER
    #: Apple's Certificate Transparency log list (``log_list.json``, schema v5) when the
    #: store came from Apple's published data; None when unknown (a PEM file, certifi).
    ct_log_list: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    #: Where the anchors come from: "apple" (Apple's published store), "standin" (certifi
    #: cut down to Apple's roots), "file" (--system-roots), "user" (--ca-file).
    source: str = "file"
    version: int | None = None  # Apple's trust store version (YYYYMMDDNN), when known
    #: Apple certificates that do not anchor a TLS server: removed from the store, or limited
    #: by constraints.json to other Apple policies; (DER, "removed" | "restricted", policies).
    withheld: tuple[tuple[bytes, str, tuple[str, ...]], ...] = field(
        default=(), compare=False, repr=False
    )
    #: Set when the store is in use but should be replaced (old, or a stand-in): one line.
    hint: str = ""

    @functools.cached_property
    def _by_subject(self) -> dict[bytes, tuple[bytes, ...]]:
        """The certificates by raw subject name (made on first use, once)."""
        index: dict[bytes, list[bytes]] = {}
        for der in self.certificates:
            index.setdefault(_subject_of(der), []).append(der)
        return {k: tuple(v) for k, v in index.items()}

    def indexed(self) -> TrustStore:
        """This store with its index made now (loading threads call it)."""
        _ = self._by_subject
        return self

    def __len__(self) -> int:
        return len(self.certificates)

    def issuers_for(self, child: ParsedCertificate) -> list[ParsedCertificate]:
        """Anchors whose subject is the child's issuer name (signature not yet checked)."""
        found = []
        for der in self._by_subject.get(child.issuer_der, ()):
            try:
                found.append(parse_certificate(der))
            except Exception:  # a broken store entry never stops an analysis
                continue
        if len(found) > 1 and child.info.aki:
            # Several roots with this name (re-keyed CAs): the one whose key identifier the
            # child names comes first, as in RFC 4158 path building.
            found.sort(key=lambda c: c.info.ski != child.info.aki)
        return found

    @functools.cached_property
    def facts(self) -> StoreFacts | None:
        """What is known of Apple's store beyond the anchors: the withheld certificates of an
        Apple store, or, for the stand-in, the facts mailtls carries (None for other stores)."""
        if self.source == "standin":
            return apple_facts()
        if self.source != "apple":
            return None
        known: list[KnownRoot] = []
        for der, status, policies in self.withheld:
            try:
                info = parse_certificate(der).info
            except Exception:  # a broken entry only loses its name
                continue
            known.append(
                KnownRoot(
                    sha256=info.sha256.upper(),
                    subject=info.subject,
                    key_id=info.ski,
                    status="removed" if status == "removed" else "restricted",
                    policies=policies,
                )
            )
        return StoreFacts(self.version or 0, tuple(known))

    def known_root(self, cert: ParsedCertificate) -> KnownRoot | None:
        """What Apple's store says of this certificate (removed, restricted, trusted), if
        anything."""
        facts = self.facts
        info = cert.info
        return facts.by_certificate(info.sha256, info.subject, info.ski) if facts else None

    def known_issuer(self, cert: ParsedCertificate) -> KnownRoot | None:
        """What Apple's store says of the issuer ``cert`` names, if anything."""
        facts = self.facts
        return facts.by_issuer(cert.info.issuer, cert.info.aki) if facts else None

    def contains(self, cert: ParsedCertificate) -> bool:
        """Is this exact certificate (or one with the same subject and key) an anchor here?"""
        if self.source == "standin":
            # A presented root with the fingerprint of one of Apple's is that root, even
            # when certifi lacks it.
            known = self.known_root(cert)
            if (
                known is not None
                and known.status == "trusted"
                and known.sha256 == cert.info.sha256.upper()
            ):
                return True
        for der in self._by_subject.get(cert.subject_der, ()):
            if der == cert.der:
                return True
            try:
                other = parse_certificate(der)
            except Exception:
                continue
            if other.spki_der == cert.spki_der:
                return True
        return False

    def with_certificates(self, extra: Sequence[bytes], label: str | None = None) -> TrustStore:
        return replace(self, label=label or self.label, certificates=(*self.certificates, *extra))


#: The stand-in, said honestly (docs/trust-store.md).
_STANDIN_LABEL = (
    "certifi {version} as a stand-in for Apple's trust store {apple} "
    "({count} roots in both; run `mailtls roots update`)"
)
STANDIN_HINT = (
    "Apple's trust store is not cached: judging with certifi's bundle (Mozilla's list) as a "
    "stand-in, cut down to the roots Apple's store has; run `mailtls roots update`"
)


def system_store(path: Path | None = None, *, version: int | None = None) -> TrustStore:
    """The system trust store (SYS): the roots in ``path`` (--system-roots); else Apple's
    cached store (``version``, or the current one); else certifi's bundle as a stand-in.

    Cached per argument: loading happens once per process. Never reaches the network: a
    missing store is fetched by the commands that may (``check``), before this is called.
    """
    return _system_store(Path(path) if path is not None else None, version)


@functools.lru_cache(maxsize=8)
def _system_store(path: Path | None, version: int | None) -> TrustStore:
    if path is not None:
        certs = load_certificates(path)
        return TrustStore(
            f"system roots from {path} ({len(certs)} certificates)", AnchorKind.SYS, tuple(certs)
        ).indexed()
    from mailtls import roots

    apple = roots.load(version)
    if apple is None and version is not None:
        from mailtls.errors import UsageError

        cached = ", ".join(str(s.version) for s in roots.versions()) or "none"
        raise UsageError(
            f"--roots-version {version}: not cached (cached: {cached}); "
            "import it with `mailtls roots update --from PATH`"
        )
    if apple is not None:
        return apple_store(apple)
    return standin_store()


def apple_store(apple: AppleStore) -> TrustStore:
    """A TrustStore of Apple's published store: the roots that may anchor a TLS server; the
    removed ones and those constraints.json limits to other policies are withheld, by name."""
    from mailtls import roots

    anchors: list[bytes] = []
    withheld: list[tuple[bytes, str, tuple[str, ...]]] = []
    for der in apple.roots:
        policies = apple.constraints.get(hashlib.sha256(der).hexdigest().upper())
        if policies is not None and not may_anchor_tls(policies):
            withheld.append((der, "restricted", tuple(policies)))
        else:
            anchors.append(der)
    withheld.extend((der, "removed", ()) for der in apple.removed)
    age = roots.age_days(apple)
    hint = ""
    label = apple.label
    if age > roots.STALE_DAYS:
        label += f", old: imported {int(age)} days ago"
        hint = (
            f"Apple's trust store {apple.version} was imported {int(age)} days ago; "
            "run `mailtls roots update`"
        )
    return TrustStore(
        label,
        AnchorKind.SYS,
        tuple(anchors),
        ct_log_list=apple.ct_log_list,
        source="apple",
        version=apple.version,
        withheld=tuple(withheld),
        hint=hint,
    ).indexed()


def standin_store() -> TrustStore:
    """certifi's bundle, cut down to the roots of Apple's store (by the facts mailtls carries):
    a chain that ends in a Mozilla-only root is never trusted."""
    bundle, version = certifi_bundle()
    try:
        certs = certificates_from_bytes(bundle.read_bytes(), str(bundle))
    except (OSError, InputFileError):
        certs = []
    facts = apple_facts()
    kept: list[bytes] = []
    for der in certs:
        try:
            info = parse_certificate(der).info
        except Exception:
            continue
        known = facts.by_certificate(info.sha256, info.subject, info.ski) if facts else None
        if known is not None and known.status == "trusted":
            kept.append(der)
    apple = str(facts.version) if facts else "(unknown version)"
    return TrustStore(
        _STANDIN_LABEL.format(version=version, apple=apple, count=len(kept)),
        AnchorKind.SYS,
        tuple(kept),
        source="standin",
        version=facts.version if facts else None,
        hint=STANDIN_HINT,
    ).indexed()


def certifi_bundle() -> tuple[Path, str]:
    """certifi's ``cacert.pem`` and certifi's version, without importing certifi if possible.

    ``import certifi`` loads ``importlib.resources`` (with tempfile, zipfile, shutil) to find
    a file that an ordinary installation keeps beside the package. So the package is located without importing it; certifi itself is
    asked only when it is already imported, or when the bundle is not a plain file there
    (a zip import, a layout we do not know).
    """
    module = sys.modules.get("certifi")
    if module is None:
        from importlib.util import find_spec

        try:
            spec = find_spec("certifi")
        except (ImportError, ValueError):
            spec = None
        for location in (spec.submodule_search_locations or ()) if spec else ():
            bundle, init = Path(location, "cacert.pem"), Path(location, "__init__.py")
            version = _version_in(init)
            if version and bundle.is_file():
                return bundle, version
    import certifi

    return Path(certifi.where()), str(certifi.__version__)


def _version_in(init: Path) -> str | None:
    """The ``__version__ = "..."`` string assigned in a package's ``__init__.py``, or None."""
    try:
        text = init.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        name, equals, value = line.partition("=")
        if equals and name.strip() == "__version__":
            value = value.split("#", 1)[0].strip()
            if len(value) > 2 and value[0] == value[-1] and value[0] in "\"'":
                return value[1:-1]
    return None


def user_store(paths: Sequence[Path]) -> TrustStore:
    """Roots installed on the iPhone with full trust, or by MDM (USR), from ``--ca-file`` files."""
    certs: list[bytes] = []
    for path in paths:
        certs.extend(load_certificates(Path(path)))
    names = ", ".join(str(p) for p in paths)
    return TrustStore(
        f"installed on the iPhone with full trust: {names}" if paths else "none installed",
        AnchorKind.USR,
        tuple(certs),
        source="user",
    ).indexed()
