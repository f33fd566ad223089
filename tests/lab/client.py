"""A small, strict test client for the lab: stdlib sockets and ssl, no mailtls.probe.

It does the plaintext part of each protocol, the handshake without verification (so that
any chain is captured) and returns the chain the server sent, as DER, in order.
"""

from __future__ import annotations

import socket
import ssl
import warnings
from dataclasses import dataclass

from mailtls.lab.servers import Lab
from mailtls.model import Protocol, TlsMode, service_for_scheme

TIMEOUT = 5.0


def client_context(minimum: str | None = None, maximum: str | None = None) -> ssl.SSLContext:
    """CERT_NONE, every cipher and version: the client must accept whatever the lab serves."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("ALL:@SECLEVEL=0")
    versions = {
        "TLSv1": ssl.TLSVersion.TLSv1,
        "TLSv1.1": ssl.TLSVersion.TLSv1_1,
        "TLSv1.2": ssl.TLSVersion.TLSv1_2,
        "TLSv1.3": ssl.TLSVersion.TLSv1_3,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = versions[minimum or "TLSv1"]
        context.maximum_version = versions[maximum or "TLSv1.3"]
    return context


def unverified_chain(sock: ssl.SSLSocket) -> tuple[bytes, ...]:
    """The peer's chain as sent (Python 3.13 has the public get_unverified_chain)."""
    getter = getattr(sock, "get_unverified_chain", None)
    certificates = getter() if getter is not None else sock._sslobj.get_unverified_chain()  # type: ignore[union-attr]
    result = []
    for certificate in certificates or ():
        result.append(
            certificate if isinstance(certificate, bytes) else certificate.public_bytes(2)
        )
    return tuple(result)


class LineClient:
    """Line-oriented plaintext/TLS conversation over one socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    @classmethod
    def connect(cls, address: str, port: int) -> LineClient:
        return cls(socket.create_connection((address, port), timeout=TIMEOUT))

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> LineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def readline(self) -> bytes:
        while b"\n" not in self.buffer:
            data = self.sock.recv(4096)
            if not data:
                raise ConnectionError(f"server closed; buffer={self.buffer!r}")
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"

    def smtp_reply(self) -> list[bytes]:
        lines = [self.readline()]
        while lines[-1][3:4] == b"-":
            lines.append(self.readline())
        return lines

    def imap_until(self, tag: bytes) -> list[bytes]:
        lines = [self.readline()]
        while not lines[-1].startswith(tag + b" "):
            lines.append(self.readline())
        return lines

    def pop3_multiline(self) -> list[bytes]:
        lines = [self.readline()]
        if not lines[0].startswith(b"+OK"):
            return lines
        while lines[-1] != b".\r\n":
            lines.append(self.readline())
        return lines

    def command(self, protocol: Protocol, text: bytes, tag: bytes = b"") -> list[bytes]:
        """Send one command and read its whole reply."""
        if protocol is Protocol.IMAP:
            self.send(tag + b" " + text + b"\r\n")
            return self.imap_until(tag)
        self.send(text + b"\r\n")
        if protocol is Protocol.SMTP:
            return self.smtp_reply()
        if text.upper() == b"CAPA":
            return self.pop3_multiline()
        return [self.readline()]

    def start_tls(self, context: ssl.SSLContext, server_hostname: str) -> None:
        assert not self.buffer, f"plaintext left before the handshake: {self.buffer!r}"
        # Strict: a TLS connection that ends without close_notify raises SSLEOFError.
        self.sock = context.wrap_socket(
            self.sock, server_hostname=server_hostname, suppress_ragged_eofs=False
        )


@dataclass
class Session:
    """What one connection to a lab endpoint showed."""

    client: LineClient
    greeting: list[bytes]
    capabilities: list[bytes]  # before TLS (STARTTLS kinds) or the greeting caps
    chain: tuple[bytes, ...]
    tls_version: str | None


def open_session(
    lab: Lab,
    scheme: str,
    *,
    host: str = "mail.example.test",
    context: ssl.SSLContext | None = None,
) -> Session:
    """Connect, do the plaintext part and the handshake; the caller closes ``client``."""
    service = service_for_scheme(scheme)
    context = context or client_context()
    client = LineClient.connect(lab.connect_address, lab.endpoints[service.scheme])
    try:
        if service.tls_mode is TlsMode.IMPLICIT:
            client.start_tls(context, host)
        greeting = client.smtp_reply() if service.protocol is Protocol.SMTP else [client.readline()]
        capabilities: list[bytes] = []
        if service.tls_mode is TlsMode.STARTTLS:
            if service.protocol is Protocol.IMAP:
                capabilities = client.command(Protocol.IMAP, b"CAPABILITY", b"c1")
                reply = client.command(Protocol.IMAP, b"STARTTLS", b"c2")
                assert reply[-1].startswith(b"c2 OK"), reply
            elif service.protocol is Protocol.POP3:
                capabilities = client.command(Protocol.POP3, b"CAPA")
                reply = client.command(Protocol.POP3, b"STLS")
                assert reply[0].startswith(b"+OK"), reply
            else:
                capabilities = client.command(Protocol.SMTP, b"EHLO client.test")
                reply = client.command(Protocol.SMTP, b"STARTTLS")
                assert reply[0].startswith(b"220 "), reply
            client.start_tls(context, host)
        assert isinstance(client.sock, ssl.SSLSocket)
        return Session(
            client, greeting, capabilities, unverified_chain(client.sock), client.sock.version()
        )
    except BaseException:
        client.close()
        raise
