"""A server's referral or redirect never sends mailtls to another host (issue 7).

IMAP servers can answer with ``[REFERRAL imap://other/]`` (RFC 2221) and SMTP servers
with ``551 User not local; please try <other>``. The probe connects to the one address
it was given and nowhere else: a second listener stands for the "other" host and must
see no connection at all.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from mailtls.model import Endpoint, Status
from mailtls.probe import ProbeOptions, Timeouts, probe_sync


class _Listener:
    """A plain TCP listener that plays a script and counts the connections it gets."""

    def __init__(self, script: list[tuple[bytes | None, bytes]]) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.script = script
        self.connections = 0
        self.received = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    for expect, reply in self.script:
                        if expect is not None:
                            data = b""
                            while not data.endswith(b"\r\n"):
                                chunk = conn.recv(4096)
                                if not chunk:
                                    break
                                data += chunk
                            self.received += data
                        conn.sendall(reply)
                    conn.recv(4096)  # the polite goodbye, if any
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(2)


@pytest.fixture
def elsewhere() -> Iterator[_Listener]:
    listener = _Listener([(None, b"* OK the other host\r\n")])
    yield listener
    listener.close()


def _probe(scheme: str, port: int) -> Status:
    options = ProbeOptions(Timeouts(connect=1, greeting=1, starttls=1, handshake=1), deadline=3)
    endpoint = Endpoint(scheme, "mail.example.test", port, "127.0.0.1")
    (result,) = probe_sync([endpoint], options)
    return result.status


def test_an_imap_referral_is_not_followed(elsewhere: _Listener) -> None:
    referral = f"imap://127.0.0.1:{elsewhere.port}/".encode()
    server = _Listener(
        [
            (None, b"* OK [REFERRAL " + referral + b"] go elsewhere\r\n"),
            (b"CAPABILITY", b"* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n"),
            (b"STARTTLS", b"a2 NO [REFERRAL " + referral + b"] not here\r\n"),
        ]
    )
    try:
        status = _probe("imap", server.port)
    finally:
        server.close()
    assert status is Status.NO_TLS
    assert server.connections == 1
    assert elsewhere.connections == 0
    assert b"LOGIN" not in server.received and b"AUTHENTICATE" not in server.received


def test_an_smtp_redirect_is_not_followed(elsewhere: _Listener) -> None:
    other = f"127.0.0.1:{elsewhere.port}".encode()
    server = _Listener(
        [
            (None, b"220 mail.example.test ESMTP\r\n"),
            (b"EHLO", b"250-mail.example.test\r\n250 STARTTLS\r\n"),
            (b"STARTTLS", b"551 User not local; please try <" + other + b">\r\n"),
        ]
    )
    try:
        status = _probe("submission", server.port)
    finally:
        server.close()
    assert status in (Status.NO_TLS, Status.PROTOCOL_ERROR)
    assert server.connections == 1
    assert elsewhere.connections == 0
    assert b"AUTH" not in server.received
