"""Read certificates: files (PEM bundles or DER), DER bytes -> :class:`CertificateInfo`.

Every certificate is read with mailtls' own lenient walker (:mod:`.asn1`), so a certificate
that a strict DER parser rejects but OpenSSL and iOS accept is still analysed; what could not
be decoded is listed in ``CertificateInfo.parse_errors``. cryptography is used for the public
key and signatures, and as the strict parser whose complaints are reported.

Each DER is parsed once: :func:`parse_certificate` caches by SHA-256, and signature checks
are cached per (child, issuer) pair, which keeps :func:`analyze_chain` fast on repeated chains.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
import warnings
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from mailtls.analysis import asn1, oids
from mailtls.errors import CertificateParseError, InputFileError
from mailtls.model import CertificateInfo

_CACHE_LIMIT = 8192
#: ``asn1.read_all``: ``tlv.children()`` costs a method call more, on every element read.
_read_all = asn1.read_all


class Extension(NamedTuple):
    """One extension as written (a NamedTuple: cheap to make, every certificate has several)."""

    oid: str
    critical: bool
    value: bytes  # the content of extnValue (the DER of the extension's own value)

    @property
    def name(self) -> str:
        return oids.EXTENSION_NAMES.get(self.oid, self.oid)


@dataclass(frozen=True, slots=True)
class NameConstraints:
    critical: bool
    permitted_dns: tuple[str, ...] = ()
    excluded_dns: tuple[str, ...] = ()
    permitted_ip: tuple[tuple[bytes, bytes], ...] = ()  # (address, mask)
    excluded_ip: tuple[tuple[bytes, bytes], ...] = ()
    unsupported_forms: tuple[str, ...] = ()  # name forms iOS cannot evaluate
    permitted_email: tuple[str, ...] = ()  # rfc822Name subtrees, as written
    excluded_email: tuple[str, ...] = ()


class ParsedCertificate(NamedTuple):
    """Everything the engine needs about one certificate, decoded once (a NamedTuple: the
    parser builds one per new certificate, and ``_replace`` keeps it immutable)."""

    der: bytes
    sha256: str
    info: CertificateInfo  # with index 0; use :func:`describe_certificate` for another index
    tbs: bytes
    signature: bytes
    signature_oid: str
    signature_params: bytes | None
    subject_der: bytes
    issuer_der: bytes
    spki_der: bytes
    public_key: Any  # a cryptography public key, or None when it could not be loaded
    extensions: tuple[Extension, ...]
    dns_names: tuple[str, ...]  # SAN dNSName entries, as written
    ip_names: tuple[bytes, ...]  # SAN iPAddress entries, raw (4 or 16 bytes when well formed)
    bad_ip_names: bool
    subject_cns: tuple[str, ...]
    subject_empty: bool
    name_constraints: NameConstraints | None
    ca_issuer_urls: tuple[str, ...]
    sct_count: int
    self_issued: bool  # subject == issuer (names only)
    unparseable_extensions: tuple[str, ...] = ()  # OIDs whose value could not be decoded
    spki_sha256: str = ""  # SHA-256 of the SubjectPublicKeyInfo (blocklists, key pinning)
    certificate_policies: tuple[str, ...] | None = None  # policy OIDs; None: no extension
    require_explicit_policy: int | None = None  # policyConstraints requireExplicitPolicy
    inhibit_any_policy: int | None = None  # inhibitAnyPolicy SkipCerts
    has_policy_mappings: bool = False
    scts: tuple[tuple[str, datetime | None], ...] = ()  # embedded SCTs: (log id base64, time)
    #: Critical extensions iOS does not parse (outside its set and Apple's arc), in order.
    unknown_critical: tuple[Extension, ...] = ()
    #: Second and later occurrences of an extension OID, in order.
    repeated_extensions: tuple[Extension, ...] = ()
    email_names: tuple[str, ...] = ()  # SAN rfc822Name entries, as written (name constraints)

    @property
    def is_ca(self) -> bool:
        bc = self.info.basic_constraints
        return bool(bc and bc.get("ca"))

    @property
    def issuer_cn(self) -> str | None:
        """The first CN of the issuer name (to name a missing issuer), or None."""
        try:
            _, cns = _format_name(asn1.read_single(self.issuer_der), [], "issuer")
        except asn1.DerError:
            return None
        return cns[0] if cns else None

    def extension(self, oid: str) -> Extension | None:
        for ext in self.extensions:
            if ext.oid == oid:
                return ext
        return None


# --------------------------------------------------------------------------- files

_CERT_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"}


_PEM_LABEL = re.compile(rb"[A-Z0-9 ]+")


def pem_blocks(data: bytes, *, strict: bool = False) -> list[tuple[str, bytes]]:
    """(label, DER) for every PEM block; base64 errors raise ValueError.

    A block is ``-----BEGIN LABEL-----``, the body, and the first ``-----END LABEL-----``
    after it (tests/analysis/test_pem.py holds this ``bytes.find`` scan against the regular
    expression that says the same; the scan is several times faster on certifi's bundle,
    read at every check).
    RFC 1421 header lines (with ':') and blank lines are left out of the body.
    """
    blocks: list[tuple[str, bytes]] = []
    find = data.find
    position = 0
    while (begin := find(b"-----BEGIN ", position)) >= 0:
        label_end = find(b"-----", begin + 11)
        label = data[begin + 11 : label_end] if label_end >= 0 else b""
        if not label or not _PEM_LABEL.fullmatch(label):
            position = begin + 1
            continue
        marker = b"-----END " + label + b"-----"
        end = find(marker, label_end + 5)
        if end < 0:
            position = begin + 1
            continue
        body = data[label_end + 5 : end].strip()
        if b":" in body:
            body = b"".join(line for line in body.splitlines() if line.strip() and b":" not in line)
        # Non-validating base64 skips the line breaks (and any other non-alphabet byte);
        # ``strict`` refuses anything but the alphabet and white space.
        der = base64.b64decode(b"".join(body.split()) if strict else body, validate=strict)
        blocks.append((label.decode("ascii"), der))
        position = end + len(marker)
    return blocks


def certificates_from_bytes(data: bytes, source: str) -> list[bytes]:
    """DER certificates from PEM (junk around blocks allowed), DER, or PKCS#7 (.p7b) bytes."""
    if not data.strip():
        raise InputFileError(f"{source}: the file is empty")
    if b"-----BEGIN" in data:
        try:
            blocks = pem_blocks(data)
        except (binascii.Error, ValueError) as exc:
            raise InputFileError(f"{source}: a PEM block is not valid base64 ({exc})") from None
        certs: list[bytes] = []
        for label, der in blocks:
            if label.encode() in _CERT_LABELS:
                # OpenSSL's TRUSTED CERTIFICATE appends trust settings after the certificate.
                certs.append(_first_element(der) if label == "TRUSTED CERTIFICATE" else der)
            elif label == "PKCS7":
                certs.extend(_pkcs7_certificates(der, source))
        if certs:
            return certs
        labels = sorted({label for label, _ in blocks})
        if any("KEY" in label for label in labels):
            raise InputFileError(
                f"{source}: holds a private/public key ({', '.join(labels)}), not a certificate"
            )
        raise InputFileError(
            f"{source}: no CERTIFICATE block found"
            + (f" (found {', '.join(labels)})" if labels else " (damaged PEM markers)")
        )
    # DER: one certificate or several concatenated, or a PKCS#7 bundle.
    certs = []
    offset = 0
    try:
        while offset < len(data):
            tlv, offset = asn1.read_tlv(data, offset)
            if tlv.tag != asn1.SEQUENCE:
                raise asn1.DerError("not a SEQUENCE")
            certs.append(tlv.raw)
    except asn1.DerError:
        raise InputFileError(
            f"{source}: neither PEM nor a DER certificate (binary data that does not parse)"
        ) from None
    if len(certs) == 1 and not _looks_like_certificate(certs[0]) and _is_pkcs7(certs[0]):
        return _pkcs7_certificates(certs[0], source)
    for der in certs:
        if not _looks_like_certificate(der):
            raise InputFileError(f"{source}: DER data that is not an X.509 certificate")
    return certs


