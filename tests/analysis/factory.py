"""Certificates for the analysis tests, made with mailtls.pki (fixed dates, cached keys).

Provenance: every certificate here is generated at test time from the keys in ``Keys``
(RSA keys generated once per session; the 512-bit RSA key is built from two fixed primes
because cryptography refuses to generate keys that small). Nothing reads the clock.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mailtls import pki
from mailtls.analysis import asn1
from mailtls.analysis.engine import analyze_chain
from mailtls.analysis.stores import TrustStore
from mailtls.model import Analysis, AnchorKind, Finding, Severity

HOST = "mail.example.test"
T0 = datetime(2025, 1, 1, tzinfo=UTC)  # notBefore of the default leaf
AT = datetime(2025, 3, 1, tzinfo=UTC)  # evaluation moment of most tests
EMPTY_SYSTEM = TrustStore("no system roots (test)", AnchorKind.SYS, ())

_P = 0xF78003B64DC064FEA710E9AD255B3564738F0940D42B6E1692C4FE4794D68159
_Q = 0xC504C897340CDD4AB8C15D3E269A6B780C5322B9784E163152DB8134EA63D3AF


def rsa512_key() -> rsa.RSAPrivateKey:
    """A 512-bit RSA key from fixed primes (for the fatal WeakKeySize rule)."""
    e = 65537
    phi = (_P - 1) * (_Q - 1)
    d = pow(e, -1, phi)
    numbers = rsa.RSAPrivateNumbers(
        p=_P,
        q=_Q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, _P),
        dmq1=rsa.rsa_crt_dmq1(d, _Q),
        iqmp=rsa.rsa_crt_iqmp(_P, _Q),
        public_numbers=rsa.RSAPublicNumbers(e, _P * _Q),
    )
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


@dataclass
class Keys:
    root: pki.PrivateKey
    inter: pki.PrivateKey
    leaf: pki.PrivateKey
    other: pki.PrivateKey
    ec: pki.PrivateKey = field(default_factory=lambda: pki.generate_key("ec", 256))
    ed25519: pki.PrivateKey = field(default_factory=lambda: pki.generate_key("ed25519"))
    rsa1024: pki.PrivateKey = field(default_factory=lambda: pki.generate_key("rsa", 1024))
    rsa512: pki.PrivateKey = field(default_factory=rsa512_key)


def make_keys() -> Keys:
    return Keys(*(pki.generate_key() for _ in range(4)))


@dataclass
class Lab:
    """Builds roots, intermediates and leaves; defaults pass every iOS rule."""

    keys: Keys

    def root(self, cn: str = "Test Root CA", key: Any = None, **kw: Any) -> x509.Certificate:
        spec = pki.ca_spec(cn, **kw)
        return pki.issue(
            spec,
            key or self.keys.root,
            not_before=T0 - timedelta(days=365),
            not_after=T0 + timedelta(days=3650),
        )

    def inter(
        self,
        root: x509.Certificate | None = None,
        cn: str = "Test Intermediate CA",
        key: Any = None,
        root_key: Any = None,
        **kw: Any,
    ) -> x509.Certificate:
        spec = pki.ca_spec(cn, **kw)
        return pki.issue(
            spec,
            key or self.keys.inter,
            issuer_cert=root or self.root(),
            issuer_key=root_key or self.keys.root,
            not_before=T0 - timedelta(days=30),
            not_after=T0 + timedelta(days=1825),
        )

    def leaf(
        self,
        *names: str,
        issuer: x509.Certificate | None = None,
        issuer_key: Any = None,
        key: Any = None,
        not_before: datetime = T0,
        lifetime: timedelta = timedelta(days=397),
        **kw: Any,
    ) -> x509.Certificate:
        spec = pki.leaf_spec(*(names or (HOST,)), **kw)
        return pki.issue(
            spec,
            key or self.keys.leaf,
            issuer_cert=issuer if issuer is not None else self.inter(),
            issuer_key=issuer_key or self.keys.inter,
            not_before=not_before,
            not_after=not_before + lifetime,
        )

    def self_signed(
        self,
        *names: str,
        key: Any = None,
        not_before: datetime = T0,
        lifetime: timedelta = timedelta(days=397),
        **kw: Any,
    ) -> x509.Certificate:
        spec = pki.leaf_spec(*(names or (HOST,)), **kw)
        return pki.issue(
            spec, key or self.keys.leaf, not_before=not_before, not_after=not_before + lifetime
        )

    def long_lived(self) -> tuple[x509.Certificate, x509.Certificate]:
        """A root and intermediate valid 2010-2040, for leaves issued at any date."""
        start, end = datetime(2010, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC)
        root = pki.issue(
            pki.ca_spec("Test Root CA"), self.keys.root, not_before=start, not_after=end
        )
        spec = pki.ca_spec("Test Intermediate CA")
        inter = pki.issue(
            spec,
            self.keys.inter,
            issuer_cert=root,
            issuer_key=self.keys.root,
            not_before=start,
            not_after=end,
        )
        return root, inter

    def dated(
        self, not_before: datetime, lifetime: timedelta, **kw: Any
    ) -> tuple[list[bytes], bytes]:
        """(leaf + intermediate, root) for a leaf issued at ``not_before``."""
        root, inter = self.long_lived()
        leaf = self.leaf(issuer=inter, not_before=not_before, lifetime=lifetime, **kw)
        return [pki.cert_to_der(leaf), pki.cert_to_der(inter)], pki.cert_to_der(root)

    def chain(
        self, leaf: x509.Certificate | None = None, *, with_root: bool = False
    ) -> list[bytes]:
        """leaf (default one), intermediate [, root] as DER."""
        certs = [leaf or self.leaf(), self.inter()]
        if with_root:
            certs.append(self.root())
        return [pki.cert_to_der(c) for c in certs]


#: The embedded-SCT-list extension (RFC 6962 §3.3).
SCT_LIST_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


def sct(log_byte: int, when: datetime = T0, *, version: int = 0) -> bytes:
    """One serialized SCT (RFC 6962 §3.2): log id = 32 x ``log_byte``, a dummy signature."""
    millis = int(when.timestamp() * 1000)
    body = (
        bytes([version])
        + bytes([log_byte]) * 32
        + struct.pack(">Q", millis)
        + b"\x00\x00"  # no extensions
        + b"\x04\x03"  # SHA-256 / ECDSA
        + b"\x00\x02\xaa\xbb"  # not a real signature: mailtls does not verify SCTs
    )
    return struct.pack(">H", len(body)) + body


def embedded_scts(*logs: int, when: datetime = T0) -> list[tuple[x509.ExtensionType, bool]]:
    """``extra_extensions`` for a leaf embedding one SCT per entry of ``logs`` (log id bytes).

    Provenance: the TLS-encoded SignedCertificateTimestampList wrapped in an OCTET STRING,
    as CAs write it; repeat a log byte for two SCTs from the same log.
    """
    items = b"".join(sct(log, when) for log in logs)
    tls_list = struct.pack(">H", len(items)) + items
    ext = x509.UnrecognizedExtension(SCT_LIST_OID, asn1.encode(asn1.OCTET_STRING, tls_list))
    return [(ext, False)]


def ct_logged(count: int = 4) -> list[tuple[x509.ExtensionType, bool]]:
    """SCTs from ``count`` distinct logs; 4 satisfy Apple's policy for any leaf issued
    from 2021-04-21 (ios-trust-rules.md §1d ct_policy_counts), as a public CA's would."""
    return embedded_scts(*range(1, count + 1))


