"""Configuration profiles (``.mobileconfig``) that install a private root on an iPhone.

:func:`check_root_installable` says why a certificate would not be offered for full trust
(ios-trust-rules.md ``ios_cts_ui_lists_ca_only``, ``profile_root_needs_full_trust``,
``ios13_key_size``); :func:`build_profile` writes the profile with plistlib: one
``com.apple.security.root`` payload holding the DER certificate and, optionally, one
``com.apple.mail.managed`` account payload (never a password).

Identifiers and UUIDs are derived (uuid5) from the certificate's SHA-256 and the chosen
identifier prefix, so building the same profile twice gives the same bytes, and
installing a rebuilt profile replaces the old one on the phone instead of adding a copy.
"""

from __future__ import annotations

import hashlib
import plistlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from mailtls.errors import ArtefactError, UsageError
from mailtls.model import Protocol

#: Namespace for every uuid5 mailtls derives (a fixed random UUID; never change it).
UUID_NAMESPACE = uuid.UUID("5c7b1c4e-3f0a-4d8e-9a52-6f1e2d7c9b10")
DEFAULT_IDENTIFIER_PREFIX = "org.mailtls"
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
_IDENTIFIER = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$"
)
_WEAK_HASHES = {"sha1", "md5", "md2", "md4"}


# --------------------------------------------------------------------------- installability


def check_root_installable(cert_der: bytes, *, at: datetime | None = None) -> list[str]:
    """Reasons ``cert_der`` would not become a fully trusted root on an iPhone ([] = fine).

    Each reason is one sentence naming the rule. ``at`` (default: now) is the time the
    validity dates are checked against.
    """
    try:
        cert = x509.load_der_x509_certificate(cert_der)
    except ValueError as exc:
        return [f"not a certificate mailtls can read ({exc})"]
    when = at or datetime.now(UTC)
    reasons: list[str] = []

    subject = cert.subject.rfc4514_string() or "(empty subject)"
    if not _is_self_signed(cert):
        reasons.append(
            f"it is not self-signed (issued by {cert.issuer.rfc4514_string() or '?'}): a profile "
            "must carry the root CA itself, not a server certificate or an intermediate"
        )
    constraints = _extension(cert, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        reasons.append(
            "it is not a CA certificate (basicConstraints CA:TRUE is missing): iOS lists only "
            "CA certificates under Certificate Trust Settings (ios_cts_ui_lists_ca_only)"
        )
    key_usage = _extension(cert, x509.KeyUsage)
    if key_usage is not None and not key_usage.key_cert_sign:
        reasons.append(
            "its keyUsage lacks keyCertSign, so certificates it signs fail on iOS (ca_keycertsign)"
        )
    if not cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
        reasons.append(
            f"its subject ({subject}) has no common name (CN): roots without a CN are reportedly "
            "not listed under Certificate Trust Settings (ios_cts_ui_lists_ca_only)"
        )
    hash_name = _signature_hash(cert)
    if hash_name is None or hash_name in _WEAK_HASHES:
        reasons.append(
            f"it is signed with {hash_name or cert.signature_algorithm_oid.dotted_string}, "
            "not SHA-256 or better: make a new root signed with SHA-256"
        )
    key_reason = _key_reason(cert)
    if key_reason:
        reasons.append(key_reason)
    not_before = cert.not_valid_before_utc
    not_after = cert.not_valid_after_utc
    if when > not_after:
        reasons.append(f"it expired on {not_after:%Y-%m-%d} (temporal_validity)")
    elif when < not_before:
        reasons.append(f"it is not valid before {not_before:%Y-%m-%d} (temporal_validity)")
    return reasons


def require_root_installable(cert_der: bytes, *, at: datetime | None = None) -> None:
    """Raise :class:`ArtefactError` with every reason if the root is unsuitable."""
    reasons = check_root_installable(cert_der, at=at)
    if reasons:
        raise ArtefactError(
            "this certificate cannot be the root in a profile: " + "; ".join(reasons)
        )


def _is_self_signed(cert: x509.Certificate) -> bool:
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _extension(cert: x509.Certificate, kind: type[Any]) -> Any:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:  # duplicate or unparseable extension
        return None


def _signature_hash(cert: x509.Certificate) -> str | None:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    return algorithm.name if algorithm is not None else None


def _key_reason(cert: x509.Certificate) -> str | None:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return "its public key cannot be read; iOS needs RSA ≥ 2048 bits or EC ≥ P-256"
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            return (
                f"its key is RSA-{key.key_size}: iOS 13+ requires RSA ≥ 2048 bits on every "
                "certificate, the root included (ios13_key_size)"
            )
        return None
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < MIN_EC_BITS:
            return (
                f"its key is EC-{key.curve.key_size}: iOS 13+ requires P-256 or larger on every "
                "certificate, the root included (ios13_key_size)"
            )
        return None
    return (
        f"its key type ({type(key).__name__.removesuffix('PublicKey') or '?'}) is not RSA or EC: "
        "iOS's key-size rule knows only RSA and EC, so other keys fail for TLS (ios13_key_size)"
    )


# --------------------------------------------------------------------------- account payload


@dataclass(frozen=True)
class MailServer:
    """Where the phone connects: host, port, and whether to use TLS (always true by default)."""

    host: str
    port: int
    use_ssl: bool = True


#: Default ports when the admin gives only a host (implicit TLS for incoming, submission
#: with STARTTLS for outgoing, as iPhone Mail itself prefers).
DEFAULT_PORTS: dict[str, int] = {"imap": 993, "pop3": 995, "smtp": 587}


@dataclass(frozen=True)
class MailAccount:
    """A Mail account for a ``com.apple.mail.managed`` payload. No password, ever: the
    phone asks for it when the profile is installed."""

    incoming_protocol: Protocol  # IMAP or POP3
    incoming: MailServer
    outgoing: MailServer
    user_name: str | None = None
    email_address: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        if self.incoming_protocol not in (Protocol.IMAP, Protocol.POP3):
            raise UsageError("the incoming server must be IMAP or POP3")

    @property
    def host_names(self) -> tuple[str, ...]:
        """Host names the phone will check the certificate against."""
        names = [self.incoming.host]
        if self.outgoing.host not in names:
            names.append(self.outgoing.host)
        return tuple(names)


def parse_server(text: str, protocol: str) -> MailServer:
    """``HOST`` or ``HOST:PORT`` (``[v6]:PORT`` for IPv6) into a :class:`MailServer`."""
    from mailtls.remedy.names import parse_name

    value = text.strip()
    port = DEFAULT_PORTS[protocol]
    host_part = value
    if value.startswith("["):
        close = value.find("]")
        if close < 0:
            raise UsageError(f"{text!r}: missing ']' after an IPv6 address")
        host_part, rest = value[1:close], value[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise UsageError(f"{text!r}: expected ':PORT' after ']'")
            port = _port(rest[1:], text)
    elif value.count(":") == 1:
        host_part, port_text = value.split(":")
        port = _port(port_text, text)
    host = parse_name(host_part)
    if host.is_wildcard:
        raise UsageError(f"{text!r}: a server to connect to cannot be a wildcard")
    return MailServer(host.value, port, use_ssl=True)


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"{whole!r}: port must be a number from 1 to 65535")
    return int(text)


# --------------------------------------------------------------------------- profile


@dataclass(frozen=True)
class ProfileInfo:
    """What :func:`build_profile` put in the profile (for messages and tests)."""

    identifier: str
    uuid: str
    root_sha256: str
    root_subject: str
    payload_types: tuple[str, ...] = field(default_factory=tuple)


def _stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(UUID_NAMESPACE, "|".join(parts))).upper()


