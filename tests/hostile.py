"""In-process mail servers for probe tests: well-behaved or hostile on request.

One background thread runs an asyncio loop; each :meth:`HostileServers.start` binds a
loopback port speaking IMAP, POP3 or SMTP, with STARTTLS or implicit TLS, presenting the
chain it is given, and misbehaving as its :class:`Spec` says (see :data:`BEHAVIOURS`).

    with HostileServers() as servers:
        port = servers.start(Spec("imap", "starttls", chain=chain, behaviour="drip"))

Test-only: the product lab (mailtls/lab/) is separate and well-behaved by design.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import tempfile
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailtls import pki

#: name -> what the server does.
BEHAVIOURS: dict[str, str] = {
    "normal": "a polite server",
    "silent": "accepts the connection and never says anything",
    "unterminated_greeting": "sends the start of a greeting and never ends the line",
    "endless_line": "sends bytes without a line end, forever",
    "flood": "a reply of megabytes of continuation lines",
    "drip": "sends its greeting one byte every 0.2 s",
    "close_at_greeting": "closes the connection before any greeting",
    "close_after_greeting": "greets, then closes when the first command arrives",
    "close_at_starttls": "closes when STARTTLS (or STLS) arrives",
    "close_in_handshake": "closes after reading the ClientHello",
    "garbage_handshake": "answers the ClientHello with plaintext garbage",
    "tls_alert": "answers the ClientHello with a fatal handshake_failure alert",
    "truncated_certificate": "a TLS 1.2 ServerHello, then a Certificate whose DER is cut short",
    "injected_plaintext": "sends a plaintext line right after the STARTTLS go-ahead",
    "starttls_refused": "advertises STARTTLS but refuses it (454 / NO / -ERR)",
    "no_starttls": "does not advertise STARTTLS",
    "bad_greeting": "greets with a refusal (554 / BYE / -ERR)",
}

_FATAL_HANDSHAKE_FAILURE = b"\x15\x03\x01\x00\x02\x02\x28"


@dataclass
class Spec:
    protocol: str  # "imap" | "pop3" | "smtp"
    tls_mode: str  # "starttls" | "implicit"
    chain: Sequence[bytes] = ()  # PEM or DER certificates, leaf first, sent as given
    key: Any = None  # a mailtls.pki private key
    behaviour: str = "normal"
    #: When set, every connection after the first behaves like this instead.
    later_behaviour: str | None = None
    host: str = "127.0.0.1"
    greeting_capabilities: bool = False  # IMAP: capabilities in the greeting's code
    minimum_version: str | None = None  # "TLSv1", ... ; None: OpenSSL's default
    maximum_version: str | None = None


def _version(name: str) -> ssl.TLSVersion:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return {
            "TLSv1": ssl.TLSVersion.TLSv1,
            "TLSv1.1": ssl.TLSVersion.TLSv1_1,
            "TLSv1.2": ssl.TLSVersion.TLSv1_2,
            "TLSv1.3": ssl.TLSVersion.TLSv1_3,
        }[name]


def _pem(cert: bytes) -> bytes:
    if cert.lstrip().startswith(b"-----BEGIN"):
        return cert.strip() + b"\n"
    return ssl.DER_cert_to_PEM_cert(cert).encode("ascii")


def _handshake_record(message_type: int, body: bytes) -> bytes:
    message = bytes([message_type]) + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x03" + len(message).to_bytes(2, "big") + message


def _server_hello_and_certificate(cert_der: bytes) -> bytes:
    """A hand-made TLS 1.2 ServerHello (ECDHE-ECDSA-AES128-GCM-SHA256, secure
    renegotiation) and a Certificate message carrying ``cert_der`` as it is."""
    hello = (
        b"\x03\x03"
        + bytes(range(32))  # server random (no downgrade sentinel)
        + b"\x00"  # empty session id
        + b"\xc0\x2b"
        + b"\x00"
        + b"\x00\x05\xff\x01\x00\x01\x00"  # extensions: renegotiation_info
    )
    entry = len(cert_der).to_bytes(3, "big") + cert_der
    certificate = len(entry).to_bytes(3, "big") + entry
    return _handshake_record(2, hello) + _handshake_record(11, certificate)


class _QuietSslEof(logging.Filter):
    """asyncio logs "returning true from eof_received() has no effect when using ssl"
    whenever a client ends a TLS stream; expected here, so not worth a line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "eof_received()" not in record.getMessage()


