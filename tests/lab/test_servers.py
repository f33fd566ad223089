"""The lab's servers over real loopback sockets (mailtls.lab.servers)."""

from __future__ import annotations

import socket
import ssl
import time

import pytest

from mailtls.errors import LabError
from mailtls.lab.servers import (
    Lab,
    bind_warning,
    is_loopback_bind,
    normalize_tls_version,
    pem_chain_to_der,
    start_lab,
)
from mailtls.model import IPHONE_SWEEP, Protocol, service_for_scheme

from .client import LineClient, client_context, open_session
from .conftest import LabChain, make_chain


def _der(*pems: bytes) -> tuple[bytes, ...]:
    return pem_chain_to_der(b"".join(pems))


# --------------------------------------------------------------------------- chains


@pytest.mark.parametrize("scheme", IPHONE_SWEEP)
def test_each_kind_presents_exactly_the_configured_chain(
    lab: Lab, chain: LabChain, scheme: str
) -> None:
    session = open_session(lab, scheme)
    with session.client:
        assert session.chain == _der(chain.leaf, chain.intermediate)
        assert session.chain == lab.chain
        assert session.tls_version == "TLSv1.3"


def test_a_different_chain_is_not_what_the_lab_serves(lab: Lab, other_chain: LabChain) -> None:
    """Negative twin: the comparison above can fail."""
    session = open_session(lab, "imaps")
    with session.client:
        assert session.chain != _der(other_chain.leaf, other_chain.intermediate)


@pytest.mark.parametrize(
    "order",
    [
        ("leaf",),
        ("leaf", "intermediate"),
        ("leaf", "intermediate", "root"),
        ("leaf", "root", "intermediate"),  # wrong order stays wrong
        ("leaf", "unrelated", "intermediate"),
        ("leaf", "intermediate", "intermediate"),  # duplicates are kept
    ],
    ids=lambda order: "+".join(order),
)
@pytest.mark.parametrize("scheme", ["imaps", "submission"])
def test_chain_order_and_extras_are_preserved(
    chain: LabChain, order: tuple[str, ...], scheme: str
) -> None:
    pems = [getattr(chain, part) for part in order]
    with start_lab(b"".join(pems), chain.leaf_key, schemes=[scheme]) as running:
        session = open_session(running, scheme)
        with session.client:
            assert session.chain == _der(*pems)
            assert len(session.chain) == len(order)


def test_weak_rsa1024_sha1_chain_is_served_with_tls10() -> None:
    weak = make_chain("weak.example.test", kind="rsa", size=1024, hash="sha1")
    with start_lab(
        weak.served, weak.leaf_key, schemes=["pop3s", "imap"], min_tls="TLSv1"
    ) as running:
        for scheme in ("pop3s", "imap"):
            session = open_session(running, scheme, context=client_context(maximum="TLSv1"))
            with session.client:
                assert session.tls_version == "TLSv1"
                assert session.chain == _der(weak.leaf, weak.intermediate)


def test_two_labs_side_by_side_serve_their_own_chains(
    chain: LabChain, other_chain: LabChain
) -> None:
    with (
        start_lab(chain.served, chain.leaf_key) as first,
        start_lab(other_chain.full, other_chain.leaf_key) as second,
    ):
        assert set(first.endpoints.values()).isdisjoint(second.endpoints.values())
        for scheme in ("imaps", "pop3", "smtp"):
            a, b = open_session(first, scheme), open_session(second, scheme)
            with a.client, b.client:
                assert a.chain == _der(chain.leaf, chain.intermediate)
                assert b.chain == _der(other_chain.leaf, other_chain.intermediate, other_chain.root)


def test_sni_is_recorded(lab: Lab) -> None:
    session = open_session(lab, "imaps", host="sni.example.test")
    with session.client:
        session.client.command(Protocol.IMAP, b"NOOP", b"n1")
    assert any(e.kind == "tls" and "sni=sni.example.test" in e.detail for e in lab.events())


# --------------------------------------------------------------------------- versions


def test_default_is_tls12_and_up(lab: Lab) -> None:
    with pytest.raises(ssl.SSLError):
        open_session(lab, "imaps", context=client_context(maximum="TLSv1.1"))
    session = open_session(lab, "pop3s", context=client_context(maximum="TLSv1.2"))
    with session.client:
        assert session.tls_version == "TLSv1.2"


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1.1"])
def test_old_versions_on_request(chain: LabChain, version: str) -> None:
    with start_lab(chain.served, chain.leaf_key, schemes=["smtp"], max_tls=version) as running:
        session = open_session(running, "smtp", context=client_context(maximum="TLSv1.3"))
        with session.client:
            assert session.tls_version == version


