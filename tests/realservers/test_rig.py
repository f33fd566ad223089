"""The rig itself: real Dovecot and Postfix serve the chain they were given, weak ones too.

Checked with a plain stdlib ssl client (tests.realservers.common.handshake), independent
of mailtls's probe, so a probe bug cannot hide a rig bug and the other way round.
"""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailtls import pki
from tests.realservers.common import (
    RigError,
    handshake,
    pem_chain_to_der,
    port_is_free,
    reserve_ports,
    session_processes,
)
from tests.realservers.dovecot import DovecotInstance
from tests.realservers.material import Material, private_chain
from tests.realservers.plugin import Rig
from tests.realservers.postfix import PostfixInstance

pytestmark = pytest.mark.real_servers


@pytest.fixture(scope="module")
def weak() -> Material:
    """RSA-1024 leaf signed with SHA-1: OpenSSL's default security level refuses to load it."""
    return private_chain(leaf_key=("rsa", 1024), leaf_hash="sha1", issuer_key_type=("rsa", 2048))


@pytest.fixture(scope="module")
def good() -> Material:
    return private_chain()


def test_pem_chain_to_der_keeps_order_and_survives_unpadded_base64(good: Material) -> None:
    blocks = pem_chain_to_der(good.chain_pem + good.root_pem)
    assert len(blocks) == 3
    assert blocks[-1] == pem_chain_to_der(good.root_pem)[0]
    # A DER length that is a multiple of 3 gives base64 without "=" padding.
    der = bytes(range(48))
    pem = (
        b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    )
    assert pem_chain_to_der(pem + good.root_pem)[0] == der


@pytest.mark.parametrize("kind", ["dovecot", "postfix"])
def test_serves_weak_chain_byte_for_byte_on_every_endpoint(
    rig: Rig, weak: Material, kind: str
) -> None:
    server = (
        rig.dovecot(weak.chain_pem, weak.key_pem)
        if kind == "dovecot"
        else rig.postfix(weak.chain_pem, weak.key_pem)
    )
    expected = pem_chain_to_der(weak.chain_pem)
    assert len(expected) == 2
    for scheme in server.SCHEMES:
        seen = handshake(scheme, server.ports[scheme], address=server.address)
        assert seen.chain == expected, scheme
        # Old TLS is servable with weak_ok (the default): iOS findings about TLS 1.0 need it.
        old = handshake(scheme, server.ports[scheme], address=server.address, tls_max="TLSv1")
        assert old.tls_version == "TLSv1", scheme


def test_instances_side_by_side_each_present_their_own_chain(
    rig: Rig, good: Material, weak: Material
) -> None:
    first = rig.both(good.chain_pem, good.key_pem)
    second = rig.both(weak.chain_pem, weak.key_pem)
    for servers, material in ((first, good), (second, weak)):
        for server in servers:
            for scheme in server.SCHEMES:
                seen = handshake(scheme, server.ports[scheme], address=server.address)
                assert seen.chain == pem_chain_to_der(material.chain_pem), (server.name, scheme)
    ports = [p for servers in (first, second) for s in servers for p in s.ports.values()]
    assert len(set(ports)) == len(ports) == 14


def test_same_configuration_is_started_once(rig: Rig, good: Material) -> None:
    assert rig.dovecot(good.chain_pem, good.key_pem) is rig.dovecot(good.chain_pem, good.key_pem)
    assert rig.postfix(good.chain_pem, good.key_pem) is not rig.postfix(
        good.chain_pem, good.key_pem, auth_before_tls=True
    )


def test_starttls_capabilities_like_a_remote_client_sees_them(rig: Rig, good: Material) -> None:
    dovecot, postfix = rig.both(good.chain_pem, good.key_pem)
    imap = " ".join(handshake("imap", dovecot.ports["imap"], address=dovecot.address).before_tls)
    assert "STARTTLS" in imap and "LOGINDISABLED" in imap and "AUTH=" not in imap
    pop3 = handshake("pop3", dovecot.ports["pop3"], address=dovecot.address).before_tls
    assert "STLS" in pop3 and "USER" not in pop3
    for scheme in ("smtp", "submission"):
        ehlo = handshake(scheme, postfix.ports[scheme], address=postfix.address).before_tls
        assert "250-STARTTLS" in ehlo, scheme
        assert not any(line[4:].startswith("AUTH") for line in ehlo), scheme


def test_auth_before_tls_when_configured(rig: Rig, good: Material) -> None:
    dovecot = rig.dovecot(good.chain_pem, good.key_pem, plaintext_auth=True)
    imap = " ".join(handshake("imap", dovecot.ports["imap"], address=dovecot.address).before_tls)
    assert "AUTH=PLAIN" in imap and "LOGINDISABLED" not in imap
    postfix = rig.postfix(good.chain_pem, good.key_pem, auth_before_tls=True)
    submission = handshake("submission", postfix.ports["submission"], address=postfix.address)
    assert any(line[4:].startswith("AUTH") and "PLAIN" in line for line in submission.before_tls)
    port25 = handshake("smtp", postfix.ports["smtp"], address=postfix.address)
    assert not any(line[4:].startswith("AUTH") for line in port25.before_tls)