def _check_identifier_prefix(prefix: str) -> None:
    if not _IDENTIFIER.match(prefix):
        raise UsageError(
            f"identifier prefix {prefix!r} must be reverse-DNS style (letters, digits, '-', '.')"
        )


def _check_text(label: str, value: str | None) -> None:
    if value is None:
        return
    if not value.strip():
        raise UsageError(f"{label} must not be empty")
    if any(ord(c) < 32 for c in value):
        raise UsageError(f"{label} must not contain control characters")


def build_profile(
    root_der: bytes,
    *,
    display_name: str,
    organization: str | None = None,
    identifier_prefix: str = DEFAULT_IDENTIFIER_PREFIX,
    account: MailAccount | None = None,
    at: datetime | None = None,
) -> bytes:
    """The XML ``.mobileconfig`` for ``root_der`` (refused with the reasons if unsuitable)."""
    return build_profile_with_info(
        root_der,
        display_name=display_name,
        organization=organization,
        identifier_prefix=identifier_prefix,
        account=account,
        at=at,
    )[0]


def build_profile_with_info(
    root_der: bytes,
    *,
    display_name: str,
    organization: str | None = None,
    identifier_prefix: str = DEFAULT_IDENTIFIER_PREFIX,
    account: MailAccount | None = None,
    at: datetime | None = None,
) -> tuple[bytes, ProfileInfo]:
    """Like :func:`build_profile`, also returning what went in."""
    require_root_installable(root_der, at=at)
    _check_text("the profile name", display_name)
    _check_text("the organization", organization)
    _check_identifier_prefix(identifier_prefix)
    cert = x509.load_der_x509_certificate(root_der)
    fingerprint = hashlib.sha256(root_der).hexdigest()
    short = fingerprint[:16]
    cn_values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    root_cn = str(cn_values[0].value) if cn_values else "root"

    root_identifier = f"{identifier_prefix}.root.{short}"
    root_payload: dict[str, Any] = {
        "PayloadType": "com.apple.security.root",
        "PayloadVersion": 1,
        "PayloadIdentifier": root_identifier,
        "PayloadUUID": _stable_uuid(root_identifier, fingerprint),
        "PayloadDisplayName": root_cn,
        "PayloadDescription": f"Adds the root certificate {root_cn!r} (SHA-256 {fingerprint}).",
        "PayloadCertificateFileName": _file_name(root_cn) + ".cer",
        "PayloadContent": root_der,
    }
    payloads: list[dict[str, Any]] = [root_payload]
    account_key = ""
    if account is not None:
        mail_payload = _mail_payload(account, identifier_prefix, short)
        payloads.append(mail_payload)
        account_key = mail_payload["PayloadUUID"]

    profile_identifier = f"{identifier_prefix}.profile.{short}"
    profile_uuid = _stable_uuid(profile_identifier, fingerprint, display_name, account_key)
    description = (
        f"Installs the root certificate {root_cn!r} so that Mail can verify the mail server. "
        "After installing, turn on full trust for it under Settings > General > About > "
        "Certificate Trust Settings."
    )
    profile: dict[str, Any] = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": profile_identifier,
        "PayloadUUID": profile_uuid,
        "PayloadDisplayName": display_name,
        "PayloadDescription": description,
        "PayloadRemovalDisallowed": False,
        "PayloadContent": payloads,
    }
    if organization:
        profile["PayloadOrganization"] = organization
        for payload in payloads:
            payload["PayloadOrganization"] = organization
    data = plistlib.dumps(profile, fmt=plistlib.FMT_XML, sort_keys=True)
    _verify_round_trip(data, root_der, [p["PayloadType"] for p in payloads])
    info = ProfileInfo(
        identifier=profile_identifier,
        uuid=profile_uuid,
        root_sha256=fingerprint,
        root_subject=cert.subject.rfc4514_string(),
        payload_types=tuple(p["PayloadType"] for p in payloads),
    )
    return data, info


