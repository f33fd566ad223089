"""TLS capture: the chain reader, the memory-BIO handshake, version checks, oversized chains."""

from __future__ import annotations

import contextlib
import ssl
from pathlib import Path

import pytest
from cryptography import x509

from mailtls import pki
from mailtls.model import Endpoint, Status
from mailtls.probe import ProbeOptions, Timeouts, probe_sync
from mailtls.probe.tls import HandshakeError, TlsHandshake, client_context, unverified_chain
from tests.hostile import HostileServers, Spec, _pem
from tests.probe.certs import NOT_AFTER, NOT_BEFORE, Chain

OPTIONS = ProbeOptions(timeouts=Timeouts(1.0, 1.0, 1.0, 2.0), deadline=4.0, check_versions=True)


def server_object(
    chain: Chain, tmp_path: Path, sni_seen: list[str | None] | None = None
) -> tuple[ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO]:
    cert_file, key_file = tmp_path / "chain.pem", tmp_path / "key.pem"
    cert_file.write_bytes(b"".join(_pem(c) for c in chain.certs))
    key_file.write_bytes(pki.key_to_pem(chain.key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    if sni_seen is not None:
        context.sni_callback = lambda _obj, name, _ctx: sni_seen.append(name)  # type: ignore[assignment,func-returns-value]
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    return context.wrap_bio(incoming, outgoing, server_side=True), incoming, outgoing


def pump(
    client: TlsHandshake, server: ssl.SSLObject, s_in: ssl.MemoryBIO, s_out: ssl.MemoryBIO
) -> object:
    """Run both sides of a handshake in memory, no sockets."""
    to_server, done = client.start()
    for _ in range(20):
        if done is not None:
            return done
        s_in.write(to_server)
        with contextlib.suppress(ssl.SSLWantReadError):
            server.do_handshake()
        to_server, done = client.receive(s_out.read())
    return done


@pytest.mark.parametrize("server_name", ["mail.example.test", None])
def test_handshake_in_memory_captures_the_chain_as_presented(
    chain: Chain, tmp_path: Path, server_name: str | None
) -> None:
    sni_seen: list[str | None] = []
    server, s_in, s_out = server_object(chain, tmp_path, sni_seen)
    client = TlsHandshake(server_name)
    done = pump(client, server, s_in, s_out)
    assert done is not None
    assert done.chain == chain.certs  # type: ignore[attr-defined]
    assert unverified_chain(client.ssl_object) == chain.certs
    assert sni_seen == [server_name]  # SNI is the host name, absent for IP literals


def test_unverified_chain_uses_the_public_method_when_python_has_it(chain: Chain) -> None:
    class Python313Style:
        def get_unverified_chain(self) -> list[bytes]:
            return list(chain.certs)

    assert unverified_chain(Python313Style()) == chain.certs  # type: ignore[arg-type]


def test_unverified_chain_of_an_object_before_the_handshake_is_empty() -> None:
    context = client_context()
    assert context is not None
    unfinished = context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO())
    assert unverified_chain(unfinished) == ()


def test_capture_context_does_not_verify_and_allows_old_versions() -> None:
    context = client_context()
    assert context is not None
    assert context.verify_mode is ssl.CERT_NONE and context.check_hostname is False
    assert context.minimum_version <= ssl.TLSVersion.TLSv1_2
    pinned = client_context("TLSv1.2")
    assert pinned is not None and pinned.maximum_version == ssl.TLSVersion.TLSv1_2


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (b"* OK IMAP4rev1 ready\r\n", "which is not TLS"),
        (b"\x15\x03\x03\x00\x02\x02\x46", "alert 'protocol version'"),
        (b"\x15\x03\x03\x00\x02\x02\x28", "alert 'handshake failure'"),
    ],
)
def test_handshake_failures_are_classified(reply: bytes, words: str) -> None:
    client = TlsHandshake("mail.example.test")
    client.start()
    with pytest.raises(HandshakeError) as caught:
        client.receive(reply)
    assert words in str(caught.value)


def test_close_before_any_answer_says_after_clienthello() -> None:
    client = TlsHandshake(None)
    hello, _ = client.start()
    assert hello[:1] == b"\x16"  # a TLS handshake record
    with pytest.raises(HandshakeError) as caught:
        client.closed()
    assert "closed the connection after our ClientHello" in str(caught.value)
    assert caught.value.tls_refused