@pytest.mark.parametrize("kind", ["dovecot", "postfix"])
def test_tls_max_caps_the_version(rig: Rig, good: Material, kind: str) -> None:
    options = {"tls_max": "TLSv1.2"}
    server = (
        rig.dovecot(good.chain_pem, good.key_pem, **options)
        if kind == "dovecot"
        else rig.postfix(good.chain_pem, good.key_pem, **options)
    )
    scheme = server.SCHEMES[1]  # an implicit-TLS endpoint
    assert handshake(scheme, server.ports[scheme], address=server.address).tls_version == "TLSv1.2"
    with pytest.raises(ssl.SSLError):
        handshake(scheme, server.ports[scheme], address=server.address, tls_min="TLSv1.3")


@pytest.mark.parametrize("kind", ["dovecot", "postfix"])
def test_without_weak_ok_old_tls_is_refused(rig: Rig, good: Material, kind: str) -> None:
    server = (
        rig.dovecot(good.chain_pem, good.key_pem, weak_ok=False)
        if kind == "dovecot"
        else rig.postfix(good.chain_pem, good.key_pem, weak_ok=False)
    )
    scheme = server.SCHEMES[1]
    assert handshake(scheme, server.ports[scheme], address=server.address).tls_version == "TLSv1.3"
    with pytest.raises((ssl.SSLError, ConnectionError)):
        handshake(scheme, server.ports[scheme], address=server.address, tls_max="TLSv1.1")


def test_dovecot_without_weak_ok_refuses_a_weak_certificate_and_says_why(
    rig: Rig, weak: Material
) -> None:
    # The negative twin of the weak-chain test: proves weak_ok is what makes it load.
    began = time.monotonic()
    with pytest.raises(RigError, match=r"ee key too small|md too weak"):
        DovecotInstance(weak.chain_pem, weak.key_pem, weak_ok=False).start()
    assert time.monotonic() - began < 5, "the log line must make it fail fast"


def test_postfix_with_a_key_for_another_certificate_fails_fast_with_the_log_line(
    rig: Rig, good: Material
) -> None:
    other_key = pki.key_to_pem(pki.generate_key("ec", 256))
    began = time.monotonic()
    with pytest.raises(RigError, match=r"mismatch|disabling TLS support"):
        PostfixInstance(good.chain_pem, other_key).start()
    assert time.monotonic() - began < 5


def test_refuses_ports_already_in_use(rig: Rig, good: Material) -> None:
    # Postfix would start anyway (SO_REUSEPORT) and share connections with the other server.
    running = rig.postfix(good.chain_pem, good.key_pem)
    clash = PostfixInstance(good.chain_pem, good.key_pem, ports=dict(running.ports))
    with pytest.raises(RigError, match="already in use"):
        clash.start()


@pytest.mark.parametrize("cls", [DovecotInstance, PostfixInstance])
def test_stop_is_fast_frees_the_ports_and_a_restart_works(
    rig: Rig, good: Material, cls: type[DovecotInstance] | type[PostfixInstance]
) -> None:
    server = cls(good.chain_pem, good.key_pem)
    try:
        server.start()
        assert server.start_seconds is not None and server.start_seconds < 5
        pid = server._process.pid if server._process else 0
        server.stop()
        assert server.stop_seconds is not None and server.stop_seconds < 0.5
        assert all(state == "Z" for _, state in session_processes(pid))
        assert all(port_is_free(port, server.address) for port in server.ports.values())
        # An earlier run's failure in the (appended) log must not fail this run.
        with server.log_path.open("a") as log:
            log.write("Nov 28 00:00:00 Fatal: fatal: an earlier run failed\n")
        server.start()  # same directory, same ports: stale pid files must not matter
        seen = handshake(server.SCHEMES[0], server.ports[server.SCHEMES[0]], address=server.address)
        assert seen.leaf == server.leaf_der
    finally:
        server.cleanup()
    assert server.directory is None


def test_reserved_ports_are_distinct_and_free() -> None:
    ports = reserve_ports(20)
    assert len(set(ports)) == 20
    assert all(port_is_free(p) for p in ports)
    assert not set(ports) & set(reserve_ports(20))


def test_rig_stops_the_least_recently_used_server_beyond_its_limit(
    rig: Rig, good: Material
) -> None:
    small = Rig(max_running=2)
    try:
        first = small.dovecot(good.chain_pem, good.key_pem)
        second = small.postfix(good.chain_pem, good.key_pem)
        assert small.dovecot(good.chain_pem, good.key_pem) is first  # now the most recent
        third = small.dovecot(good.chain_pem, good.key_pem, plaintext_auth=True)
        assert small.running == [first, third]
        assert not second.running and second.directory is None
        again = small.postfix(good.chain_pem, good.key_pem)
        assert again is not second and again.running
        assert handshake("smtp", again.ports["smtp"]).leaf == again.leaf_der
    finally:
        small.close()
    assert not any(server.running for server in (first, third, again))


def test_command_line_serves_until_stdin_closes_and_cleans_up(rig: Rig) -> None:
    root = Path(__file__).resolve().parents[2]
    with subprocess.Popen(
        [sys.executable, "-m", "tests.realservers", "--sample", "--modern"],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        info = json.loads(process.stdout.readline())
        assert len(info["urls"]) == 7
        seen = handshake("imaps", info["ports"]["imaps"], address=info["address"])
        assert seen.tls_version == "TLSv1.3" and len(seen.chain) == 2
        process.stdin.close()
        assert process.wait(timeout=10) == 0
    assert not any(Path(d).exists() for d in info["directories"])
    assert not Path(info["ca_file"]).exists()
