"""Make keys and certificates with every knob iOS cares about (a small trustme).

Used by the scenario catalogue, the lab, the remedy commands and the tests. Good
defaults make a certificate that passes every iOS rule; each keyword breaks one thing on
purpose. Signatures with RSA (PKCS#1 v1.5) and Ed25519 are deterministic, so the same
keys, names and dates give byte-identical certificates.

Nothing here reads the clock: callers pass ``not_before``/``not_after``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mailtls.analysis import asn1

PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
    | dsa.DSAPrivateKey
)
HashName = Literal["sha256", "sha384", "sha512", "sha1", "md5", "sha224"]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha224": hashes.SHA224,
    "sha1": hashes.SHA1,
    "md5": hashes.MD5,
}


def generate_key(kind: str = "rsa", size: int = 2048) -> PrivateKey:
    """``kind`` is "rsa" (size in bits), "ec" (256/384/521), "ed25519", "ed448", "dsa"."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=size)
    if kind == "ec":
        curve: ec.EllipticCurve = {256: ec.SECP256R1(), 384: ec.SECP384R1(), 521: ec.SECP521R1()}[
            size
        ]
        return ec.generate_private_key(curve)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "ed448":
        return ed448.Ed448PrivateKey.generate()
    if kind == "dsa":
        return dsa.generate_private_key(key_size=size)
    raise ValueError(f"unknown key kind {kind!r}")