def test_max_tls_limits_the_version(chain: LabChain) -> None:
    with start_lab(chain.served, chain.leaf_key, schemes=["imaps"], max_tls="TLSv1.2") as running:
        session = open_session(running, "imaps")
        with session.client:
            assert session.tls_version == "TLSv1.2"


def test_min_tls_refuses_older_clients(chain: LabChain) -> None:
    with start_lab(chain.served, chain.leaf_key, schemes=["imaps"], min_tls="1.3") as running:
        with pytest.raises(ssl.SSLError):
            open_session(running, "imaps", context=client_context(maximum="TLSv1.2"))
        session = open_session(running, "imaps")
        with session.client:
            assert session.tls_version == "TLSv1.3"
        deadline = time.monotonic() + 2
        while (
            not any(e.kind == "tls_failed" for e in running.events())
            and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        assert any(e.kind == "tls_failed" for e in running.events())


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("TLSv1", "TLSv1"),
        ("1.0", "TLSv1"),
        ("tls1.1", "TLSv1.1"),
        ("TLSv1.2", "TLSv1.2"),
        ("1.3", "TLSv1.3"),
    ],
)
def test_normalize_tls_version(given: str, expected: str) -> None:
    assert normalize_tls_version(given) == expected


def test_bad_tls_versions_are_lab_errors(chain: LabChain) -> None:
    with pytest.raises(LabError, match="unknown TLS version 'SSLv3'"):
        normalize_tls_version("SSLv3")
    with pytest.raises(LabError, match="above max"):
        start_lab(chain.served, chain.leaf_key, min_tls="TLSv1.3", max_tls="TLSv1.2")


# --------------------------------------------------------------------------- dialogs


def test_imap_starttls_capabilities_on_the_wire(lab: Lab) -> None:
    session = open_session(lab, "imap")
    with session.client as client:
        assert session.greeting[0].startswith(b"* OK [CAPABILITY IMAP4rev1")
        caps = session.capabilities[0]
        assert b"STARTTLS" in caps and b"LOGINDISABLED" in caps
        after = client.command(Protocol.IMAP, b"CAPABILITY", b"c3")
        assert b"STARTTLS" not in after[0] and b"AUTH=PLAIN" in after[0]
        assert client.command(Protocol.IMAP, b"LOGOUT", b"c4")[-1] == b"c4 OK Logout completed.\r\n"


def test_pop3_and_smtp_capabilities_on_the_wire(lab: Lab) -> None:
    pop3 = open_session(lab, "pop3")
    with pop3.client:
        assert pop3.greeting[0].startswith(b"+OK")
        assert b"STLS\r\n" in pop3.capabilities
        assert pop3.client.command(Protocol.POP3, b"QUIT")[0].startswith(b"+OK")
    smtp = open_session(lab, "submission")
    with smtp.client:
        assert smtp.greeting == [b"220 mailtls-lab ESMTP mailtls lab\r\n"]
        assert smtp.capabilities[0] == b"250-mailtls-lab\r\n"
        assert b"250-STARTTLS\r\n" in smtp.capabilities and smtp.capabilities[-1].startswith(
            b"250 "
        )
        assert smtp.client.command(Protocol.SMTP, b"QUIT") == [b"221 2.0.0 Bye\r\n"]


def test_starttls_less_lab(chain: LabChain) -> None:
    with start_lab(chain.served, chain.leaf_key, starttls=False) as running:
        with LineClient.connect(running.connect_address, running.endpoints["imap"]) as imap:
            greeting = imap.readline()
            assert greeting.startswith(b"* OK") and b"STARTTLS" not in greeting
            assert imap.command(Protocol.IMAP, b"STARTTLS", b"s")[-1].startswith(b"s BAD")
        with LineClient.connect(running.connect_address, running.endpoints["pop3"]) as pop3:
            pop3.readline()
            assert b"STLS\r\n" not in pop3.command(Protocol.POP3, b"CAPA")
            assert pop3.command(Protocol.POP3, b"STLS")[0].startswith(b"-ERR")
        with LineClient.connect(running.connect_address, running.endpoints["smtp"]) as smtp:
            smtp.smtp_reply()
            assert b"250-STARTTLS\r\n" not in smtp.command(Protocol.SMTP, b"EHLO c.test")
            assert smtp.command(Protocol.SMTP, b"STARTTLS")[0].startswith(b"502")
        # The implicit endpoints still speak TLS.
        session = open_session(running, "submissions")
        with session.client:
            assert session.chain == running.chain


