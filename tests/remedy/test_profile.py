"""mailtls.remedy.profile: the .mobileconfig parsed back, unsuitable roots refused."""

from __future__ import annotations

import plistlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from mailtls import pki
from mailtls.errors import ArtefactError, UsageError
from mailtls.model import Protocol
from mailtls.remedy.profile import (
    MailAccount,
    MailServer,
    build_profile,
    build_profile_with_info,
    check_root_installable,
    parse_server,
)

from .helpers import NOW

ACCOUNT = MailAccount(
    incoming_protocol=Protocol.IMAP,
    incoming=MailServer("mail.example.com", 993),
    outgoing=MailServer("smtp.example.com", 587),
    user_name="alice",
    email_address="alice@example.com",
)


def _parse(data: bytes) -> dict[str, Any]:
    result = plistlib.loads(data)
    assert isinstance(result, dict)
    return result


def test_root_payload_carries_the_certificate_bytes(make_root: Callable[..., bytes]) -> None:
    root = make_root()
    profile = _parse(build_profile(root, display_name="Example Mail", at=NOW))
    assert profile["PayloadType"] == "Configuration"
    assert profile["PayloadVersion"] == 1
    assert profile["PayloadDisplayName"] == "Example Mail"
    [payload] = profile["PayloadContent"]
    assert payload["PayloadType"] == "com.apple.security.root"
    assert payload["PayloadContent"] == root
    assert payload["PayloadDisplayName"] == "Example Mail Root"
    assert payload["PayloadIdentifier"].startswith("org.mailtls.root.")


def test_same_input_gives_the_same_bytes_and_other_roots_other_ids(
    make_root: Callable[..., bytes], rsa_key: pki.PrivateKey
) -> None:
    root = make_root()
    first = build_profile(root, display_name="Example Mail", account=ACCOUNT, at=NOW)
    second = build_profile(root, display_name="Example Mail", account=ACCOUNT, at=NOW)
    assert first == second
    other = _parse(build_profile(make_root(key=rsa_key), display_name="Example Mail", at=NOW))
    mine = _parse(first)
    assert other["PayloadUUID"] != mine["PayloadUUID"]
    assert other["PayloadIdentifier"] != mine["PayloadIdentifier"]
    uuids = [mine["PayloadUUID"]] + [p["PayloadUUID"] for p in mine["PayloadContent"]]
    assert len(set(uuids)) == 3


def test_account_payload_has_hosts_ports_ssl_and_no_password(
    make_root: Callable[..., bytes],
) -> None:
    data, info = build_profile_with_info(
        make_root(),
        display_name="Example Mail",
        organization="Example Org",
        account=ACCOUNT,
        at=NOW,
    )
    profile = _parse(data)
    assert info.payload_types == ("com.apple.security.root", "com.apple.mail.managed")
    mail = profile["PayloadContent"][1]
    assert mail["PayloadType"] == "com.apple.mail.managed"
    assert mail["EmailAccountType"] == "EmailTypeIMAP"
    assert (mail["IncomingMailServerHostName"], mail["IncomingMailServerPortNumber"]) == (
        "mail.example.com",
        993,
    )
    assert (mail["OutgoingMailServerHostName"], mail["OutgoingMailServerPortNumber"]) == (
        "smtp.example.com",
        587,
    )
    assert mail["IncomingMailServerUseSSL"] is True
    assert mail["OutgoingMailServerUseSSL"] is True
    assert mail["IncomingMailServerUsername"] == "alice"
    assert mail["EmailAddress"] == "alice@example.com"
    assert not [
        k for k in mail if "Password" in k and k != "OutgoingPasswordSameAsIncomingPassword"
    ]
    assert profile["PayloadOrganization"] == "Example Org"


