"""A small private CA whose certificates pass every iOS rule under a profile-installed root.

``init_ca`` makes the root: self-signed, basicConstraints CA:TRUE (critical, pathLen 0:
it signs server certificates only), keyUsage keyCertSign + cRLSign (critical), a subject
CN, SHA-256, SKI; RSA-3072 or P-256. ``issue_server_cert`` signs a server certificate:
every name in the SAN (DNS names and IP literals), serverAuth EKU, SHA-256, at most
825 days (ios-trust-rules.md ``validity_max_other``), default 397.

Why 397 days by default: a user-trusted root gets the 825-day limit, not the 398-day one
(§1g), so 825 would pass; but a short lifetime limits the damage of a leaked key, keeps
renewal a habit, and 397 is what Apple recommends for public certificates, so the same
certificate policy survives a move to a public CA.

Why the root is in ``fullchain.pem``: with a private root there is no intermediate, so
the choice is leaf alone or leaf + root. iOS does not need the root from the server (it
matches the installed copy), but serving it lets the "Cannot Verify Server Identity"
details sheet and ``mailtls check`` name the root that is missing before the profile is
installed (verdict ``needs_profile`` instead of a bare ``prompt``). It costs one
certificate per handshake. ``root_in_fullchain=False`` writes the leaf alone.

Both functions verify what they made before writing anything: the root with
:func:`mailtls.remedy.profile.check_root_installable`, the server certificate with
mailtls's trust engine (``trusted`` for every name with the root as a user anchor).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from mailtls import pki
from mailtls.errors import ArtefactError, InputFileError, UsageError
from mailtls.remedy import files
from mailtls.remedy.names import HostName, parse_names
from mailtls.remedy.profile import check_root_installable

KeyType = Literal["rsa", "ec"]

CA_KEY_FILE = "ca.key"
CA_CERT_FILE = "ca.pem"
SERVER_KEY_FILE = "server.key"
SERVER_CERT_FILE = "server.pem"
FULLCHAIN_FILE = "fullchain.pem"

#: iOS refuses a leaf whose lifetime exceeds 825 days (+1 h) under any non-leaf anchor.
MAX_SERVER_DAYS = 825
DEFAULT_SERVER_DAYS = 397
DEFAULT_CA_DAYS = 3650
#: notBefore is set this far in the past so a phone whose clock runs a little slow
#: does not see a certificate "not yet valid".
BACKDATE = timedelta(hours=1)

_CA_RSA_BITS = 3072
_SERVER_RSA_BITS = 2048


@dataclass(frozen=True)
class CaPaths:
    directory: Path
    key: Path
    cert: Path


@dataclass(frozen=True)
class ServerCertPaths:
    directory: Path
    key: Path
    cert: Path  # the leaf alone
    fullchain: Path  # leaf + root (what the server must send)
    names: tuple[str, ...]
    not_after: datetime


def ca_paths(directory: str | os.PathLike[str]) -> CaPaths:
    base = Path(directory)
    return CaPaths(base, base / CA_KEY_FILE, base / CA_CERT_FILE)


def _now(now: datetime | None) -> datetime:
    value = now or datetime.now(UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _new_key(key_type: str, rsa_bits: int) -> pki.PrivateKey:
    if key_type == "rsa":
        return pki.generate_key("rsa", rsa_bits)
    if key_type == "ec":
        return pki.generate_key("ec", 256)
    raise UsageError(f"key type must be 'rsa' or 'ec', not {key_type!r}")


def init_ca(
    directory: str | os.PathLike[str],
    *,
    cn: str,
    org: str | None = None,
    key_type: KeyType = "rsa",
    days: int = DEFAULT_CA_DAYS,
    force: bool = False,
    now: datetime | None = None,
) -> CaPaths:
    """Create ``ca.key`` (0600) and ``ca.pem`` in ``directory`` (created 0700 if missing)."""
    if not cn or not cn.strip() or any(ord(c) < 32 for c in cn):
        raise UsageError("the CA needs a common name (--cn), without control characters")
    if org is not None and (not org.strip() or any(ord(c) < 32 for c in org)):
        raise UsageError("the organization must not be empty or contain control characters")
    if not 1 <= days <= 36500:
        raise UsageError(f"CA lifetime must be 1 to 36500 days, not {days}")
    paths = ca_paths(directory)
    if paths.directory.exists() and not paths.directory.is_dir():
        raise ArtefactError(f"{paths.directory} exists and is not a directory")
    if paths.directory.exists():
        files.check_writable([paths.key, paths.cert], force=force)

    start = _now(now) - BACKDATE
    key = _new_key(key_type, _CA_RSA_BITS)
    spec = pki.ca_spec(cn.strip(), org=org.strip() if org else None)
    spec.key_usage = ("key_cert_sign", "crl_sign")
    spec.path_length = 0
    spec.aki = False  # self-signed: the SKI says it all
    cert = pki.issue(spec, key, not_before=start, not_after=start + timedelta(days=days))
    der = pki.cert_to_der(cert)
    reasons = check_root_installable(der, at=_now(now))
    if reasons:  # would be a bug in this module; never hand out such a root
        raise ArtefactError("the new CA would not be installable: " + "; ".join(reasons))

    files.ensure_directory(paths.directory, mode=files.PRIVATE_DIRECTORY_MODE)
    files.check_writable([paths.key, paths.cert], force=force)
    files.write_private_key(paths.key, pki.key_to_pem(key), force=force)
    files.write_file(paths.cert, pki.cert_to_pem(cert), force=force)
    return paths


def load_ca(directory: str | os.PathLike[str]) -> tuple[x509.Certificate, pki.PrivateKey]:
    """Read ``ca.pem`` and ``ca.key`` from ``directory`` and check that they belong together."""
    paths = ca_paths(directory)
    for path in (paths.cert, paths.key):
        if not path.is_file():
            raise InputFileError(f"{path} not found (create the CA with 'mailtls ca init')")
    try:
        cert = x509.load_pem_x509_certificate(paths.cert.read_bytes())
    except ValueError as exc:
        raise InputFileError(f"{paths.cert}: not a PEM certificate ({exc})") from exc
    try:
        key = pki.key_from_pem(paths.key.read_bytes())
    except (ValueError, TypeError, AssertionError) as exc:
        raise InputFileError(f"{paths.key}: not an unencrypted PEM private key") from exc
    if not _same_public_key(cert, key):
        raise InputFileError(f"{paths.key} does not belong to {paths.cert}")
    return cert, key


def _same_public_key(cert: x509.Certificate, key: pki.PrivateKey) -> bool:
    from cryptography.hazmat.primitives import serialization

    form = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    return bool(
        cert.public_key().public_bytes(enc, form) == key.public_key().public_bytes(enc, form)
    )


def server_cert_paths(out_directory: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    base = Path(out_directory)
    return base / SERVER_KEY_FILE, base / SERVER_CERT_FILE, base / FULLCHAIN_FILE


def issue_server_cert(
    ca_directory: str | os.PathLike[str],
    names: Sequence[str],
    *,
    out_directory: str | os.PathLike[str],
    days: int = DEFAULT_SERVER_DAYS,
    key_type: KeyType = "rsa",
    force: bool = False,
    now: datetime | None = None,
    root_in_fullchain: bool = True,
    verify: bool = True,
) -> ServerCertPaths:
    """Issue a server certificate for every name in ``names`` under the CA in ``ca_directory``.

    Writes ``server.key`` (0600), ``server.pem`` (leaf) and ``fullchain.pem`` into
    ``out_directory``. With ``verify`` (the default, and what every front end uses) the
    chain must be ``trusted`` by mailtls's engine for every name first.
    """
    hosts: tuple[HostName, ...] = parse_names(names)
    if not 1 <= days <= MAX_SERVER_DAYS:
        raise UsageError(
            f"server certificate lifetime must be 1 to {MAX_SERVER_DAYS} days, not {days}: "
            "iOS rejects longer ones even under a trusted private root (validity_max_other)"
        )
    ca_cert, ca_key = load_ca(ca_directory)
    moment = _now(now)
    start = moment - BACKDATE
    end = start + timedelta(days=days)
    ca_der = pki.cert_to_der(ca_cert)
    reasons = check_root_installable(ca_der, at=moment)
    if reasons:
        raise ArtefactError(f"the CA in {ca_directory} is not usable: " + "; ".join(reasons))
    if end > ca_cert.not_valid_after_utc:
        raise ArtefactError(
            f"the CA expires on {ca_cert.not_valid_after_utc:%Y-%m-%d}, before the certificate "
            f"would ({end:%Y-%m-%d}); use --days with a shorter lifetime or make a new CA"
        )
    key_path, cert_path, chain_path = server_cert_paths(out_directory)
    out = Path(out_directory)
    if out.exists():
        files.check_writable([key_path, cert_path, chain_path], force=force)

    key = _new_key(key_type, _SERVER_RSA_BITS)
    is_ec = isinstance(key, ec.EllipticCurvePrivateKey)
    spec = pki.leaf_spec(*(h.san_entry for h in hosts), cn=_common_name(hosts))
    # RSA key exchange needs keyEncipherment; an EC key only signs.
    spec.key_usage = ("digital_signature",) if is_ec else ("digital_signature", "key_encipherment")
    leaf = pki.issue(
        spec, key, issuer_cert=ca_cert, issuer_key=ca_key, not_before=start, not_after=end
    )
    leaf_der = pki.cert_to_der(leaf)
    chain_ders = [leaf_der, ca_der] if root_in_fullchain else [leaf_der]
    if verify:
        from mailtls.remedy.verify import require_trusted

        require_trusted(
            chain_ders, [h.sample_host for h in hosts], ca_directory_cert(ca_directory), at=moment
        )

    files.ensure_directory(out)
    files.check_writable([key_path, cert_path, chain_path], force=force)
    files.write_private_key(key_path, pki.key_to_pem(key), force=force)
    files.write_file(cert_path, pki.cert_to_pem(leaf), force=force)
    chain_pem = pki.cert_to_pem(leaf) + (pki.cert_to_pem(ca_cert) if root_in_fullchain else b"")
    files.write_file(chain_path, chain_pem, force=force)
    return ServerCertPaths(
        out,
        key_path,
        cert_path,
        chain_path,
        tuple(h.value for h in hosts),
        leaf.not_valid_after_utc,
    )


def ca_directory_cert(ca_directory: str | os.PathLike[str]) -> Path:
    return ca_paths(ca_directory).cert


def _common_name(hosts: Sequence[HostName]) -> str | None:
    """The first DNS name (iOS ignores the CN; other clients still show it)."""
    for host in hosts:
        if not host.is_ip:
            return host.value
    return hosts[0].value if hosts else None
