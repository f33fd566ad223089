"""describe_certificate / load_certificates: fields, files, and certificates strict parsers reject."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509

from mailtls import pki
from mailtls.analysis import asn1, describe_certificate, load_certificates
from mailtls.analysis.certs import parse_certificate, verify_signature
from mailtls.errors import CertificateParseError, InputFileError
from tests.analysis.factory import (
    HOST,
    Keys,
    Lab,
    analyse,
    extensions_of,
    version1,
    with_extensions,
)


def test_describe_reads_the_fields_ios_cares_about(lab: Lab) -> None:
    leaf = lab.leaf(HOST, "10.0.0.7")
    info = describe_certificate(pki.cert_to_der(leaf), index=2)
    assert info.index == 2
    assert info.subject == leaf.subject.rfc4514_string()
    assert info.issuer == "CN=Test Intermediate CA,O=mailtls lab"
    assert info.san == (f"DNS:{HOST}", "IP:10.0.0.7")
    assert info.key_type == "RSA" and info.key_size == 2048
    assert info.signature_algorithm == "sha256WithRSAEncryption" and info.signature_hash == "sha256"
    assert info.basic_constraints == {"ca": False, "path_length": None, "critical": True}
    assert info.eku == ("serverAuth",)
    assert info.key_usage == ("digitalSignature", "keyEncipherment")
    assert info.not_after == leaf.not_valid_after_utc
    assert info.serial == format(leaf.serial_number, "x")
    assert info.ski and info.aki and info.ski != info.aki
    assert info.self_signed is False and info.version == 3
    assert info.parse_errors == ()
    assert round(info.validity_days or 0) == 397


def test_self_signed_needs_a_verifying_signature(lab: Lab, keys: Keys) -> None:
    root = parse_certificate(pki.cert_to_der(lab.root()))
    assert root.info.self_signed
    # Same subject and issuer name, but signed by another key: self-issued, not self-signed.
    spec = pki.ca_spec("Test Root CA")
    forged = pki.issue(
        spec,
        keys.other,
        issuer_cert=lab.root(),
        issuer_key=keys.root,
        not_before=lab.root().not_valid_before_utc,
        not_after=lab.root().not_valid_after_utc,
    )
    parsed = parse_certificate(pki.cert_to_der(forged))
    assert parsed.self_issued and not parsed.info.self_signed
    assert verify_signature(parsed, root) is True


def test_ec_and_ed25519_keys(lab: Lab, keys: Keys) -> None:
    ec = describe_certificate(pki.cert_to_der(lab.leaf(key=keys.ec)))
    assert (ec.key_type, ec.key_size) == ("EC", 256)
    ed = describe_certificate(pki.cert_to_der(lab.leaf(key=keys.ed25519)))
    assert ed.key_type == "Ed25519"


def test_explicit_critical_false_is_read_leniently(lab: Lab, keys: Keys) -> None:
    """A non-DER quirk (DEFAULT FALSE encoded explicitly) that OpenSSL and iOS accept."""
    leaf_der = pki.cert_to_der(lab.leaf())
    exts = extensions_of(leaf_der)
    eku_oid = asn1.encode_oid("2.5.29.37")
    quirky = []
    for raw in exts:
        parts = asn1.read_single(raw).children()
        if parts[0].raw == eku_oid:
            raw = asn1.encode_sequence(
                parts[0].raw, asn1.encode(asn1.BOOLEAN, b"\x00"), parts[-1].raw
            )
        quirky.append(raw)
    odd = with_extensions(leaf_der, quirky, keys.inter)  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # the strict parser refuses it ...
        _ = x509.load_der_x509_certificate(odd).extensions
    info = describe_certificate(odd)  # ... mailtls still reads it
    assert info.eku == ("serverAuth",)
    assert info.san == (f"DNS:{HOST}",)
    assert any(
        "strict DER parser rejected it" in e and "critical=FALSE" in e for e in info.parse_errors
    )
    result = analyse([odd, pki.cert_to_der(lab.inter())], "USR", pki.cert_to_der(lab.root()))
    assert result.verdict == "trusted"  # signature verified over the bytes as sent


def test_version_1_certificate(lab: Lab, keys: Keys) -> None:
    v1 = version1(pki.cert_to_der(lab.leaf()), keys.inter)  # type: ignore[arg-type]
    info = describe_certificate(v1)
    assert info.version == 1 and info.san == () and info.eku is None


def test_truncated_der_raises_one_clear_error(lab: Lab) -> None:
    data = pki.cert_to_der(lab.leaf())
    with pytest.raises(CertificateParseError, match="not a certificate"):
        describe_certificate(data[: len(data) // 2])


@pytest.mark.parametrize(
    "data", [b"", b"\x00\x01garbage", b"\x30\x03\x02\x01\x01", b"-----BEGIN CERTIFICATE-----"]
)
def test_garbage_is_not_a_certificate(data: bytes) -> None:
    with pytest.raises(CertificateParseError):
        describe_certificate(data)


def test_unreadable_intermediate_does_not_lose_the_report(lab: Lab) -> None:
    chain = [*lab.chain(), b"\x30\x03\x02\x01\x01"]
    result = analyse(chain, "USR", pki.cert_to_der(lab.root()))
    assert result.verdict == "trusted"
    assert len(result.chain) == 3 and result.chain[2].parse_errors
    assert [f.cert_index for f in result.findings if f.rule_id == "certificate_unreadable"] == [2]


def test_unreadable_leaf_is_fatal(lab: Lab) -> None:
    result = analyse([b"\x30\x03\x02\x01\x01", pki.cert_to_der(lab.inter())])
    assert result.verdict == "fatal"
    assert result.findings[0].rule_id == "certificate_unreadable"


# --------------------------------------------------------------------------- files


def test_pem_bundle_with_junk_keeps_order(tmp_path: Path, lab: Lab) -> None:
    leaf, inter = lab.leaf(), lab.inter()
    text = (
        b"subject=CN = mail\nissuer=...\n"
        + pki.cert_to_pem(leaf)
        + b"\n# comment between blocks\r\n"
        + pki.cert_to_pem(inter).replace(b"\n", b"\r\n")
        + b"trailing junk"
    )
    path = tmp_path / "chain.pem"
    path.write_bytes(text)
    assert load_certificates(path) == [pki.cert_to_der(leaf), pki.cert_to_der(inter)]


def test_der_file(tmp_path: Path, lab: Lab) -> None:
    path = tmp_path / "chain.der"
    leaf, inter = pki.cert_to_der(lab.leaf()), pki.cert_to_der(lab.inter())
    path.write_bytes(leaf + inter)
    assert load_certificates(path) == [leaf, inter]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (bytes(range(256)) * 4, "neither PEM nor a DER certificate"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "key"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n", "no CERTIFICATE block"),
    ],
)
def test_bad_files_name_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "input.pem"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message) as caught:
        load_certificates(path)
    assert str(path) in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        load_certificates(tmp_path / "nope.pem")


def test_private_key_file_instead_of_certificate(tmp_path: Path, keys: Keys) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(pki.key_to_pem(keys.leaf))
    with pytest.raises(InputFileError, match="not a certificate"):
        load_certificates(path)


def test_pkcs7_bundles_pem_and_der(tmp_path: Path, lab: Lab) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    leaf, inter = lab.leaf(), lab.inter()
    for encoding, name in ((Encoding.PEM, "chain.p7b.pem"), (Encoding.DER, "chain.p7b")):
        path = tmp_path / name
        path.write_bytes(pkcs7.serialize_certificates([inter, lab.root(), leaf], encoding))
        loaded = load_certificates(path)
        # a PKCS#7 SET has no order: mailtls puts the server certificate first, then its issuers
        assert loaded[:2] == [pki.cert_to_der(leaf), pki.cert_to_der(inter)] and len(loaded) == 3


def test_openssl_trusted_certificate_block(tmp_path: Path, lab: Lab) -> None:
    import base64

    root = pki.cert_to_der(lab.root())
    aux = asn1.encode_sequence(asn1.encode_sequence(asn1.encode_oid("1.3.6.1.5.5.7.3.1")))
    body = base64.encodebytes(root + aux).decode()
    path = tmp_path / "trusted.pem"
    path.write_text(
        f"-----BEGIN TRUSTED CERTIFICATE-----\n{body}-----END TRUSTED CERTIFICATE-----\n"
    )
    assert load_certificates(path) == [root]