def _verify_round_trip(data: bytes, root_der: bytes, types: list[str]) -> None:
    """Parse the profile back: never hand out one whose root is not the bytes given."""
    parsed = plistlib.loads(data)
    content = parsed.get("PayloadContent") if isinstance(parsed, dict) else None
    if (
        not isinstance(content, list)
        or [p.get("PayloadType") for p in content] != types
        or content[0].get("PayloadContent") != root_der
    ):  # pragma: no cover - plistlib would have to be broken
        raise ArtefactError("the profile did not read back as written; nothing was written")


def _mail_payload(account: MailAccount, prefix: str, short: str) -> dict[str, Any]:
    _check_text("the user name", account.user_name)
    _check_text("the e-mail address", account.email_address)
    _check_text("the account description", account.description)
    if account.email_address is not None and "@" not in account.email_address:
        raise UsageError(f"{account.email_address!r} is not an e-mail address")
    identifier = f"{prefix}.mail.{short}"
    kind = "EmailTypeIMAP" if account.incoming_protocol is Protocol.IMAP else "EmailTypePOP"
    key = "|".join(
        str(v)
        for v in (
            identifier,
            kind,
            account.incoming,
            account.outgoing,
            account.user_name,
            account.email_address,
            account.description,
        )
    )
    description = account.description or account.email_address or account.incoming.host
    payload: dict[str, Any] = {
        "PayloadType": "com.apple.mail.managed",
        "PayloadVersion": 1,
        "PayloadIdentifier": identifier,
        "PayloadUUID": _stable_uuid(key),
        "PayloadDisplayName": f"Mail account {description}",
        "EmailAccountDescription": description,
        "EmailAccountType": kind,
        "IncomingMailServerHostName": account.incoming.host,
        "IncomingMailServerPortNumber": account.incoming.port,
        "IncomingMailServerUseSSL": account.incoming.use_ssl,
        "IncomingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingMailServerHostName": account.outgoing.host,
        "OutgoingMailServerPortNumber": account.outgoing.port,
        "OutgoingMailServerUseSSL": account.outgoing.use_ssl,
        "OutgoingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingPasswordSameAsIncomingPassword": True,
    }
    if account.user_name:
        payload["IncomingMailServerUsername"] = account.user_name
        payload["OutgoingMailServerUsername"] = account.user_name
    if account.email_address:
        payload["EmailAddress"] = account.email_address
    return payload


def _file_name(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return cleaned or "root"


def pick_root(ders: list[bytes], source: str = "file") -> tuple[bytes, str | None]:
    """Choose the root from a file's certificates: the only one, or the one self-signed CA
    in a bundle. Returns (DER, a note for the person, or None)."""
    if len(ders) == 1:
        return ders[0], None
    candidates = []
    for der in ders:
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            continue
        constraints = _extension(cert, x509.BasicConstraints)
        if _is_self_signed(cert) and constraints is not None and constraints.ca:
            candidates.append(der)
    if len(candidates) == 1:
        return candidates[0], (
            f"{source} holds {len(ders)} certificates; using the self-signed CA among them"
        )
    raise UsageError(
        f"{source} holds {len(ders)} certificates and {len(candidates)} self-signed CAs; "
        "give a file with the root alone"
    )


def common_name(cert_der: bytes) -> str | None:
    """The subject CN of a certificate, or None (unreadable, or no CN)."""
    try:
        cert = x509.load_der_x509_certificate(cert_der)
        values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        return None
    return str(values[0].value) if values else None
