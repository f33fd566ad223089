"""The lenient reader and cryptography's parser agree on every certificate both can read.

Every certificate of every ``*.pem``/``*.der`` file under ``fixtures/`` is read by
:func:`mailtls.analysis.certs.parse_certificate` (the lenient reader) and by
``cryptography.x509``; where cryptography parses it (extensions included), each field the
engine reads must be the same from both. A certificate cryptography refuses is only
required to parse leniently, with the refusal among its parse errors.
"""

from __future__ import annotations

import base64
import ipaddress
import warnings
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import ExtensionOID

from mailtls.analysis import oids
from mailtls.analysis.certs import ParsedCertificate, certificates_from_bytes, parse_certificate
from mailtls.errors import InputFileError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _fixture_certificates() -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix not in (".pem", ".der") or not path.is_file():
            continue
        try:
            ders = certificates_from_bytes(path.read_bytes(), str(path))
        except InputFileError:
            continue  # keys
        for index, der in enumerate(ders):
            found.append((f"{path.relative_to(FIXTURES)}[{index}]", der))
    return found


CERTIFICATES = _fixture_certificates()


def _strict(der: bytes) -> x509.Certificate | None:
    with warnings.catch_warnings(action="ignore"):
        try:
            cert = x509.load_der_x509_certificate(der)
            _ = cert.extensions
        except Exception:  # ValueError, DuplicateExtension...
            return None
    return cert


