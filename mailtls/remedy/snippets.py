"""Configuration snippets that deploy a certificate the way iPhones need it.

Every snippet points at the *full chain* (the server certificate followed by its
intermediates) and the key, and sets TLS 1.2 as the floor (Apple deprecated TLS 1.0/1.1
with iOS 15; ios-trust-rules.md ``tls10_11_deprecated``). The most common deployment
error, a server sending its own certificate without the intermediate, is called out, and
:func:`inspect_deployment` looks for it (and for a key that does not match) in the files,
and, given the iPhone's system store (Apple's, by default), judges the whole chain as an
iPhone does.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from mailtls.errors import InputFileError, UsageError

if TYPE_CHECKING:
    from mailtls.analysis.stores import TrustStore
    from mailtls.model import Analysis

SERVERS: tuple[str, ...] = ("dovecot", "postfix", "exim")

FULL_CHAIN_WARNING = (
    "Use the FULL chain file (server certificate followed by the intermediate CA "
    "certificates, e.g. fullchain.pem), never the certificate alone (cert.pem): a server "
    "that sends only its own certificate is the most common reason an iPhone says "
    "'Cannot Verify Server Identity'."
)


@dataclass(frozen=True)
class Snippet:
    server: str
    title: str
    config_file: str  # where it goes
    text: str
    reload_command: str
    notes: tuple[str, ...] = ()


def _dovecot(cert: str, key: str) -> Snippet:
    text = f"""\
# Dovecot 2.3 (conf.d/10-ssl.conf). The '<' makes Dovecot read the file.
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
ssl_prefer_server_ciphers = yes

# Dovecot 2.4 renamed the two file settings:
#   ssl_server_cert_file = {cert}
#   ssl_server_key_file = {key}
#   ssl_min_protocol = TLSv1.2
"""
    return Snippet(
        "dovecot",
        "Dovecot (IMAP 993/143, POP3 995/110)",
        "/etc/dovecot/conf.d/10-ssl.conf",
        text,
        "doveconf -n >/dev/null && doveadm reload",
        (
            "ssl = required refuses plaintext logins on 143/110 before STARTTLS; use "
            "'ssl = yes' if some old client still needs them.",
        ),
    )


def _postfix(cert: str, key: str) -> Snippet:
    text = f"""\
# Postfix >= 3.4 (main.cf). The key comes first, then the full chain.
smtpd_tls_chain_files = {key}, {cert}
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
# TLS 1.2 as the floor (Postfix >= 3.6 syntax; older: !SSLv2, !SSLv3, !TLSv1, !TLSv1.1)
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2

# Postfix < 3.4 instead of smtpd_tls_chain_files:
#   smtpd_tls_cert_file = {cert}
#   smtpd_tls_key_file = {key}

# master.cf: submission (587, STARTTLS required) and submissions (465, implicit TLS)
#   submission inet n - y - - smtpd
#     -o smtpd_tls_security_level=encrypt
#     -o smtpd_sasl_auth_enable=yes
#   submissions inet n - y - - smtpd
#     -o smtpd_tls_wrappermode=yes
#     -o smtpd_sasl_auth_enable=yes
"""
    return Snippet(
        "postfix",
        "Postfix (SMTP 25, submission 587, submissions 465)",
        "/etc/postfix/main.cf and /etc/postfix/master.cf",
        text,
        "postfix check && postfix reload",
        (
            "On port 25 (mail from other servers) a TLS 1.2 floor makes very old senders fall "
            "back to plaintext; if that matters, set the floor with -o options on the "
            "submission services in master.cf only.",
        ),
    )


def _exim(cert: str, key: str) -> Snippet:
    text = f"""\