def test_auth_before_tls_is_advertised_on_the_wire(chain: LabChain) -> None:
    with (
        start_lab(
            chain.served, chain.leaf_key, auth_before_tls=True, schemes=["submission"]
        ) as running,
        LineClient.connect(running.connect_address, running.endpoints["submission"]) as smtp,
    ):
        smtp.smtp_reply()
        assert b"250-AUTH PLAIN LOGIN\r\n" in smtp.command(Protocol.SMTP, b"EHLO c.test")


def test_credentials_are_refused_before_and_after_tls(lab: Lab) -> None:
    with LineClient.connect(lab.connect_address, lab.endpoints["imap"]) as imap:
        imap.readline()
        assert imap.command(Protocol.IMAP, b"LOGIN bob secret", b"l1")[-1].startswith(b"l1 NO ")
    session = open_session(lab, "imap")
    with session.client as client:
        assert client.command(Protocol.IMAP, b"LOGIN bob secret", b"l2")[-1].startswith(
            b"l2 NO [AUTHENTICATIONFAILED]"
        )
    pop3 = open_session(lab, "pop3s")
    with pop3.client as client:
        assert client.command(Protocol.POP3, b"USER bob")[0].startswith(b"-ERR")
        assert client.command(Protocol.POP3, b"PASS secret")[0].startswith(b"-ERR")
    smtp = open_session(lab, "submission")
    with smtp.client as client:
        client.command(Protocol.SMTP, b"EHLO c.test")
        assert client.command(Protocol.SMTP, b"AUTH PLAIN AGJvYgBzZWNyZXQ=")[0].startswith(b"535 ")
    assert sum(e.kind == "credentials_refused" for e in lab.events()) >= 5


def test_plaintext_pipelined_after_starttls_is_discarded(lab: Lab) -> None:
    """Bytes sent with STARTTLS in one packet never reach the TLS session (CVE-2011-0411)."""
    with LineClient.connect(lab.connect_address, lab.endpoints["smtp"]) as client:
        client.smtp_reply()
        client.command(Protocol.SMTP, b"EHLO c.test")
        client.send(b"STARTTLS\r\nMAIL FROM:<injected@example.test>\r\n")
        assert client.smtp_reply() == [b"220 2.0.0 Ready to start TLS\r\n"]
        client.start_tls(client_context(), "mail.example.test")
        # If the injected command had been kept, its reply would come first.
        assert client.command(Protocol.SMTP, b"NOOP") == [b"250 2.0.0 Ok\r\n"]


def test_over_long_line_is_answered_and_closed(lab: Lab) -> None:
    with LineClient.connect(lab.connect_address, lab.endpoints["pop3"]) as client:
        client.readline()
        client.send(b"A" * 20000 + b"\r\n")
        assert client.readline() == b"-ERR Too long command line.\r\n"


def test_idle_client_gets_timeout_message(chain: LabChain) -> None:
    from mailtls.lab.servers import LabConfig

    config = LabConfig(chain.served, chain.leaf_key, schemes=("smtp",), idle_timeout=0.2)
    with (
        Lab(config) as running,
        LineClient.connect(running.connect_address, running.endpoints["smtp"]) as client,
    ):
        client.smtp_reply()
        assert client.readline() == b"421 4.4.2 Error: timeout exceeded\r\n"


# --------------------------------------------------------------------------- life cycle


def test_start_is_fast_and_stop_ends_open_connections(chain: LabChain) -> None:
    started = time.perf_counter()
    running = start_lab(chain.served, chain.leaf_key)
    startup = time.perf_counter() - started
    assert startup < 0.1, f"lab took {startup * 1000:.0f} ms to start"
    idle = open_session(running, "imap")  # a client that just sits there after TLS
    plain = LineClient.connect(running.connect_address, running.endpoints["pop3"])
    try:
        plain.readline()
        stopping = time.perf_counter()
        running.stop()
        assert time.perf_counter() - stopping < 1.0
        assert not running.running
        with pytest.raises((ConnectionError, OSError)):
            plain.readline()
        with pytest.raises(OSError):
            socket.create_connection(
                (running.connect_address, running.endpoints["imaps"]), timeout=1
            ).close()
    finally:
        idle.client.close()
        plain.close()
    running.stop()  # idempotent


