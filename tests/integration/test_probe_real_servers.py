"""Issue 2 acceptance: mailtls's probe against real Dovecot and Postfix.

For each of the 7 endpoint kinds the chain the probe captures is byte-for-byte the chain
the server was configured with (in the configured order, even a scrambled one), and the
STARTTLS variants record what the server advertised before TLS.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mailtls.lab.scenarios import build_scenario
from mailtls.model import Endpoint, ProbeResult, Status
from mailtls.probe import ProbeOptions, probe_sync
from tests.realservers.common import RealServer, pem_chain_to_der
from tests.realservers.material import Material, private_chain
from tests.realservers.plugin import Rig

pytestmark = pytest.mark.real_servers

HOST = "mail.example.test"
ALL_SCHEMES = ("imaps", "imap", "pop3s", "pop3", "submissions", "submission", "smtp")


def probe_servers(*servers: RealServer, check_versions: bool = False) -> dict[str, ProbeResult]:
    endpoints = [
        Endpoint(scheme, HOST, server.ports[scheme], server.address)
        for server in servers
        for scheme in server.SCHEMES
    ]
    results = probe_sync(endpoints, ProbeOptions(check_versions=check_versions))
    by_scheme = {result.endpoint.scheme: result for result in results}
    assert len(by_scheme) == len(endpoints)
    return by_scheme


@pytest.fixture(scope="module")
def material() -> Material:
    return private_chain()


def test_every_endpoint_kind_captures_the_configured_chain_byte_for_byte(rig: Rig) -> None:
    # The scrambled order (leaf, root, intermediate) proves the order is kept as served.
    scenario = build_scenario("wrong-order", now=datetime.now(UTC))
    servers = rig.both(scenario.chain_pem, scenario.key_pem)
    expected = pem_chain_to_der(scenario.chain_pem)
    assert len(expected) == 3
    results = probe_servers(*servers)
    assert sorted(results) == sorted(ALL_SCHEMES)
    for scheme, result in results.items():
        assert result.status is Status.OK, (scheme, result.error)
        assert result.chain == expected, scheme
        assert result.tls_version in ("TLSv1.2", "TLSv1.3"), scheme


def test_a_weak_chain_is_captured_too(rig: Rig) -> None:
    # RSA-1024 leaf signed with SHA-1: the rig serves it (weak_ok), the probe must see it.
    weak = private_chain(leaf_key=("rsa", 1024), leaf_hash="sha1", issuer_key_type=("rsa", 2048))
    results = probe_servers(*rig.both(weak.chain_pem, weak.key_pem))
    for scheme, result in results.items():
        assert result.status is Status.OK, (scheme, result.error)
        assert result.chain == pem_chain_to_der(weak.chain_pem), scheme


def test_starttls_variants_record_what_was_advertised_before_tls(
    rig: Rig, material: Material
) -> None:
    results = probe_servers(*rig.both(material.chain_pem, material.key_pem))
    for scheme in ("imap", "pop3", "submission", "smtp"):
        capabilities = results[scheme].capabilities
        assert capabilities is not None, scheme
        assert capabilities.starttls_offered is True, scheme
        assert capabilities.auth_before_tls == (), scheme
        assert capabilities.plaintext_login_offered is False, scheme
    imap = results["imap"].capabilities
    assert imap is not None and imap.login_disabled is True
    assert "Dovecot" in imap.greeting
    for scheme in ("smtp", "submission"):
        smtp = results[scheme].capabilities
        assert smtp is not None and HOST in smtp.greeting, scheme


def test_auth_offered_before_tls_is_recorded(rig: Rig, material: Material) -> None:
    # The negative twin: the same servers configured to offer AUTH in plaintext.
    dovecot = rig.dovecot(material.chain_pem, material.key_pem, plaintext_auth=True)
    postfix = rig.postfix(material.chain_pem, material.key_pem, auth_before_tls=True)
    results = probe_servers(dovecot, postfix)
    imap = results["imap"].capabilities
    assert imap is not None
    assert imap.login_disabled is False
    assert "PLAIN" in imap.auth_before_tls
    pop3 = results["pop3"].capabilities
    assert pop3 is not None and "PLAIN" in pop3.auth_before_tls
    submission = results["submission"].capabilities
    assert submission is not None and "PLAIN" in submission.auth_before_tls
    port25 = results["smtp"].capabilities
    assert port25 is not None and port25.auth_before_tls == ()  # never AUTH on port 25


@pytest.mark.parametrize(
    ("options", "accepted"),
    [
        ({"tls_min": "TLSv1", "tls_max": "TLSv1.2"}, (True, True, True, False)),
        ({"weak_ok": False}, (False, False, True, True)),
    ],
    ids=["tls1.0-to-1.2", "modern"],
)
def test_accepted_tls_versions_match_the_server_configuration(
    rig: Rig, material: Material, options: dict[str, object], accepted: tuple[bool, ...]
) -> None:
    results = probe_servers(
        *rig.both(material.chain_pem, material.key_pem, **options), check_versions=True
    )
    expected = dict(zip(("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"), accepted, strict=True))
    for scheme, result in results.items():
        assert result.status is Status.OK, (scheme, result.error)
        assert result.accepted_tls_versions == expected, scheme