def test_versions_of_a_server_that_stops_at_tls_1_2(servers: HostileServers, chain: Chain) -> None:
    spec = Spec(
        "imap",
        "implicit",
        chain.certs,
        chain.key,
        minimum_version="TLSv1",
        maximum_version="TLSv1.2",
    )
    port = servers.start(spec)
    [result] = probe_sync([Endpoint("imaps", "mail.example.test", port, "127.0.0.1")], OPTIONS)
    assert result.status is Status.OK, result.error
    assert result.tls_version == "TLSv1.2"
    assert result.accepted_tls_versions == {
        "TLSv1": True,
        "TLSv1.1": True,
        "TLSv1.2": True,
        "TLSv1.3": False,
    }


def test_versions_of_a_tls_1_3_only_server_over_starttls(
    servers: HostileServers, chain: Chain
) -> None:
    spec = Spec("smtp", "starttls", chain.certs, chain.key, minimum_version="TLSv1.3")
    port = servers.start(spec)
    [result] = probe_sync([Endpoint("submission", "mail.example.test", port, "127.0.0.1")], OPTIONS)
    assert result.status is Status.OK, result.error
    assert result.accepted_tls_versions == {
        "TLSv1": False,
        "TLSv1.1": False,
        "TLSv1.2": False,
        "TLSv1.3": True,
    }
    assert servers.connections == 3  # capture, TLS 1.2 pinned, TLS 1.0-1.1 in one hello


def test_versions_of_a_server_from_tls_1_1_to_1_2(servers: HostileServers, chain: Chain) -> None:
    """The shared TLS 1.0-1.1 hello gets 1.1; a pinned TLS 1.0 try then finds it refused."""
    spec = Spec(
        "imap",
        "implicit",
        chain.certs,
        chain.key,
        minimum_version="TLSv1.1",
        maximum_version="TLSv1.2",
    )
    port = servers.start(spec)
    [result] = probe_sync([Endpoint("imaps", "mail.example.test", port, "127.0.0.1")], OPTIONS)
    assert result.status is Status.OK, result.error
    assert result.accepted_tls_versions == {
        "TLSv1": False,
        "TLSv1.1": True,
        "TLSv1.2": True,
        "TLSv1.3": False,
    }
    assert servers.connections == 3  # capture, TLS 1.0-1.1 hello, TLS 1.0 pinned


def test_check_versions_false_makes_one_connection(servers: HostileServers, chain: Chain) -> None:
    port = servers.start(Spec("pop3", "starttls", chain.certs, chain.key))
    options = ProbeOptions(
        timeouts=OPTIONS.timeouts, deadline=OPTIONS.deadline, check_versions=False
    )
    [result] = probe_sync([Endpoint("pop3", "mail.example.test", port, "127.0.0.1")], options)
    assert result.status is Status.OK
    assert result.accepted_tls_versions == {}
    assert servers.connections == 1


def _long_chain(key: pki.PrivateKey, count: int) -> list[bytes]:
    certs = []
    issuer = pki.issue(pki.ca_spec("Long Root"), key, not_before=NOT_BEFORE, not_after=NOT_AFTER)
    for index in range(count):
        cert = pki.issue(
            pki.ca_spec(f"Long Intermediate {index}"),
            key,
            issuer_cert=issuer,
            issuer_key=key,
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
        )
        certs.append(pki.cert_to_der(cert))
        issuer = cert
    return certs


def test_a_chain_of_hundreds_of_certificates_is_bounded(
    servers: HostileServers, chain: Chain
) -> None:
    certs = [chain.certs[0], *_long_chain(chain.key, 300)]
    port = servers.start(Spec("imap", "implicit", certs, chain.key))
    good = servers.start(Spec("imap", "implicit", chain.certs, chain.key))
    big, normal = probe_sync(
        [
            Endpoint("imaps", "mail.example.test", port, "127.0.0.1"),
            Endpoint("imaps", "mail.example.test", good, "127.0.0.1"),
        ],
        OPTIONS,
    )
    assert big.status is Status.HANDSHAKE_FAILED, big.error
    assert "100 KiB" in (big.error or "")
    assert normal.status is Status.OK