def test_urls_and_endpoints(lab: Lab) -> None:
    assert list(lab.endpoints) == list(IPHONE_SWEEP)
    urls = lab.urls("mail.example.test")
    assert urls[0] == f"imaps://mail.example.test:{lab.endpoints['imaps']}"
    assert len(urls) == 7 and len(set(lab.endpoints.values())) == 7
    assert lab.url("smtps", "h.test") == f"submissions://h.test:{lab.endpoints['submissions']}"
    assert lab.host == "127.0.0.1" and lab.connect_address == "127.0.0.1"


def test_explicit_ports_and_schemes(chain: LabChain) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with start_lab(
        chain.served, chain.leaf_key, ports={"imaps": free}, schemes=["imaps", "smtps"]
    ) as running:
        assert running.endpoints == {"imaps": free, "submissions": running.endpoints["submissions"]}


def test_port_in_use_is_one_clear_error(lab: Lab, chain: LabChain) -> None:
    with pytest.raises(
        LabError, match=rf"cannot listen on 127.0.0.1:{lab.endpoints['imaps']} for imaps"
    ):
        start_lab(chain.served, chain.leaf_key, ports={"imaps": lab.endpoints["imaps"]})


def test_same_port_twice_is_refused(chain: LabChain) -> None:
    with pytest.raises(LabError, match="port 20993 given for both"):
        start_lab(chain.served, chain.leaf_key, ports={"imaps": 20993, "pop3s": 20993})


@pytest.mark.parametrize(
    ("chain_pem", "key_pem", "message"),
    [
        (b"", None, "chain: no PEM certificate"),
        (
            b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
            None,
            "not valid base64",
        ),
        (None, b"not a key", "key: no PEM private key"),
        ("intermediate-first", None, "does not belong to the first certificate"),
    ],
)
def test_bad_chain_or_key_is_one_clear_error(
    chain: LabChain, chain_pem: object, key_pem: bytes | None, message: str
) -> None:
    pem = chain.intermediate + chain.leaf if chain_pem == "intermediate-first" else chain_pem
    pem = chain.served if pem is None else pem
    assert isinstance(pem, bytes)
    with pytest.raises(LabError, match=message):
        start_lab(pem, key_pem if key_pem is not None else chain.leaf_key)


def test_encrypted_key_is_refused_without_prompting(chain: LabChain) -> None:
    from cryptography.hazmat.primitives import serialization

    from mailtls import pki

    key = pki.key_from_pem(chain.leaf_key)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    with pytest.raises(LabError, match="encrypted"):
        start_lab(chain.served, encrypted)


def test_unknown_scheme_and_empty_schemes(chain: LabChain) -> None:
    with pytest.raises(LabError, match="unknown scheme 'imapx'"):
        start_lab(chain.served, chain.leaf_key, schemes=["imapx"])
    with pytest.raises(LabError, match="no endpoint kinds"):
        start_lab(chain.served, chain.leaf_key, schemes=[])


# --------------------------------------------------------------------------- binding


@pytest.mark.parametrize("bind", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_binds_need_no_warning(bind: str) -> None:
    assert is_loopback_bind(bind)
    assert bind_warning(bind) is None


@pytest.mark.parametrize(
    ("bind", "words"),
    [
        ("0.0.0.0", "ALL network interfaces"),
        ("::", "ALL network interfaces"),
        ("192.0.2.10", "on 192.0.2.10, not on loopback"),
    ],
)
def test_non_loopback_binds_get_a_loud_warning(bind: str, words: str) -> None:
    assert not is_loopback_bind(bind)
    warning = bind_warning(bind)
    assert warning is not None and warning.startswith("WARNING:") and words in warning


def test_ipv6_loopback_lab(chain: LabChain) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 in this environment")
    try:
        running = start_lab(chain.served, chain.leaf_key, bind="::1", schemes=["imaps", "smtp"])
    except LabError as exc:
        pytest.skip(f"::1 not available: {exc}")
    with running:
        assert running.host == "::1"
        session = open_session(running, "smtp")
        with session.client:
            assert session.chain == running.chain


def test_service_scheme_lookup_matches_endpoints(lab: Lab) -> None:
    for scheme, port in lab.endpoints.items():
        assert service_for_scheme(scheme).scheme == scheme and port > 0


def test_key_is_written_0600_and_removed(monkeypatch: pytest.MonkeyPatch, chain: LabChain) -> None:
    import os
    import stat
    from pathlib import Path

    seen: list[tuple[Path, int, int]] = []
    real = ssl.SSLContext.load_cert_chain

    def spy(
        self: ssl.SSLContext, certfile: object, keyfile: object = None, password: object = None
    ) -> None:
        key = Path(str(keyfile))
        seen.append(
            (key, stat.S_IMODE(os.stat(key).st_mode), stat.S_IMODE(os.stat(key.parent).st_mode))
        )
        real(self, certfile, keyfile, password)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spy)
    with start_lab(chain.served, chain.leaf_key, schemes=["imaps"]):
        pass
    ((key_path, key_mode, dir_mode),) = seen
    assert key_mode == 0o600 and dir_mode == 0o700
    assert not key_path.exists() and not key_path.parent.exists()