class HostileServers:
    """A context manager owning the loop thread, the listeners and the temp files."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="hostile-servers", daemon=True)
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._tmp = tempfile.TemporaryDirectory(prefix="mtl-hostile-")
        self._counter = 0
        self.connections = 0
        #: Everything clients sent, per connection: plaintext lines, then what arrived
        #: inside TLS (decrypted), so tests can check what a probe says.
        self.received: list[list[bytes]] = []

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def __enter__(self) -> HostileServers:
        self._quiet = _QuietSslEof()
        logging.getLogger("asyncio").addFilter(self._quiet)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._tmp.cleanup()
        logging.getLogger("asyncio").removeFilter(self._quiet)

    async def _shutdown(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in list(self._writers):
            writer.transport.abort()
        for server in self._servers:
            await server.wait_closed()
        await asyncio.sleep(0)

    def start(self, spec: Spec) -> int:
        """Start a listener for ``spec``; returns its port."""
        assert spec.behaviour in BEHAVIOURS, spec.behaviour
        context = self._context(spec) if spec.chain else None
        future = asyncio.run_coroutine_threadsafe(self._listen(spec, context), self._loop)
        return future.result(10)

    def _context(self, spec: Spec) -> ssl.SSLContext:
        self._counter += 1
        directory = Path(self._tmp.name)
        cert_file = directory / f"chain{self._counter}.pem"
        key_file = directory / f"key{self._counter}.pem"
        cert_file.write_bytes(b"".join(_pem(c) for c in spec.chain))
        key_file.write_bytes(pki.key_to_pem(spec.key))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.set_ciphers("ALL:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # serving old TLS on purpose
            if spec.minimum_version:
                context.minimum_version = _version(spec.minimum_version)
            if spec.maximum_version:
                context.maximum_version = _version(spec.maximum_version)
        context.load_cert_chain(cert_file, key_file)
        return context

    async def _listen(self, spec: Spec, context: ssl.SSLContext | None) -> int:
        seen = 0

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._tasks.add(task)  # type: ignore[arg-type]
            self._writers.add(writer)
            self.connections += 1
            try:
                nonlocal seen
                seen += 1
                session = _Session(spec, context, reader, writer)
                self.received.append(session.received)
                if seen > 1 and spec.later_behaviour:
                    session.behaviour = spec.later_behaviour
                await session.run()
            except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, OSError):
                pass
            except asyncio.CancelledError:
                pass  # shutdown; ending normally keeps asyncio's stream callback quiet
            finally:
                writer.transport.abort()
                self._writers.discard(writer)
                self._tasks.discard(task)  # type: ignore[arg-type]

        server = await asyncio.start_server(handle, spec.host, 0)
        self._servers.append(server)
        return int(server.sockets[0].getsockname()[1])


class _Session:
    def __init__(
        self,
        spec: Spec,
        context: ssl.SSLContext | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.spec = spec
        self.context = context
        self.reader = reader
        self.writer = writer
        self.behaviour = spec.behaviour
        self.received: list[bytes] = []

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def hang(self) -> None:
        await asyncio.sleep(3600)

    async def run(self) -> None:
        b = self.behaviour
        if b == "silent":
            return await self.hang()
        if b == "close_at_greeting":
            return
        if self.spec.tls_mode == "implicit":
            return await self.tls_phase()
        if b == "unterminated_greeting":
            await self.send(self.greeting().rstrip(b"\r\n"))
            return await self.hang()
        if b == "endless_line":
            while True:
                await self.send(b"x" * 4096)
                await asyncio.sleep(0.001)
        if b == "drip":
            for byte in self.greeting() * 100:
                await self.send(bytes([byte]))
                await asyncio.sleep(0.2)
            return
        if b == "flood" and self.spec.protocol == "smtp":
            while True:
                await self.send(b"220-" + b"f" * 200 + b"\r\n")
        await self.send(self.bad_greeting() if b == "bad_greeting" else self.greeting())
        if b == "bad_greeting":
            return await self.hang()
        while True:
            line = await self.reader.readline()
            self.received.append(line)
            if not line:
                return
            if b == "close_after_greeting":
                return
            done = await self.command(line.decode("ascii", "replace").strip())
            if done:
                return

    # -- plaintext dialog -------------------------------------------------------------

    def greeting(self) -> bytes:
        p = self.spec.protocol
        if p == "smtp":
            return b"220-mail.example.test ESMTP hostile\r\n220 second greeting line\r\n"
        if p == "imap":
            if self.spec.greeting_capabilities:
                return b"* OK [CAPABILITY " + self.imap_caps() + b"] hostile ready\r\n"
            return b"* OK hostile ready\r\n"
        return b"+OK hostile ready\r\n"

    def bad_greeting(self) -> bytes:
        return {
            "smtp": b"554 no service for you\r\n",
            "imap": b"* BYE go away\r\n",
            "pop3": b"-ERR go away\r\n",
        }[self.spec.protocol]

    def imap_caps(self) -> bytes:
        caps = b"IMAP4rev1 LITERAL+ LOGINDISABLED AUTH=PLAIN"
        return caps if self.behaviour == "no_starttls" else caps + b" STARTTLS"

    async def command(self, line: str) -> bool:
        p = self.spec.protocol
        verb = line.split(" ")[1 if p == "imap" else 0].upper() if line else ""
        tag = line.split(" ")[0] if p == "imap" else ""
        if verb in ("STARTTLS", "STLS"):
            return await self.starttls(tag)
        if p == "smtp":
            if verb in ("EHLO", "HELO"):
                ext = b"250-mail.example.test\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n"
                if self.behaviour != "no_starttls":
                    ext += b"250-STARTTLS\r\n"
                await self.send(ext + b"250 8BITMIME\r\n")
                return False
            if verb == "QUIT":
                await self.send(b"221 bye\r\n")
                return True
            await self.send(b"502 not here\r\n")
            return False
        if p == "imap":
            if verb == "CAPABILITY":
                if self.behaviour == "flood":
                    while True:
                        await self.send(b"* CAPABILITY " + b"X" * 200 + b"\r\n")
                await self.send(
                    b"* CAPABILITY " + self.imap_caps() + b"\r\n" + tag.encode() + b" OK done\r\n"
                )
                return False
            if verb == "LOGOUT":
                await self.send(b"* BYE\r\n" + tag.encode() + b" OK bye\r\n")
                return True
            await self.send(tag.encode() + b" BAD unknown\r\n")
            return False
        if verb == "CAPA":
            if self.behaviour == "flood":
                await self.send(b"+OK\r\n")
                while True:
                    await self.send(b"X-FILLER " + b"y" * 200 + b"\r\n")
            stls = b"" if self.behaviour == "no_starttls" else b"STLS\r\n"
            await self.send(
                b"+OK capabilities\r\nTOP\r\nUSER\r\nSASL PLAIN LOGIN\r\n" + stls + b".\r\n"
            )
            return False
        if verb == "QUIT":
            await self.send(b"+OK bye\r\n")
            return True
        await self.send(b"-ERR unknown\r\n")
        return False

    async def starttls(self, tag: str) -> bool:
        p = self.spec.protocol
        if self.behaviour == "close_at_starttls":
            return True
        if self.behaviour == "starttls_refused":
            refusal = {
                "smtp": b"454 4.7.0 TLS not available due to local problem\r\n",
                "imap": tag.encode() + b" NO STARTTLS is broken here\r\n",
                "pop3": b"-ERR STLS not now\r\n",
            }[p]
            await self.send(refusal)
            return False
        go_ahead = {
            "smtp": b"220 2.0.0 Ready to start TLS\r\n",
            "imap": tag.encode() + b" OK Begin TLS negotiation now\r\n",
            "pop3": b"+OK Begin TLS\r\n",
        }[p]
        if self.behaviour == "injected_plaintext":
            go_ahead += {
                "smtp": b"250 injected reply\r\n",
                "imap": b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n",
                "pop3": b"+OK injected\r\n",
            }[p]
        await self.send(go_ahead)
        await self.tls_phase()
        return True

    # -- TLS ----------------------------------------------------------------------------

    async def read_record(self) -> bytes:
        header = await self.reader.readexactly(5)
        return header + await self.reader.readexactly(int.from_bytes(header[3:5], "big"))

    async def tls_phase(self) -> None:
        b = self.behaviour
        if b == "truncated_certificate":
            await self.read_record()
            leaf = self.spec.chain[0]
            der = (
                leaf
                if not leaf.lstrip().startswith(b"-----")
                else ssl.PEM_cert_to_DER_cert(leaf.decode())
            )
            await self.send(_server_hello_and_certificate(der[: len(der) // 2]))
            await asyncio.sleep(2)
            return
        if b in ("close_in_handshake", "garbage_handshake", "tls_alert"):
            await self.reader.read(5)  # the start of the ClientHello
            if b == "garbage_handshake":
                await self.send(b"HTTP/1.0 400 Bad Request\r\n\r\nthis is not TLS\r\n")
            elif b == "tls_alert":
                await self.send(_FATAL_HANDSHAKE_FAILURE)
            return
        assert self.context is not None, "a TLS behaviour needs a chain"
        await self.writer.start_tls(self.context)
        # Keep what the client says inside TLS until it leaves.
        with contextlib.suppress(Exception):
            while data := await self.reader.read(4096):
                self.received.append(data)
