"""Trust stores: the system store (SYS) and the roots installed on the iPhone (USR).

A store holds DER certificates indexed by subject name and subject key identifier; a
certificate is parsed fully only when path building actually uses it, so loading the
default store (certifi's bundle) costs a few milliseconds, once per process.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping, Sequence
from dataclasses import field, replace
from pathlib import Path
from typing import Any

from mailtls.analysis import asn1
from mailtls.analysis.certs import (
    ParsedCertificate,
    certificates_from_bytes,
    load_certificates,
    parse_certificate,
)
from mailtls.errors import InputFileError
from mailtls.model import AnchorKind
from mailtls.records import record


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


@record
class TrustStore:
    """A set of anchors. ``kind`` is SYS for the system store, USR for installed roots."""

    label: str
    kind: AnchorKind
    certificates: tuple[bytes, ...] = ()  # DER
    #: Apple's Certificate Transparency log list (``log_list.json``, schema v5) when the
    #: store came from Apple's published data; None when unknown (a PEM file, certifi).
    ct_log_list: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

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

    def contains(self, cert: ParsedCertificate) -> bool:
        """Is this exact certificate (or one with the same subject and key) an anchor here?"""
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


#: The default system store, said honestly.
_CERTIFI_LABEL = (
    "certifi {version} (Mozilla's root list; a stand-in for Apple's system store — "
    "use --system-roots to use Apple's)"
)


def system_store(path: Path | None = None) -> TrustStore:
    """The system trust store (SYS): certifi's bundle by default, or the roots in ``path``.

    Cached per path: loading happens once per process.
    """
    return _system_store(Path(path) if path is not None else None)


@functools.lru_cache(maxsize=8)
def _system_store(path: Path | None) -> TrustStore:
    if path is not None:
        certs = load_certificates(path)
        return TrustStore(
            f"system roots from {path} ({len(certs)} certificates)", AnchorKind.SYS, tuple(certs)
        ).indexed()
    bundle, version = certifi_bundle()
    try:
        certs = certificates_from_bytes(bundle.read_bytes(), str(bundle))
    except (OSError, InputFileError):
        certs = []
    return TrustStore(
        _CERTIFI_LABEL.format(version=version), AnchorKind.SYS, tuple(certs)
    ).indexed()


def certifi_bundle() -> tuple[Path, str]:
    """certifi's ``cacert.pem`` and certifi's version, without importing certifi if possible.

    ``import certifi`` loads ``importlib.resources`` (with tempfile, zipfile, shutil), about
    10 ms of a 0.2 s check (issue 8), to find a file that an ordinary installation keeps
    beside the package. So the package is located without importing it; certifi itself is
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
    ).indexed()