# Exim 4 (main configuration section; Debian: /etc/exim4/conf.d/main/03_exim4-config_tlsoptions)
tls_advertise_hosts = *
tls_certificate = {cert}
tls_privatekey = {key}
daemon_smtp_ports = 25 : 465 : 587
tls_on_connect_ports = 465
# TLS 1.2 as the floor. Exim built with OpenSSL:
openssl_options = +no_sslv2 +no_sslv3 +no_tlsv1 +no_tlsv1_1
# Exim built with GnuTLS (Debian's exim4-daemon-light) instead:
#   tls_require_ciphers = NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2
"""
    return Snippet(
        "exim",
        "Exim (SMTP 25, submission 587, submissions 465)",
        "the main section of the Exim configuration",
        text,
        "exim -bV >/dev/null && systemctl restart exim4",
        ("'exim -bV' shows whether Exim was built with OpenSSL or GnuTLS.",),
    )


_BUILDERS = {"dovecot": _dovecot, "postfix": _postfix, "exim": _exim}


def snippet(
    server: str, cert_path: str | os.PathLike[str], key_path: str | os.PathLike[str]
) -> Snippet:
    """The snippet for one server (``dovecot``, ``postfix`` or ``exim``)."""
    try:
        builder = _BUILDERS[server]
    except KeyError:
        raise UsageError(f"unknown server {server!r}; choose from {', '.join(SERVERS)}") from None
    return builder(_absolute(cert_path), _absolute(key_path))


def snippets(
    servers: Sequence[str], cert_path: str | os.PathLike[str], key_path: str | os.PathLike[str]
) -> tuple[Snippet, ...]:
    chosen = SERVERS if not servers or "all" in servers else tuple(servers)
    return tuple(snippet(s, cert_path, key_path) for s in chosen)


def _absolute(path: str | os.PathLike[str]) -> str:
    text = os.fspath(path)
    if not text or "\n" in text or "\x00" in text:
        raise UsageError(f"invalid path {text!r}")
    if any(c in text for c in " ,#"):
        raise UsageError(
            f"{text!r}: a path with spaces, commas or '#' breaks mail server configuration; "
            "move the files"
        )
    return str(Path(text).absolute())


# --------------------------------------------------------------------------- file checks


@dataclass(frozen=True)
class DeploymentCheck:
    """What the certificate and key files hold, and what is wrong with them."""

    certificates: int
    subjects: tuple[str, ...]
    problems: tuple[str, ...]  # would break iPhones: fix before deploying
    notes: tuple[str, ...] = ()  # worth knowing
    #: The iPhone's verdict on the whole chain, when a system store was given.
    analysis: Analysis | None = None

    @property
    def ok(self) -> bool:
        """No deployment problem in the files (the iPhone's verdict aside: :attr:`trusted`)."""
        return not self.problems

    @property
    def trusted(self) -> bool:
        """The iPhone trusts the chain (True when it was not judged: no system store)."""
        from mailtls.model import Verdict

        return self.analysis is None or self.analysis.verdict is Verdict.TRUSTED


def inspect_deployment(
    cert_path: str | os.PathLike[str],
    key_path: str | os.PathLike[str] | None = None,
    *,
    roots: Sequence[bytes] = (),
    system: TrustStore | None = None,
    user: TrustStore | None = None,
    at: datetime | None = None,
) -> DeploymentCheck:
    """Check a chain file (and key) before it is deployed: leaf without intermediate,
    wrong order, key that does not belong to the certificate.

    ``roots`` (DER) are roots the phones trust; a leaf issued directly by one of them needs
    no intermediate (a private CA made by ``mailtls ca``). Given the iPhone's ``system``
    store (and the roots installed on it, ``user``), the whole chain is also judged as an
    iPhone does at ``at`` (default now), with no host name: :attr:`DeploymentCheck.analysis`."""
    cert_file = Path(cert_path)
    try:
        certs = x509.load_pem_x509_certificates(cert_file.read_bytes())
    except FileNotFoundError:
        raise InputFileError(f"{cert_file}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{cert_file}: is a directory, not a certificate file") from None
    except ValueError:
        raise InputFileError(
            f"{cert_file}: no PEM certificates in it (mail servers need PEM)"
        ) from None
    problems: list[str] = []
    notes: list[str] = []
    leaf = certs[0]
    root_certs = [x509.load_der_x509_certificate(der) for der in roots]
    if len(certs) == 1 and not _issued_by(leaf, leaf):
        if any(_issued_by(leaf, root) for root in root_certs):
            notes.append(
                "the certificate was issued directly by the given root; no intermediate needed"
            )
        else:
            problems.append(
                f"{cert_file} holds only the server certificate, without the intermediate that "
                f"issued it ({leaf.issuer.rfc4514_string()}). {FULL_CHAIN_WARNING} (If your "
                "private root issued it directly, pass the root with --ca-file.)"
            )
    for index, (child, parent) in enumerate(itertools.pairwise(certs)):
        if not _issued_by(child, parent):
            problems.append(
                f"{cert_file}: certificate {index + 2} ({parent.subject.rfc4514_string()}) did "
                f"not issue certificate {index + 1}; put the server certificate first, then "
                "each issuer in order"
            )
    constraints = _basic_constraints(leaf)
    if constraints is not None and constraints.ca and len(certs) > 1:
        problems.append(
            f"{cert_file}: the first certificate is a CA; the server certificate must come first"
        )
    if len(certs) > 1 and _issued_by(certs[-1], certs[-1]):
        notes.append(
            "the chain ends with the self-signed root; harmless, iPhones use their own copy"
        )
    if key_path is not None:
        key_file = Path(key_path)
        try:
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        except FileNotFoundError:
            raise InputFileError(f"{key_file}: no such file") from None
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise InputFileError(
                f"{key_file}: not an unencrypted PEM private key (mail servers need one)"
            ) from None
        form = serialization.PublicFormat.SubjectPublicKeyInfo
        enc = serialization.Encoding.DER
        if key.public_key().public_bytes(enc, form) != leaf.public_key().public_bytes(enc, form):
            problems.append(f"{key_file} is not the key of the first certificate in {cert_file}")
        mode = key_file.stat().st_mode & 0o077
        if mode:
            notes.append(f"{key_file} is readable by others than its owner; chmod 600 it")
    analysis = None
    if system is not None:
        from datetime import UTC

        from mailtls.analysis import analyze_chain

        chain_ders = [c.public_bytes(serialization.Encoding.DER) for c in certs]
        moment = at if at is not None else datetime.now(UTC)
        analysis = analyze_chain(chain_ders, None, at=moment, system=system, user=user)
    return DeploymentCheck(
        len(certs),
        tuple(c.subject.rfc4514_string() for c in certs),
        tuple(problems),
        tuple(notes),
        analysis,
    )


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    if child.issuer != parent.subject:
        return False
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except (x509.ExtensionNotFound, ValueError):
        return None


def render_snippets(items: Sequence[Snippet]) -> str:
    lines = [FULL_CHAIN_WARNING, ""]
    for item in items:
        lines += [f"## {item.title}", f"# in {item.config_file}", "", item.text.rstrip(), ""]
        lines += [f"# then: {item.reload_command}"]
        lines += [f"# note: {note}" for note in item.notes]
        lines.append("")
    return "\n".join(lines)