def test_a_failing_event_callback_never_breaks_a_connection(chain: LabChain) -> None:
    calls: list[str] = []

    def explode(event: object) -> None:
        calls.append(getattr(event, "kind", "?"))
        raise RuntimeError("printing failed")

    with start_lab(chain.served, chain.leaf_key, schemes=["pop3"], on_event=explode) as running:
        session = open_session(running, "pop3")
        with session.client:
            assert session.client.command(Protocol.POP3, b"NOOP") == [b"+OK\r\n"]
    assert calls[:2] == ["connected", "tls"]


def test_connections_beyond_the_cap_are_closed(
    monkeypatch: pytest.MonkeyPatch, chain: LabChain
) -> None:
    import mailtls.lab.servers as servers

    monkeypatch.setattr(servers, "_MAX_CONNECTIONS", 1)
    with start_lab(chain.served, chain.leaf_key, schemes=["smtp"]) as running:
        with LineClient.connect(running.connect_address, running.endpoints["smtp"]) as first:
            assert first.smtp_reply()[0].startswith(b"220 ")
            with (
                LineClient.connect(running.connect_address, running.endpoints["smtp"]) as second,
                pytest.raises((ConnectionError, OSError)),
            ):
                second.readline()
        # Once the first one is gone, a new client is served again.
        deadline = time.monotonic() + 5
        while True:
            with LineClient.connect(running.connect_address, running.endpoints["smtp"]) as third:
                try:
                    assert third.smtp_reply()[0].startswith(b"220 ")
                    break
                except (ConnectionError, OSError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)


@pytest.mark.parametrize("name", ["", "mail example", "mail\r\n250 injected", "bücher.example"])
def test_server_name_must_be_one_printable_word(chain: LabChain, name: str) -> None:
    with pytest.raises(LabError, match="one printable ASCII word"):
        start_lab(chain.served, chain.leaf_key, server_name=name)


@pytest.mark.parametrize(
    ("scheme", "command"), [("imaps", b"q LOGOUT"), ("pop3s", b"QUIT"), ("submissions", b"QUIT")]
)
def test_quit_ends_tls_with_close_notify(lab: Lab, scheme: str, command: bytes) -> None:
    session = open_session(lab, scheme)
    with session.client as client:
        client.send(command + b"\r\n")
        reply = b""
        while True:  # a strict client: a TLS EOF without close_notify would raise here
            client.sock.settimeout(5)
            assert isinstance(client.sock, ssl.SSLSocket)
            data = client.sock.recv(4096)
            if not data:
                break
            reply += data
        assert reply.startswith((b"* BYE", b"+OK", b"221 "))


def test_without_close_notify_the_strict_client_notices(
    monkeypatch: pytest.MonkeyPatch, chain: LabChain
) -> None:
    """Negative twin of the test above: it can fail."""
    monkeypatch.setattr(Lab, "_close_notify", staticmethod(lambda connection: None))
    with start_lab(chain.served, chain.leaf_key, schemes=["pop3s"]) as running:
        session = open_session(running, "pop3s")
        with session.client as client:
            client.send(b"QUIT\r\n")
            assert isinstance(client.sock, ssl.SSLSocket)
            client.sock.settimeout(5)
            with pytest.raises(ssl.SSLEOFError):
                while client.sock.recv(4096):
                    pass


def test_library_users_get_the_bind_warning_in_their_logs(
    chain: LabChain, caplog: pytest.LogCaptureFixture
) -> None:
    """192.0.2.10 is not on this machine, so nothing ever listens off loopback here."""
    with pytest.raises(LabError, match=r"cannot listen on 192\.0\.2\.10"):
        start_lab(chain.served, chain.leaf_key, bind="192.0.2.10")
    assert any(
        r.name == "mailtls.lab" and r.levelname == "WARNING" and "not on loopback" in r.getMessage()
        for r in caplog.records
    )
    caplog.clear()
    with start_lab(chain.served, chain.leaf_key, schemes=["imaps"]):
        pass
    assert not caplog.records