def key_to_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def key_from_pem(data: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    assert isinstance(
        key,
        rsa.RSAPrivateKey
        | ec.EllipticCurvePrivateKey
        | ed25519.Ed25519PrivateKey
        | ed448.Ed448PrivateKey
        | dsa.DSAPrivateKey,
    )
    return key


def cert_to_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def cert_to_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def name(cn: str | None = None, org: str | None = None) -> x509.Name:
    attrs = []
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if cn:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _general_name(entry: str) -> x509.GeneralName:
    """ "DNS:x", "IP:1.2.3.4", "email:a@b", "URI:..", or a bare DNS name / IP literal."""
    kind, sep, value = entry.partition(":")
    if sep and kind in ("DNS", "IP", "email", "URI"):
        if kind == "DNS":
            return x509.DNSName(value)
        if kind == "IP":
            return x509.IPAddress(ipaddress.ip_address(value))
        if kind == "email":
            return x509.RFC822Name(value)
        return x509.UniformResourceIdentifier(value)
    try:
        return x509.IPAddress(ipaddress.ip_address(entry))
    except ValueError:
        return x509.DNSName(entry)


@dataclass
class CertSpec:
    """What to put in a certificate. Defaults: an iOS-clean server leaf."""

    subject_cn: str | None = "mail.example.test"
    subject_org: str | None = None
    san: Sequence[str] | None = ("mail.example.test",)  # None: no SAN extension at all
    san_critical: bool = False
    not_before: datetime | None = None  # required unless given to issue()
    not_after: datetime | None = None
    is_ca: bool | None = False  # None: no basicConstraints extension at all
    path_length: int | None = None
    bc_critical: bool = True
    eku: Sequence[x509.ObjectIdentifier] | None = (ExtendedKeyUsageOID.SERVER_AUTH,)
    key_usage: Literal["server", "ca", "none"] | tuple[str, ...] = "server"
    hash: HashName = "sha256"
    serial: int | None = None
    ski: bool = True
    aki: bool = True
    extra_extensions: list[tuple[x509.ExtensionType, bool]] = field(default_factory=list)
    #: extensions (by OID) written a second time at the end: a malformed certificate that
    #: cryptography's builder refuses to make (RSA or Ed25519 signers only).
    duplicate_extensions: Sequence[x509.ObjectIdentifier] = ()
    version_1: bool = False  # (not supported by cryptography's builder; kept for clarity)


_KU_FIELDS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def _key_usage(spec: CertSpec) -> x509.KeyUsage | None:
    if spec.key_usage == "none":
        return None
    if spec.key_usage == "server":
        wanted: tuple[str, ...] = ("digital_signature", "key_encipherment")
    elif spec.key_usage == "ca":
        wanted = ("key_cert_sign", "crl_sign", "digital_signature")
    else:
        wanted = tuple(spec.key_usage)
    flags = {f: f in wanted for f in _KU_FIELDS}
    return x509.KeyUsage(**flags)


def issue(
    spec: CertSpec,
    key: PrivateKey,
    *,
    issuer_cert: x509.Certificate | None = None,
    issuer_key: PrivateKey | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    serial: int | None = None,
) -> x509.Certificate:
    """Issue a certificate for ``key``; self-signed when no issuer is given."""
    nb = not_before or spec.not_before
    na = not_after or spec.not_after
    if nb is None or na is None:
        raise ValueError(
            "not_before and not_after are required (mailtls never reads the clock here)"
        )
    signer_key = issuer_key if issuer_key is not None else key
    subject = name(spec.subject_cn, spec.subject_org)
    issuer_name = issuer_cert.subject if issuer_cert is not None else subject
    public_key = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(serial or spec.serial or x509.random_serial_number())
        .not_valid_before(nb)
        .not_valid_after(na)
    )
    if spec.is_ca is not None:
        builder = builder.add_extension(
            x509.BasicConstraints(
                ca=spec.is_ca, path_length=spec.path_length if spec.is_ca else None
            ),
            critical=spec.bc_critical,
        )
    ku = _key_usage(spec)
    if ku is not None:
        builder = builder.add_extension(ku, critical=True)
    if spec.eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(spec.eku)), critical=False)
    if spec.san is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_general_name(s) for s in spec.san]),
            critical=spec.san_critical,
        )
    if spec.ski:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public_key),
            critical=False,  # type: ignore[arg-type]
        )
    if spec.aki:
        signer_public = issuer_cert.public_key() if issuer_cert is not None else public_key
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_public),  # type: ignore[arg-type]
            critical=False,
        )
    for ext, critical in spec.extra_extensions:
        builder = builder.add_extension(ext, critical=critical)
    algorithm: hashes.HashAlgorithm | None
    if isinstance(signer_key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        algorithm = None
    elif spec.hash in _LEGACY_RSA_SIGNATURE_OIDS and isinstance(signer_key, rsa.RSAPrivateKey):
        # cryptography >= 45 refuses SHA-1/MD5 in the builder; make the certificate with
        # SHA-256 and re-sign it (test fixtures for the iOS weak-hash rules need these).
        sha256_cert = builder.sign(signer_key, hashes.SHA256())
        cert = _resign_legacy(sha256_cert, signer_key, spec.hash)
        return _with_duplicated_extensions(cert, spec, signer_key)
    else:
        algorithm = _HASHES[spec.hash]()
    cert = builder.sign(signer_key, algorithm)  # type: ignore[arg-type]
    return _with_duplicated_extensions(cert, spec, signer_key)


# DER of the signature AlgorithmIdentifier OIDs (all the same length, so a TBS made with
# sha256WithRSAEncryption can be rewritten in place).
_SHA256_RSA_OID = bytes.fromhex("06092a864886f70d01010b")
_LEGACY_RSA_SIGNATURE_OIDS: dict[str, bytes] = {
    "sha1": bytes.fromhex("06092a864886f70d010105"),  # sha1WithRSAEncryption
    "md5": bytes.fromhex("06092a864886f70d010104"),  # md5WithRSAEncryption
}


def _signed(tbs: bytes, algorithm_id: bytes, key: PrivateKey, hash_name: str) -> x509.Certificate:
    """The certificate ``tbs`` signed by ``key`` (RSA PKCS#1 v1.5 or Ed25519, deterministic)."""
    from cryptography.hazmat.primitives.asymmetric import padding

    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(tbs, padding.PKCS1v15(), _HASHES[hash_name]())
    elif isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        signature = key.sign(tbs)
    else:
        raise ValueError("re-signing needs an RSA or Ed25519/Ed448 key")
    der = asn1.encode_sequence(tbs, algorithm_id, asn1.encode(asn1.BIT_STRING, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


def _resign_legacy(
    cert: x509.Certificate, key: rsa.RSAPrivateKey, hash_name: str
) -> x509.Certificate:
    """Re-sign an RSA/SHA-256 certificate with SHA-1 or MD5 (PKCS#1 v1.5, deterministic)."""
    tbs = cert.tbs_certificate_bytes
    if tbs.count(_SHA256_RSA_OID) != 1:
        raise ValueError("cannot rewrite the signature algorithm of this certificate")
    tbs = tbs.replace(_SHA256_RSA_OID, _LEGACY_RSA_SIGNATURE_OIDS[hash_name])
    algorithm_id = asn1.encode_sequence(_LEGACY_RSA_SIGNATURE_OIDS[hash_name], b"\x05\x00")
    return _signed(tbs, algorithm_id, key, hash_name)


def _with_duplicated_extensions(
    cert: x509.Certificate, spec: CertSpec, key: PrivateKey
) -> x509.Certificate:
    """``cert`` with each of ``spec.duplicate_extensions`` repeated at the end, re-signed."""
    if not spec.duplicate_extensions:
        return cert
    fields = asn1.read_single(cert.tbs_certificate_bytes).children()
    wrapper = fields[-1]  # [3] EXPLICIT Extensions
    if not wrapper.is_context(3):
        raise ValueError("the certificate has no extensions to repeat")
    extensions = asn1.read_single(wrapper.content).children()
    by_oid = {asn1.decode_oid(ext.children()[0].content): ext.raw for ext in extensions}
    repeated = [by_oid[oid.dotted_string] for oid in spec.duplicate_extensions]
    new_extensions = asn1.encode_sequence(*(ext.raw for ext in extensions), *repeated)
    tbs = asn1.encode_sequence(*(f.raw for f in fields[:-1]), asn1.encode(0xA3, new_extensions))
    algorithm_id = asn1.read_single(cert.public_bytes(serialization.Encoding.DER)).children()[1]
    return _signed(tbs, algorithm_id.raw, key, spec.hash)


def ca_spec(
    cn: str = "mailtls Test Root CA", *, org: str | None = "mailtls lab", **kw: object
) -> CertSpec:
    """A CA certificate spec iOS will offer for full trust (CA:TRUE critical, CN, keyCertSign)."""
    spec = CertSpec(subject_cn=cn, subject_org=org, san=None, is_ca=True, eku=None, key_usage="ca")
    for k, v in kw.items():
        setattr(spec, k, v)
    return spec


def leaf_spec(*names: str, cn: str | None = None, **kw: object) -> CertSpec:
    """A server leaf spec with the given SAN names (DNS names or IP literals)."""
    names = names or ("mail.example.test",)
    spec = CertSpec(subject_cn=cn if cn is not None else names[0], san=tuple(names))
    for k, v in kw.items():
        setattr(spec, k, v)
    return spec


def days(n: float) -> timedelta:
    return timedelta(days=n)