def _ext(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> Any:
    try:
        return cert.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None


def _key(cert: x509.Certificate) -> tuple[str, int | None]:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    return "unknown", None


def _from_cryptography(cert: x509.Certificate) -> dict[str, Any]:
    """The fields below as cryptography reads them."""
    exts = cert.extensions
    out: dict[str, Any] = {
        "tbs": cert.tbs_certificate_bytes,
        "signature": cert.signature,
        "signature_oid": cert.signature_algorithm_oid.dotted_string,
        "subject_der": cert.subject.public_bytes(),
        "issuer_der": cert.issuer.public_bytes(),
        "spki_der": cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo),
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "subject_cns": tuple(
            str(a.value) for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        ),
        "serial": format(cert.serial_number, "x"),
        "version": cert.version.value + 1,
        "not_before": cert.not_valid_before_utc,
        "not_after": cert.not_valid_after_utc,
        "key": _key(cert),
        "extensions": tuple((e.oid.dotted_string, e.critical) for e in exts),
    }
    san = _ext(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    out["dns_names"] = tuple(san.value.get_values_for_type(x509.DNSName)) if san else ()
    out["ip_names"] = (
        tuple(ip.packed for ip in san.value.get_values_for_type(x509.IPAddress)) if san else ()
    )
    out["email_names"] = tuple(san.value.get_values_for_type(x509.RFC822Name)) if san else ()
    bc = _ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
    out["basic_constraints"] = (
        {"ca": bc.value.ca, "path_length": bc.value.path_length, "critical": bc.critical}
        if bc
        else None
    )
    ku = _ext(cert, ExtensionOID.KEY_USAGE)
    if ku:
        value = ku.value
        bits = {
            "digitalSignature": value.digital_signature,
            "nonRepudiation": value.content_commitment,
            "keyEncipherment": value.key_encipherment,
            "dataEncipherment": value.data_encipherment,
            "keyAgreement": value.key_agreement,
            "keyCertSign": value.key_cert_sign,
            "cRLSign": value.crl_sign,
            "encipherOnly": value.key_agreement and value.encipher_only,
            "decipherOnly": value.key_agreement and value.decipher_only,
        }
        out["key_usage"] = tuple(name for name in oids.KEY_USAGE_BITS if bits[name])
    else:
        out["key_usage"] = None
    eku = _ext(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    out["eku"] = (
        tuple(oids.EKU_NAMES.get(o.dotted_string, o.dotted_string) for o in eku.value)
        if eku
        else None
    )
    ski = _ext(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    out["ski"] = ski.value.digest.hex() if ski else None
    aki = _ext(cert, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    out["aki"] = aki.value.key_identifier.hex() if aki and aki.value.key_identifier else None
    aia = _ext(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    out["ca_issuer_urls"] = (
        tuple(
            d.access_location.value
            for d in aia.value
            if d.access_method.dotted_string == oids.CA_ISSUERS
            and isinstance(d.access_location, x509.UniformResourceIdentifier)
        )
        if aia
        else ()
    )
    policies = _ext(cert, ExtensionOID.CERTIFICATE_POLICIES)
    out["certificate_policies"] = (
        tuple(p.policy_identifier.dotted_string for p in policies.value) if policies else None
    )
    scts = _ext(cert, ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS)
    out["scts"] = (
        tuple(
            (base64.b64encode(s.log_id).decode("ascii"), s.timestamp.replace(tzinfo=UTC))
            for s in scts.value
        )
        if scts
        else ()
    )
    nc = _ext(cert, ExtensionOID.NAME_CONSTRAINTS)
    if nc:

        def dns(subtrees: Any) -> tuple[str, ...]:
            return tuple(n.value for n in subtrees or () if isinstance(n, x509.DNSName))

        def email(subtrees: Any) -> tuple[str, ...]:
            return tuple(n.value for n in subtrees or () if isinstance(n, x509.RFC822Name))

        def ips(subtrees: Any) -> tuple[tuple[bytes, bytes], ...]:
            networks = [n.value for n in subtrees or () if isinstance(n, x509.IPAddress)]
            return tuple(
                (net.network_address.packed, net.netmask.packed)
                for net in networks
                if isinstance(net, ipaddress.IPv4Network | ipaddress.IPv6Network)
            )

        value = nc.value
        out["name_constraints"] = (
            nc.critical,
            dns(value.permitted_subtrees),
            dns(value.excluded_subtrees),
            ips(value.permitted_subtrees),
            ips(value.excluded_subtrees),
            email(value.permitted_subtrees),
            email(value.excluded_subtrees),
        )
    else:
        out["name_constraints"] = None
    return out


def _from_lenient(parsed: ParsedCertificate) -> dict[str, Any]:
    """The same fields as the lenient reader gives them."""
    info = parsed.info
    nc = parsed.name_constraints
    return {
        "tbs": parsed.tbs,
        "signature": parsed.signature,
        "signature_oid": parsed.signature_oid,
        "subject_der": parsed.subject_der,
        "issuer_der": parsed.issuer_der,
        "spki_der": parsed.spki_der,
        "subject": info.subject,
        "issuer": info.issuer,
        "subject_cns": parsed.subject_cns,
        "serial": info.serial,
        "version": info.version,
        "not_before": info.not_before,
        "not_after": info.not_after,
        "key": (info.key_type, info.key_size),
        "extensions": tuple((e.oid, e.critical) for e in parsed.extensions),
        "dns_names": parsed.dns_names,
        "ip_names": parsed.ip_names,
        "email_names": parsed.email_names,
        "basic_constraints": info.basic_constraints,
        "key_usage": info.key_usage,
        "eku": info.eku,
        "ski": info.ski,
        "aki": info.aki,
        "ca_issuer_urls": parsed.ca_issuer_urls,
        "certificate_policies": parsed.certificate_policies,
        "scts": parsed.scts,
        "name_constraints": (
            None
            if nc is None
            else (
                nc.critical,
                nc.permitted_dns,
                nc.excluded_dns,
                nc.permitted_ip,
                nc.excluded_ip,
                nc.permitted_email,
                nc.excluded_email,
            )
        ),
    }


def test_the_fixtures_hold_certificates() -> None:
    assert len(CERTIFICATES) > 100
    assert sum(_strict(der) is None for _, der in CERTIFICATES) >= 1  # a lenient-only case


@pytest.mark.parametrize(("where", "der"), CERTIFICATES, ids=[w for w, _ in CERTIFICATES])
def test_both_readers_agree(where: str, der: bytes) -> None:
    parsed = parse_certificate(der)
    cert = _strict(der)
    if cert is None:
        assert any("strict DER parser rejected it" in e for e in parsed.info.parse_errors)
        return
    lenient, strict = _from_lenient(parsed), _from_cryptography(cert)
    differing = {k: (lenient[k], strict[k]) for k in strict if lenient[k] != strict[k]}
    assert not differing, where
    assert len(parsed.scts) == parsed.sct_count