def _first_element(der: bytes) -> bytes:
    try:
        return asn1.read_tlv(der, 0)[0].raw
    except asn1.DerError:
        return der


_PKCS7_SIGNED_DATA = "1.2.840.113549.1.7.2"


def _is_pkcs7(der: bytes) -> bool:
    try:
        first = asn1.read_single(der).children()[0]
        return first.tag == asn1.OID and asn1.decode_oid(first.content) == _PKCS7_SIGNED_DATA
    except (asn1.DerError, IndexError):
        return False


def _pkcs7_certificates(der: bytes, source: str) -> list[bytes]:
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    try:
        certs = pkcs7.load_der_pkcs7_certificates(der)
    except Exception as exc:
        raise InputFileError(f"{source}: a PKCS#7 bundle that cannot be read ({exc})") from None
    if not certs:
        raise InputFileError(f"{source}: the PKCS#7 bundle holds no certificates")
    return _issuing_order([c.public_bytes(Encoding.DER) for c in certs])


def _issuing_order(ders: list[bytes]) -> list[bytes]:
    """A PKCS#7 SET has no order: put the certificate that issued none of the others first,
    then its issuer, and so on; the rest keep their order at the end."""
    parsed = []
    for der in ders:
        try:
            parsed.append(parse_certificate(der))
        except CertificateParseError:
            return ders
    issuers = {p.issuer_der for p in parsed if not p.self_issued}
    leaves = [p for p in parsed if p.subject_der not in issuers and not p.info.self_signed]
    if len(leaves) != 1:
        return ders
    ordered = [leaves[0]]
    while True:
        current = ordered[-1]
        nxt = next(
            (p for p in parsed if p.subject_der == current.issuer_der and p not in ordered),
            None,
        )
        if nxt is None or current.self_issued:
            break
        ordered.append(nxt)
    ordered += [p for p in parsed if p not in ordered]
    return [p.der for p in ordered]


def _looks_like_certificate(der: bytes) -> bool:
    try:
        items = asn1.read_single(der).children()
        return len(items) == 3 and items[0].tag == asn1.SEQUENCE and items[2].tag == asn1.BIT_STRING
    except asn1.DerError:
        return False