def test_pop3_account_type(make_root: Callable[..., bytes]) -> None:
    account = MailAccount(
        Protocol.POP3, MailServer("pop.example.com", 995), MailServer("smtp.example.com", 465)
    )
    mail = _parse(build_profile(make_root(), display_name="X", account=account, at=NOW))[
        "PayloadContent"
    ][1]
    assert mail["EmailAccountType"] == "EmailTypePOP"


def test_a_good_root_has_no_reasons(make_root: Callable[..., bytes]) -> None:
    assert check_root_installable(make_root(), at=NOW) == []


def _leaf_under(make_root: Callable[..., bytes], ec_key: pki.PrivateKey) -> bytes:
    from cryptography import x509

    ca = x509.load_der_x509_certificate(make_root())
    leaf = pki.issue(
        pki.leaf_spec("mail.example.com"),
        pki.generate_key("ec", 256),
        issuer_cert=ca,
        issuer_key=ec_key,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=90),
    )
    return pki.cert_to_der(leaf)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("not_ca", "not a CA certificate"),
        ("no_bc", "not a CA certificate"),
        ("no_cn", "no common name"),
        ("sha1", "signed with sha1"),
        ("rsa1024", "RSA-1024"),
        ("leaf", "not self-signed"),
        ("expired", "expired on"),
        ("no_keycertsign", "lacks keyCertSign"),
        ("garbage", "not a certificate"),
    ],
)
def test_unsuitable_roots_are_refused_with_the_reason(
    make_root: Callable[..., bytes], ec_key: pki.PrivateKey, case: str, reason: str
) -> None:
    der: bytes
    if case == "not_ca":
        der = make_root(is_ca=False)
    elif case == "no_bc":
        der = make_root(is_ca=None)
    elif case == "no_cn":
        der = make_root(subject_cn=None)
    elif case == "sha1":
        der = make_root(key=pki.generate_key("rsa", 2048), hash="sha1")
    elif case == "rsa1024":
        der = make_root(key=pki.generate_key("rsa", 1024))
    elif case == "leaf":
        der = _leaf_under(make_root, ec_key)
    elif case == "expired":
        der = make_root(not_after=NOW - timedelta(days=1))
    elif case == "no_keycertsign":
        der = make_root(key_usage=("crl_sign",))
    else:
        der = b"not a certificate"
    reasons = check_root_installable(der, at=NOW)
    assert any(reason in r for r in reasons), reasons
    with pytest.raises(ArtefactError, match=reason):
        build_profile(der, display_name="X", at=NOW)


def test_the_expiry_reason_depends_on_the_time_given(make_root: Callable[..., bytes]) -> None:
    der = make_root(not_after=NOW + timedelta(days=1))
    assert check_root_installable(der, at=NOW) == []
    assert check_root_installable(der, at=NOW + timedelta(days=2))


@pytest.mark.parametrize(
    ("text", "protocol", "expected"),
    [
        ("mail.example.com", "imap", MailServer("mail.example.com", 993)),
        ("mail.example.com:143", "imap", MailServer("mail.example.com", 143)),
        ("smtp.example.com", "smtp", MailServer("smtp.example.com", 587)),
        ("[2001:db8::1]:465", "smtp", MailServer("2001:db8::1", 465)),
        ("pop.example.com", "pop3", MailServer("pop.example.com", 995)),
    ],
)
def test_parse_server(text: str, protocol: str, expected: MailServer) -> None:
    assert parse_server(text, protocol) == expected


@pytest.mark.parametrize(
    "text", ["mail.example.com:0", "mail.example.com:x", "*.example.com", "[::1"]
)
def test_parse_server_refuses(text: str) -> None:
    with pytest.raises(UsageError):
        parse_server(text, "imap")


def test_bad_identifier_prefix_and_names_are_refused(make_root: Callable[..., bytes]) -> None:
    with pytest.raises(UsageError, match="reverse-DNS"):
        build_profile(make_root(), display_name="X", identifier_prefix="bad prefix", at=NOW)
    with pytest.raises(UsageError, match="must not be empty"):
        build_profile(make_root(), display_name=" ", at=NOW)