def der(*certs: x509.Certificate) -> list[bytes]:
    return [pki.cert_to_der(c) for c in certs]


def stores(kind: str, root: bytes | Sequence[bytes] = ()) -> tuple[TrustStore, TrustStore | None]:
    """(system, user) for an anchor kind: the roots go into the system or the user store."""
    roots = (root,) if isinstance(root, bytes) else tuple(root)
    if kind == "SYS":
        return TrustStore("test public roots", AnchorKind.SYS, roots), None
    if kind in ("USR", "USR-LEAF"):
        return EMPTY_SYSTEM, TrustStore("test installed roots", AnchorKind.USR, roots)
    return EMPTY_SYSTEM, None


def analyse(
    chain: Sequence[bytes],
    kind: str = "NONE",
    root: bytes | Sequence[bytes] = (),
    *,
    host: str | None = HOST,
    at: datetime = AT,
    ios: str | None = None,
) -> Analysis:
    system, user = stores(kind, root)
    return analyze_chain(list(chain), host, at=at, system=system, user=user, ios_version=ios)


def failing(analysis: Analysis) -> dict[str, Finding]:
    """rule id -> first failing (error/fatal) finding."""
    out: dict[str, Finding] = {}
    for f in analysis.findings:
        if f.severity in (Severity.ERROR, Severity.FATAL):
            out.setdefault(f.rule_id, f)
    return out


def fired(analysis: Analysis, rule_id: str) -> list[Finding]:
    return [f for f in analysis.findings if f.rule_id == rule_id]


# --------------------------------------------------------------------------- DER surgery


def tbs_fields(cert_der: bytes) -> tuple[list[asn1.Tlv], asn1.Tlv]:
    tbs, alg, _sig = asn1.read_single(cert_der).children()
    return tbs.children(), alg


def assemble(
    fields: Sequence[bytes], alg: bytes, key: rsa.RSAPrivateKey, hash_: hashes.HashAlgorithm
) -> bytes:
    """Sign a TBSCertificate made of ``fields`` (raw DER elements) with PKCS#1 v1.5."""
    tbs = asn1.encode_sequence(*fields)
    signature = key.sign(tbs, padding.PKCS1v15(), hash_)
    return asn1.encode_sequence(tbs, alg, asn1.encode(asn1.BIT_STRING, b"\x00" + signature))


def with_extensions(cert_der: bytes, extensions: Sequence[bytes], key: rsa.RSAPrivateKey) -> bytes:
    """Re-sign ``cert_der`` (SHA-256, RSA) with its extension list replaced by raw ``extensions``."""
    fields, alg = tbs_fields(cert_der)
    kept = [f.raw for f in fields if not f.is_context(3)]
    wrapper = asn1.encode(0xA3, asn1.encode_sequence(*extensions))
    return assemble([*kept, wrapper], alg.raw, key, hashes.SHA256())


def extensions_of(cert_der: bytes) -> list[bytes]:
    fields, _ = tbs_fields(cert_der)
    for f in fields:
        if f.is_context(3):
            return [e.raw for e in f.children()[0].children()]
    return []


def version1(cert_der: bytes, key: rsa.RSAPrivateKey) -> bytes:
    """The same certificate as X.509 v1 (no version field, no extensions), re-signed."""
    fields, alg = tbs_fields(cert_der)
    kept = [f.raw for f in fields if not f.is_context(0) and not f.is_context(3)]
    return assemble(kept, alg.raw, key, hashes.SHA256())