def load_certificates(path: Path) -> list[bytes]:
    """Every certificate in ``path`` (PEM bundle with any text around the blocks, or DER)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a directory, not a certificate file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return certificates_from_bytes(data, str(path))


# --------------------------------------------------------------------------- parsing


class _ParseCache(dict[bytes, ParsedCertificate]):
    """Parsed certificates by their DER; clearing it also forgets the shared pieces below.

    Keyed by the bytes themselves, not a digest: a certificate seen again (the intermediate
    of every chain of a CA, a store's root) costs one dict lookup (the hash of a bytes
    object is computed once per object), and the DER is kept by the parse anyway.
    """

    def clear(self) -> None:
        super().clear()
        _SHARED.clear()
        _SHARED_EXTENSIONS.clear()


_CACHE: dict[bytes, ParsedCertificate] = _ParseCache()

#: Decoded pieces that many certificates carry byte for byte (the leaves of one CA share the
#: issuer name and most extensions: AKI, key usage, EKU, basic constraints, AIA, policies):
#: decoded once, keyed by their DER. Cleared with :data:`_CACHE`.
_SHARED: dict[tuple[str, bool, bytes], tuple[Any, ...]] = {}
#: Extensions unique to each certificate: not worth keeping in :data:`_SHARED`.
_UNSHARED_EXTENSIONS = frozenset(
    {oids.SUBJECT_ALT_NAME, oids.SUBJECT_KEY_IDENTIFIER, oids.SCT_LIST}
)


#: Per extension DER, the same idea: [Extension, critical=FALSE written out, decoded], where
#: decoded is None until first needed, then (fields it sets, error line or None, whether a
#: field is a dict, which every certificate gets a copy of). Cleared with :data:`_CACHE`.
_SHARED_EXTENSIONS: dict[bytes, list[Any]] = {}


def _shared_put(key: tuple[str, bool, bytes], value: tuple[Any, ...]) -> None:
    if len(_SHARED) >= _CACHE_LIMIT:
        _SHARED.clear()
    _SHARED[key] = value


def parse_certificate(der: bytes) -> ParsedCertificate:
    """Parse (once; cached by content) a DER certificate, leniently."""
    key = der if type(der) is bytes else bytes(der)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    parsed = _parse(key, hashlib.sha256(key).digest())
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[key] = parsed
    return parsed


_INDEXED: dict[tuple[str, int], CertificateInfo] = {}


def describe_certificate(der: bytes, index: int = 0) -> CertificateInfo:
    """The iOS-relevant fields of a certificate; raises CertificateParseError for non-certificates."""
    return describe_parsed(parse_certificate(der), index)


def describe_parsed(parsed: ParsedCertificate, index: int) -> CertificateInfo:
    """:func:`describe_certificate` for a certificate already parsed."""
    info = parsed.info
    if index == info.index:
        return info
    key = (info.sha256, index)
    indexed = _INDEXED.get(key)
    if indexed is None:
        if len(_INDEXED) >= _CACHE_LIMIT:
            _INDEXED.clear()
        indexed = _INDEXED[key] = replace(info, index=index)
    return indexed


#: ``[0] EXPLICIT INTEGER 2``: the version field of (almost) every certificate, v3.
_V3 = b"\xa0\x03\x02\x01\x02"


def _parse(der: bytes, digest: bytes) -> ParsedCertificate:
    try:
        outer = asn1.read_single(der)
        parts = _read_all(outer.content)
    except asn1.DerError as exc:
        raise CertificateParseError(f"not a certificate: {exc}") from None
    if (
        outer.tag != asn1.SEQUENCE
        or len(parts) != 3
        or parts[0].tag != asn1.SEQUENCE
        or parts[1].tag != asn1.SEQUENCE
        or parts[2].tag != asn1.BIT_STRING
    ):
        raise CertificateParseError(
            "not a certificate: not a SEQUENCE of TBSCertificate, algorithm, signature"
        )
    errors: list[str] = []
    quirks: set[str] = set(outer.quirks)
    tbs_tlv, alg_tlv, sig_tlv = parts
    try:
        fields = _read_all(tbs_tlv.content)
    except asn1.DerError as exc:
        raise CertificateParseError(
            f"not a certificate: TBSCertificate unreadable ({exc})"
        ) from None
    for item in fields:
        if item.quirks:
            quirks.update(item.quirks)

    pos = 0
    version = 1
    if fields and fields[0].raw == _V3:  # almost every certificate: no need to decode it
        version, pos = 3, 1
    elif fields and fields[0].is_context(0):
        try:
            version = asn1.decode_integer(fields[0].children()[0].content) + 1
            if version == 1:
                quirks.add("version v1 encoded explicitly")
        except (asn1.DerError, IndexError):
            errors.append("version: unreadable")
        pos = 1
    if len(fields) < pos + 6:
        raise CertificateParseError("not a certificate: TBSCertificate has too few fields")
    serial_tlv, _inner_alg, issuer_tlv, validity_tlv, subject_tlv, spki_tlv = fields[pos : pos + 6]
    rest = fields[pos + 6 :]

    serial = ""
    try:
        serial_value = asn1.decode_integer(serial_tlv.content)
        if serial_value < 0:
            quirks.add("negative serial number")
        serial = format(
            serial_value
            if serial_value >= 0
            else serial_value & ((1 << (8 * len(serial_tlv.content))) - 1),
            "x",
        )
    except asn1.DerError as exc:
        errors.append(f"serial number: {exc}")

    subject, subject_cns = _format_name(subject_tlv, errors, "subject")
    issuer_key = ("issuer", False, issuer_tlv.raw)
    shared_issuer = _SHARED.get(issuer_key)
    if shared_issuer is None:
        issuer_errors: list[str] = []
        issuer, _ = _format_name(issuer_tlv, issuer_errors, "issuer")
        _shared_put(issuer_key, (issuer, tuple(issuer_errors)))
    else:
        issuer, issuer_errors = shared_issuer
    errors.extend(issuer_errors)
    subject_empty = not subject_tlv.content

    not_before: datetime | None = None
    not_after: datetime | None = None
    try:
        times = _read_all(validity_tlv.content)
        not_before = asn1.decode_time(times[0])
        not_after = asn1.decode_time(times[1])
    except (asn1.DerError, IndexError, ValueError) as exc:
        errors.append(f"validity dates: {exc}")

    # Signature algorithm (outer): the same few encodings everywhere, decoded once each.
    alg_key = ("algorithm", False, alg_tlv.raw)
    shared_alg = _SHARED.get(alg_key)
    if shared_alg is None:
        signature_oid = ""
        signature_params: bytes | None = None
        alg_error = None
        try:
            alg_parts = alg_tlv.children()
            signature_oid = asn1.decode_oid(alg_parts[0].content)
            if len(alg_parts) > 1 and alg_parts[1].tag != asn1.NULL:
                signature_params = alg_parts[1].raw
        except (asn1.DerError, IndexError) as exc:
            alg_error = f"signature algorithm: {exc}"
        _shared_put(alg_key, (signature_oid, signature_params, alg_error))
    else:
        signature_oid, signature_params, alg_error = shared_alg
    if alg_error is not None:
        errors.append(alg_error)
    sig_name, sig_hash, _family = oids.SIGNATURE_ALGORITHMS.get(
        signature_oid, (signature_oid or "unknown", None, "unknown")
    )
    if signature_oid == oids.RSA_PSS:
        sig_hash = _pss_hash(signature_params)
    try:
        signature = asn1.decode_bit_string(sig_tlv.content)
    except asn1.DerError as exc:
        raise CertificateParseError(f"not a certificate: signature unreadable ({exc})") from None

    strict_error, strict_key = _strict_parse(der)
    key_type, key_size, public_key = _read_key(spki_tlv, errors, strict_key)

    read: list[tuple[Extension, list[Any] | None]] = []
    for item in rest:
        if item.is_context(3):
            try:
                read = _read_extensions(item, quirks)
            except (asn1.DerError, IndexError) as exc:
                read = []
                errors.append(f"extensions: {exc}")
    extensions = [extension for extension, _ in read]

    decoded = _decode_extensions(read, errors)
    self_issued = subject_tlv.raw == issuer_tlv.raw
    validity_days = None
    if not_before and not_after:
        validity_days = (not_after - not_before).total_seconds() / 86400

    if strict_error:
        detail = f" ({', '.join(sorted(quirks))})" if quirks else ""
        errors.append(
            f"strict DER parser rejected it: {strict_error}{detail}; analysed with the lenient reader"
        )

    sha256 = digest.hex()
    parsed = ParsedCertificate(
        der=der,
        sha256=sha256,
        info=CertificateInfo(
            index=0,
            sha256=sha256,
            sha1=hashlib.sha1(der).hexdigest(),
            subject=subject,
            issuer=issuer,
            serial=serial,
            not_before=not_before,
            not_after=not_after,
            san=decoded["san"],
            key_type=key_type,
            key_size=key_size,
            signature_algorithm=sig_name,
            signature_hash=sig_hash,
            basic_constraints=decoded["basic_constraints"],
            eku=decoded["eku"],
            key_usage=decoded["key_usage"],
            self_signed=False,  # filled below once the signature is checked
            version=version,
            subject_cn=subject_cns[0] if subject_cns else None,
            validity_days=validity_days,
            ski=decoded["ski"],
            aki=decoded["aki"],
            extensions=_extension_summaries(extensions),
            parse_errors=tuple(errors),
            der=der,
        ),
        tbs=tbs_tlv.raw,
        signature=signature,
        signature_oid=signature_oid,
        signature_params=signature_params,
        subject_der=subject_tlv.raw,
        issuer_der=issuer_tlv.raw,
        spki_der=spki_tlv.raw,
        public_key=public_key,
        extensions=tuple(extensions),
        dns_names=decoded["dns_names"],
        ip_names=decoded["ip_names"],
        bad_ip_names=decoded["bad_ip_names"],
        subject_cns=tuple(subject_cns),
        subject_empty=subject_empty,
        name_constraints=decoded["name_constraints"],
        ca_issuer_urls=decoded["ca_issuer_urls"],
        sct_count=decoded["sct_count"],
        self_issued=self_issued,
        unparseable_extensions=decoded["unparseable_extensions"],
        spki_sha256=hashlib.sha256(spki_tlv.raw).hexdigest(),
        certificate_policies=decoded["certificate_policies"],
        require_explicit_policy=decoded["require_explicit_policy"],
        inhibit_any_policy=decoded["inhibit_any_policy"],
        has_policy_mappings=decoded["has_policy_mappings"],
        scts=decoded["scts"],
        unknown_critical=decoded["unknown_critical"],
        repeated_extensions=decoded["repeated_extensions"],
        email_names=decoded["email_names"],
    )
    if self_issued and verify_signature(parsed, parsed) is not False:
        parsed = parsed._replace(info=replace(parsed.info, self_signed=True))
    return parsed


#: ``CertificateInfo.extensions`` entries by (OID, critical): each certificate gets copies
#: (the dicts are its own), made from these without reading ``Extension.name`` every time.
_SUMMARIES: dict[tuple[str, bool], dict[str, Any]] = {}


def _extension_summaries(extensions: list[Extension]) -> tuple[dict[str, Any], ...]:
    summaries = []
    for extension in extensions:
        key = (extension.oid, extension.critical)
        summary = _SUMMARIES.get(key)
        if summary is None:
            if len(_SUMMARIES) >= _CACHE_LIMIT:
                _SUMMARIES.clear()
            summary = _SUMMARIES[key] = {
                "oid": extension.oid,
                "name": extension.name,
                "critical": extension.critical,
            }
        summaries.append(summary.copy())
    return tuple(summaries)


_LOAD_DER: list[Any] = []


def _load_der() -> Any:
    """``x509.load_der_x509_certificate``, imported on first use."""
    if not _LOAD_DER:
        from cryptography import x509

        _LOAD_DER.append(x509.load_der_x509_certificate)
    return _LOAD_DER[0]


def _strict_parse(der: bytes) -> tuple[str | None, Any]:
    """(cryptography's complaint or None, the public key it loaded or None)."""
    load = _LOAD_DER[0] if _LOAD_DER else _load_der()
    public_key = None
    # Warnings (e.g. a zero serial) are not rejections: the certificate was read.
    with warnings.catch_warnings(action="ignore"):
        try:
            cert = load(der)
            _ = cert.extensions
        except Exception as exc:  # cryptography raises ValueError and others
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return message, None
        try:
            public_key = cert.public_key()
        except Exception:
            public_key = None  # _read_key loads it again and says why it cannot
    return None, public_key


def _format_name(tlv: asn1.Tlv, errors: list[str], label: str) -> tuple[str, list[str]]:
    """RFC 4514 string (most specific RDN first, like cryptography) and the CN values."""
    rdns: list[str] = []
    cns: list[str] = []
    try:
        for rdn in _read_all(tlv.content):
            attributes = []
            for attribute in _read_all(rdn.content):
                oid_tlv, value_tlv = _read_all(attribute.content)[:2]
                oid = asn1.decode_oid(oid_tlv.content)
                value = asn1.decode_string(value_tlv)
                if oid == oids.COMMON_NAME:
                    cns.append(value)
                attributes.append(f"{oids.NAME_ATTRIBUTES.get(oid, oid)}={_escape(value)}")
            rdns.append("+".join(attributes))
    except (asn1.DerError, ValueError, IndexError) as exc:
        errors.append(f"{label} name: {exc}")
    return ",".join(reversed(rdns)), cns


_SPECIAL = frozenset(',+"\\<>;#')


def _escape(value: str) -> str:
    if not _SPECIAL.intersection(value) and value[:1] != " " and value[-1:] != " ":
        return value
    out = []
    for i, char in enumerate(value):
        if (
            char in ',+"\\<>;'
            or (char == "#" and i == 0)
            or (char == " " and i in (0, len(value) - 1))
        ):
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


_CURVE_SIZES = {
    "1.2.840.10045.3.1.7": 256,
    "1.3.132.0.34": 384,
    "1.3.132.0.35": 521,
    "1.3.132.0.33": 224,
    "1.2.840.10045.3.1.1": 192,
    "1.3.132.0.8": 160,
    "1.3.132.0.9": 160,
    "1.3.132.0.10": 256,
}


def _read_key(spki: asn1.Tlv, errors: list[str], loaded: Any = None) -> tuple[str, int | None, Any]:
    """Key type and size (lenient reader) and the key; ``loaded``: the key cryptography's
    strict parse of the certificate already loaded from these bytes, or None."""
    key_type, key_size, public_key = "unknown", None, None
    try:
        alg, bits = _read_all(spki.content)[:2]
        alg_key = ("key algorithm", False, alg.raw)
        shared = _SHARED.get(alg_key)
        if shared is None:
            alg_parts = alg.children()
            key_oid = asn1.decode_oid(alg_parts[0].content)
            _shared_put(alg_key, (alg_parts, key_oid))
        else:
            alg_parts, key_oid = shared
        key_type = oids.KEY_ALGORITHMS.get(key_oid, "unknown")
        key_data = asn1.decode_bit_string(bits.content)
        if key_type == "RSA":
            modulus = _read_all(asn1.read_single(key_data).content)[0]
            key_size = asn1.decode_integer(modulus.content).bit_length()
        elif key_type == "EC" and len(alg_parts) > 1 and alg_parts[1].tag == asn1.OID:
            key_size = _CURVE_SIZES.get(asn1.decode_oid(alg_parts[1].content))
        elif key_type == "Ed25519":
            key_size = 256
        elif key_type == "Ed448":
            key_size = 456
    except (asn1.DerError, ValueError, IndexError) as exc:
        errors.append(f"public key: {exc}")
        return key_type, key_size, None
    if loaded is not None:
        public_key = loaded
    else:
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                public_key = load_der_public_key(spki.raw)
        except Exception as exc:
            errors.append(
                f"public key: cannot be loaded ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
            )
            return key_type, key_size, None
    if key_type == "DSA" or key_size is None:
        key_size = getattr(public_key, "key_size", None) or getattr(
            getattr(public_key, "curve", None), "key_size", None
        )
    return key_type, key_size, public_key


def _pss_hash(params: bytes | None) -> str | None:
    if not params:
        return "sha1"  # RFC 4055 default
    try:
        for item in asn1.read_single(params).children():
            if item.is_context(0):
                algorithm = item.children()[0].children()[0]
                return oids.HASH_OIDS.get(asn1.decode_oid(algorithm.content))
    except (asn1.DerError, IndexError):
        return None
    return "sha1"


def _read_extensions(
    wrapper: asn1.Tlv, quirks: set[str]
) -> list[tuple[Extension, list[Any] | None]]:
    """Each extension, with its :data:`_SHARED_EXTENSIONS` entry (None: not shared)."""
    extensions: list[tuple[Extension, list[Any] | None]] = []
    for ext in _read_all(_read_all(wrapper.content)[0].content):
        raw = ext.raw
        shared = _SHARED_EXTENSIONS.get(raw)
        if shared is not None:
            if shared[1]:
                quirks.add("critical=FALSE encoded explicitly")
            extensions.append((shared[0], shared))
            continue
        items = _read_all(ext.content)
        oid = asn1.decode_oid(items[0].content)
        critical = False
        explicit_false = False
        value_tlv = items[-1]
        if len(items) == 3:
            critical = asn1.decode_boolean(items[1].content)
            if not critical:
                explicit_false = True
                quirks.add("critical=FALSE encoded explicitly")
        extension = Extension(oid, critical, value_tlv.content)
        entry = None
        if oid not in _UNSHARED_EXTENSIONS:
            if len(_SHARED_EXTENSIONS) >= _CACHE_LIMIT:
                _SHARED_EXTENSIONS.clear()
            entry = _SHARED_EXTENSIONS[raw] = [extension, explicit_false, None]
        extensions.append((extension, entry))
    return extensions


def _general_names(data: bytes) -> list[tuple[int, asn1.Tlv]]:
    return [(item.number, item) for item in _read_all(asn1.read_single(data).content)]


_NO_EXTENSIONS: dict[str, Any] = {
    "san": (),
    "dns_names": (),
    "ip_names": (),
    "email_names": (),
    "bad_ip_names": False,
    "basic_constraints": None,
    "eku": None,
    "key_usage": None,
    "ski": None,
    "aki": None,
    "name_constraints": None,
    "ca_issuer_urls": (),
    "sct_count": 0,
    "scts": (),
    "unparseable_extensions": (),
    "certificate_policies": None,
    "require_explicit_policy": None,
    "inhibit_any_policy": None,
    "has_policy_mappings": False,
    "unknown_critical": (),
    "repeated_extensions": (),
}


def _decode_extensions(
    extensions: list[tuple[Extension, list[Any] | None]], errors: list[str]
) -> dict[str, Any]:
    out = dict(_NO_EXTENSIONS)
    seen: set[str] = set()
    unknown_critical: list[Extension] = []
    repeated: list[Extension] = []
    for ext, shared in extensions:
        oid = ext.oid
        if (
            ext.critical
            and oid not in oids.IOS_PARSED_EXTENSIONS
            and not oid.startswith(oids.APPLE_ARC)
        ):
            unknown_critical.append(ext)
        if oid in seen:
            repeated.append(ext)
            continue  # duplicates are a finding of their own; iOS rejects the certificate
        seen.add(oid)
        decoder = _DECODERS.get(oid)
        if decoder is None:
            continue
        if shared is None:
            error = _decode_one(decoder, ext, out)
        else:
            decoded = shared[2]
            if decoded is None:
                part: dict[str, Any] = {}
                error = _decode_one(decoder, ext, part)
                decoded = shared[2] = (
                    part,
                    error,
                    any(type(value) is dict for value in part.values()),
                )
            part, error, has_dict = decoded
            if has_dict:
                for name, value in part.items():
                    out[name] = dict(value) if type(value) is dict else value  # never share a dict
            else:
                out.update(part)
        if error is not None:
            errors.append(error)
            out["unparseable_extensions"] = (*out["unparseable_extensions"], ext.oid)
    if unknown_critical:
        out["unknown_critical"] = tuple(unknown_critical)
    if repeated:
        out["repeated_extensions"] = tuple(repeated)
    return out


def _decode_one(decoder: Any, ext: Extension, out: dict[str, Any]) -> str | None:
    """Run one extension decoder into ``out``; the error line, or None."""
    try:
        decoder(ext, out)
    except (asn1.DerError, ValueError, IndexError) as exc:
        return f"{ext.name} extension: {exc}"
    return None


def _decode_san(ext: Extension, out: dict[str, Any]) -> None:
    shown: list[str] = []
    dns: list[str] = []
    ips: list[bytes] = []
    emails: list[str] = []
    bad_ip = False
    for number, item in _general_names(ext.value):
        if number == 2:
            name = item.content.decode("ascii", errors="replace")
            dns.append(name)
            shown.append(f"DNS:{name}")
        elif number == 7:
            ips.append(item.content)
            if len(item.content) in (4, 16):
                shown.append(f"IP:{ipaddress.ip_address(item.content)}")
            else:
                bad_ip = True
                shown.append(f"IP:<malformed {item.content.hex()}>")
        elif number == 1:
            emails.append(item.content.decode("ascii", errors="replace"))
            shown.append(f"email:{emails[-1]}")
        elif number == 6:
            shown.append(f"URI:{item.content.decode('ascii', errors='replace')}")
        else:
            shown.append(f"other:[{number}]")
    out.update(
        san=tuple(shown),
        dns_names=tuple(dns),
        ip_names=tuple(ips),
        email_names=tuple(emails),
        bad_ip_names=bad_ip,
    )


def _decode_basic_constraints(ext: Extension, out: dict[str, Any]) -> None:
    ca = False
    path_length = None
    for item in asn1.read_single(ext.value).children():
        if item.tag == asn1.BOOLEAN:
            ca = asn1.decode_boolean(item.content)
        elif item.tag == asn1.INTEGER:
            path_length = asn1.decode_integer(item.content)
    out["basic_constraints"] = {"ca": ca, "path_length": path_length, "critical": ext.critical}


def _decode_key_usage(ext: Extension, out: dict[str, Any]) -> None:
    bits = asn1.decode_bit_string(asn1.read_single(ext.value).content)
    names = []
    for i, name in enumerate(oids.KEY_USAGE_BITS):
        byte, bit = divmod(i, 8)
        if byte < len(bits) and bits[byte] & (0x80 >> bit):
            names.append(name)
    out["key_usage"] = tuple(names)


def _decode_eku(ext: Extension, out: dict[str, Any]) -> None:
    values = [asn1.decode_oid(item.content) for item in asn1.read_single(ext.value).children()]
    out["eku"] = tuple(oids.EKU_NAMES.get(v, v) for v in values)


def _decode_ski(ext: Extension, out: dict[str, Any]) -> None:
    out["ski"] = asn1.read_single(ext.value).content.hex()


def _decode_aki(ext: Extension, out: dict[str, Any]) -> None:
    for item in asn1.read_single(ext.value).children():
        if item.is_context(0):
            out["aki"] = item.content.hex()


def _decode_name_constraints(ext: Extension, out: dict[str, Any]) -> None:
    """Subtrees as written (Apple compares them as text: no syntax check, no normalising).

    ``parseGeneralSubtrees`` (SecCertificate.c) refuses the whole extension when a subtree
    has a minimum other than 0 or any maximum (RFC 5280 4.2.1.10 MUST): raising here makes it
    an unparseable extension whose constraints are not applied, as on iOS.
    """
    permitted_dns: list[str] = []
    excluded_dns: list[str] = []
    permitted_ip: list[tuple[bytes, bytes]] = []
    excluded_ip: list[tuple[bytes, bytes]] = []
    permitted_email: list[str] = []
    excluded_email: list[str] = []
    unsupported: list[str] = []
    for subtrees in asn1.read_single(ext.value).children():
        permit = subtrees.is_context(0)
        dns_list, ip_list, email_list = (
            (permitted_dns, permitted_ip, permitted_email)
            if permit
            else (excluded_dns, excluded_ip, excluded_email)
        )
        for subtree in subtrees.children():
            base, *bounds = subtree.children()
            for bound in bounds:
                if bound.is_context(0) and int.from_bytes(bound.content, "big") == 0:
                    continue  # minimum 0 written out: Apple accepts it
                raise ValueError("a GeneralSubtree has a minimum other than 0 or a maximum")
            if base.number == 2 and base.tag_class == 2:
                dns_list.append(base.content.decode("ascii", errors="replace"))
            elif base.number == 7 and base.tag_class == 2:
                # Split as given; a length other than 8/32 bytes then matches no address.
                half = len(base.content) // 2
                ip_list.append((base.content[:half], base.content[half:]))
            elif base.number == 1 and base.tag_class == 2:
                email_list.append(base.content.decode("ascii", errors="replace"))
            elif base.number in (4, 6):
                pass  # directoryName, URI: iOS supports them; mailtls does not check them
            else:
                unsupported.append(
                    {0: "otherName", 3: "x400Address", 5: "ediPartyName", 8: "registeredID"}.get(
                        base.number, str(base.number)
                    )
                )
    out["name_constraints"] = NameConstraints(
        critical=ext.critical,
        permitted_dns=tuple(permitted_dns),
        excluded_dns=tuple(excluded_dns),
        permitted_ip=tuple(permitted_ip),
        excluded_ip=tuple(excluded_ip),
        unsupported_forms=tuple(unsupported),
        permitted_email=tuple(permitted_email),
        excluded_email=tuple(excluded_email),
    )


def _decode_aia(ext: Extension, out: dict[str, Any]) -> None:
    urls = []
    for description in asn1.read_single(ext.value).children():
        method, location = description.children()[:2]
        if asn1.decode_oid(method.content) == oids.CA_ISSUERS and location.number == 6:
            urls.append(location.content.decode("ascii", errors="replace"))
    out["ca_issuer_urls"] = tuple(urls)


def _decode_scts(ext: Extension, out: dict[str, Any]) -> None:
    data = asn1.read_single(ext.value).content  # OCTET STRING holding the TLS structure
    total = int.from_bytes(data[:2], "big")
    offset, end = 2, min(len(data), 2 + total)
    scts: list[tuple[str, datetime | None]] = []
    while offset + 2 <= end:
        length = int.from_bytes(data[offset : offset + 2], "big")
        sct = data[offset + 2 : offset + 2 + length]
        offset += 2 + length
        # RFC 6962 §3.2 v1: version (1), log id (32), timestamp in ms (8), ...
        if len(sct) >= 41 and sct[0] == 0:
            millis = int.from_bytes(sct[33:41], "big")
            try:
                when: datetime | None = datetime.fromtimestamp(millis / 1000, UTC)
            except (OverflowError, ValueError, OSError):
                when = None
            scts.append((base64.b64encode(sct[1:33]).decode("ascii"), when))
        else:
            scts.append(("", None))
    out["sct_count"] = len(scts)
    out["scts"] = tuple(scts)


def _decode_policies(ext: Extension, out: dict[str, Any]) -> None:
    out["certificate_policies"] = tuple(
        asn1.decode_oid(info.children()[0].content)
        for info in asn1.read_single(ext.value).children()
    )


def _decode_policy_constraints(ext: Extension, out: dict[str, Any]) -> None:
    for item in asn1.read_single(ext.value).children():
        if item.is_context(0):
            out["require_explicit_policy"] = int.from_bytes(item.content, "big")


def _decode_inhibit_any(ext: Extension, out: dict[str, Any]) -> None:
    out["inhibit_any_policy"] = asn1.decode_integer(asn1.read_single(ext.value).content)


def _decode_policy_mappings(ext: Extension, out: dict[str, Any]) -> None:
    out["has_policy_mappings"] = True


_DECODERS = {
    oids.CERTIFICATE_POLICIES: _decode_policies,
    oids.POLICY_CONSTRAINTS: _decode_policy_constraints,
    oids.INHIBIT_ANY_POLICY: _decode_inhibit_any,
    oids.POLICY_MAPPINGS: _decode_policy_mappings,
    oids.SUBJECT_ALT_NAME: _decode_san,
    oids.BASIC_CONSTRAINTS: _decode_basic_constraints,
    oids.KEY_USAGE: _decode_key_usage,
    oids.EXTENDED_KEY_USAGE: _decode_eku,
    oids.SUBJECT_KEY_IDENTIFIER: _decode_ski,
    oids.AUTHORITY_KEY_IDENTIFIER: _decode_aki,
    oids.NAME_CONSTRAINTS: _decode_name_constraints,
    oids.AUTHORITY_INFO_ACCESS: _decode_aia,
    oids.SCT_LIST: _decode_scts,
}


# --------------------------------------------------------------------------- signatures

_VERIFIED: dict[tuple[str, str], bool | None] = {}


def verify_signature(child: ParsedCertificate, issuer: ParsedCertificate) -> bool | None:
    """Did ``issuer``'s key sign ``child``? None: the algorithm cannot be checked (e.g. MD2)."""
    key = (child.sha256, issuer.sha256)
    if key in _VERIFIED:
        return _VERIFIED[key]
    result = _verify(child, issuer)
    if len(_VERIFIED) >= _CACHE_LIMIT:
        _VERIFIED.clear()
    _VERIFIED[key] = result
    return result


_HASH_TYPES: dict[str, Any] = {}  # hash name -> cryptography hash class, filled on first use


def _hash_types() -> dict[str, Any]:
    if not _HASH_TYPES:
        from cryptography.hazmat.primitives import hashes

        _HASH_TYPES.update(
            md5=hashes.MD5,
            sha1=hashes.SHA1,
            sha224=hashes.SHA224,
            sha256=hashes.SHA256,
            sha384=hashes.SHA384,
            sha512=hashes.SHA512,
        )
    return _HASH_TYPES


_CRYPTOGRAPHY: list[tuple[Any, ...]] = []


def _cryptography() -> tuple[Any, ...]:
    """What :func:`_verify` uses of cryptography, imported once, on first use."""
    if not _CRYPTOGRAPHY:
        from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
        from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

        _CRYPTOGRAPHY.append(
            (InvalidSignature, UnsupportedAlgorithm, dsa, ec, ed448, ed25519, padding, rsa)
        )
    return _CRYPTOGRAPHY[0]


def warm_up() -> None:
    """Load now what the first analysis would load: cryptography's certificate loader and
    verification names, and the backend module it imports for the first ECDSA object."""
    _load_der()
    _invalid, _unsupported, _dsa, ec, *_others = _cryptography()
    ec.ECDSA(_hash_types()["sha256"]())


def _verify(child: ParsedCertificate, issuer: ParsedCertificate) -> bool | None:
    InvalidSignature, UnsupportedAlgorithm, dsa, ec, ed448, ed25519, padding, rsa = _cryptography()
    public_key = issuer.public_key
    if public_key is None:
        return None
    _name, hash_name, family = oids.SIGNATURE_ALGORITHMS.get(child.signature_oid, ("", None, ""))
    hash_types = _hash_types()
    try:
        if family == "RSA-PSS" and isinstance(public_key, rsa.RSAPublicKey):
            pss_hash = child.info.signature_hash
            if pss_hash not in hash_types:
                return None
            algorithm = hash_types[pss_hash]()
            public_key.verify(
                child.signature,
                child.tbs,
                padding.PSS(padding.MGF1(algorithm), padding.PSS.AUTO),
                algorithm,
            )
        elif family == "RSA" and isinstance(public_key, rsa.RSAPublicKey):
            if hash_name not in hash_types:
                return None
            public_key.verify(
                child.signature, child.tbs, padding.PKCS1v15(), hash_types[hash_name]()
            )
        elif family == "EC" and isinstance(public_key, ec.EllipticCurvePublicKey):
            if hash_name not in hash_types:
                return None
            public_key.verify(child.signature, child.tbs, ec.ECDSA(hash_types[hash_name]()))
        elif family in ("Ed25519", "Ed448") and isinstance(
            public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
        ):
            public_key.verify(child.signature, child.tbs)
        elif family == "DSA" and isinstance(public_key, dsa.DSAPublicKey):
            if hash_name not in hash_types:
                return None
            public_key.verify(child.signature, child.tbs, hash_types[hash_name]())
        elif family in ("RSA", "RSA-PSS", "EC", "Ed25519", "Ed448", "DSA"):
            return False  # the issuer's key is of another kind: it did not sign this
        else:
            return None
    except InvalidSignature:
        return False
    except (UnsupportedAlgorithm, ValueError, TypeError):
        return None
    return True