def test_a_certificate_of_a_megabyte_is_bounded(servers: HostileServers, chain: Chain) -> None:
    filler = x509.UnrecognizedExtension(
        x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x00" * 1_000_000
    )
    spec = pki.leaf_spec("mail.example.test", extra_extensions=[(filler, False)])
    huge = pki.issue(spec, chain.key, not_before=NOT_BEFORE, not_after=NOT_AFTER)
    port = servers.start(Spec("smtp", "implicit", [pki.cert_to_der(huge)], chain.key))
    [result] = probe_sync(
        [Endpoint("submissions", "mail.example.test", port, "127.0.0.1")], OPTIONS
    )
    assert result.status is Status.HANDSHAKE_FAILED, result.error
    assert "certificate message" in (result.error or "")


def test_truncated_certificate_der_is_a_handshake_failure_with_reason(
    servers: HostileServers, chain: Chain
) -> None:
    port = servers.start(Spec("pop3", "implicit", chain.certs, chain.key, "truncated_certificate"))
    [result] = probe_sync([Endpoint("pop3s", "mail.example.test", port, "127.0.0.1")], OPTIONS)
    assert result.status is Status.HANDSHAKE_FAILED, result.error
    assert "malformed or truncated DER" in (result.error or "")


def test_unknown_critical_extension_is_still_captured_byte_for_byte(
    servers: HostileServers, chain: Chain
) -> None:
    odd = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.2"), b"\x05\x00")
    spec = pki.leaf_spec("mail.example.test", extra_extensions=[(odd, True)])
    leaf = pki.cert_to_der(pki.issue(spec, chain.key, not_before=NOT_BEFORE, not_after=NOT_AFTER))
    port = servers.start(Spec("smtp", "starttls", [leaf], chain.key))
    [result] = probe_sync([Endpoint("smtp", "mail.example.test", port, "127.0.0.1")], OPTIONS)
    assert result.status is Status.OK, result.error
    assert result.chain == (leaf,)


def test_version_checks_never_outlive_the_deadline(servers: HostileServers, chain: Chain) -> None:
    import time

    # TLS 1.2 only for the capture; every later connection (the pinned ones) hangs.
    spec = Spec(
        "imap",
        "implicit",
        chain.certs,
        chain.key,
        maximum_version="TLSv1.2",
        later_behaviour="silent",
    )
    port = servers.start(spec)
    options = ProbeOptions(timeouts=Timeouts(1.0, 5.0, 5.0, 5.0), deadline=1.2, check_versions=True)
    started = time.monotonic()
    [result] = probe_sync([Endpoint("imaps", "mail.example.test", port, "127.0.0.1")], options)
    assert time.monotonic() - started < options.deadline + 0.5
    assert result.status is Status.OK and result.chain == chain.certs
    assert result.accepted_tls_versions == {
        "TLSv1": None,
        "TLSv1.1": None,
        "TLSv1.2": True,
        "TLSv1.3": False,
    }


def test_weak_rsa_1024_sha1_certificate_over_tls_1_0_is_captured(servers: HostileServers) -> None:
    weak_key = pki.generate_key("rsa", 1024)
    spec = pki.leaf_spec("mail.example.test", hash="sha1")
    weak = pki.cert_to_der(pki.issue(spec, weak_key, not_before=NOT_BEFORE, not_after=NOT_AFTER))
    port = servers.start(
        Spec("pop3", "starttls", [weak], weak_key, minimum_version="TLSv1", maximum_version="TLSv1")
    )
    [result] = probe_sync([Endpoint("pop3", "mail.example.test", port, "127.0.0.1")], OPTIONS)
    assert result.status is Status.OK, result.error
    assert result.chain == (weak,)
    assert result.tls_version == "TLSv1"
    assert result.accepted_tls_versions == {
        "TLSv1": True,
        "TLSv1.1": False,
        "TLSv1.2": False,
        "TLSv1.3": False,
    }


def test_server_names_reach_openssl_as_the_standard_encoding_would_give_them() -> None:
    from mailtls.probe.tls import client_context

    context = client_context()
    assert context is not None
    for name in ("mail.example.test", "MAIL.Example.TEST", "xn--bcher-kva.example"):
        assert context._encode_hostname(name) == name.encode("idna").decode("ascii")  # type: ignore[attr-defined]
    assert context._encode_hostname("bücher.example") == "xn--bcher-kva.example"  # type: ignore[attr-defined]
    assert context._encode_hostname(None) is None  # type: ignore[attr-defined]
