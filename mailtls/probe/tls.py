"""TLS capture without sockets: a client handshake over memory BIOs.

Verification is off on purpose (``CERT_NONE``, no host name check): an untrusted, expired
or mismatched chain is exactly what mailtls needs to capture. The cipher list and the
minimum version are opened as far as the local OpenSSL allows (``@SECLEVEL=0``, TLS 1.0),
so that servers stuck on old protocols still show their chain; anonymous suites stay out
(a server that offers only those has no certificate to judge).

:func:`unverified_chain` is the one place that knows how to read the chain as presented:
``get_unverified_chain()`` is public from Python 3.13 and private (``_sslobj``) before.
"""

from __future__ import annotations

import contextlib
import functools
import ssl
import warnings
from dataclasses import dataclass
from typing import Any

from mailtls.probe.dialog import quote

CIPHERS = "ALL:!aNULL:!eNULL:@SECLEVEL=0"
#: Most bytes accepted from the server during one handshake. OpenSSL itself refuses a
#: certificate message over 100 KiB; this bounds everything else (memory, slow drips).
MAX_HANDSHAKE_BYTES = 4 * 1024 * 1024


def _tls_version(name: str) -> ssl.TLSVersion:
    with warnings.catch_warnings():
        # TLSVersion.TLSv1 / TLSv1_1 warn on access; probing old versions is the point.
        warnings.simplefilter("ignore", DeprecationWarning)
        return {
            "TLSv1": ssl.TLSVersion.TLSv1,
            "TLSv1.1": ssl.TLSVersion.TLSv1_1,
            "TLSv1.2": ssl.TLSVersion.TLSv1_2,
            "TLSv1.3": ssl.TLSVersion.TLSv1_3,
        }[name]


class _ClientContext(ssl.SSLContext):
    """An SSLContext that sends an ASCII server name as it is.

    mailtls hands the handshake host names already in IDNA A-label form (ASCII); the
    standard encoding step would import the IDNA codec (stringprep, unicodedata) to return
    the same string. Other names take the usual path.
    """

    def _encode_hostname(self, hostname: Any) -> Any:
        if isinstance(hostname, str) and hostname.isascii():
            return hostname
        return super()._encode_hostname(hostname)  # type: ignore[misc]


@functools.lru_cache(maxsize=8)
def client_context(version: str | None = None, highest: str | None = None) -> ssl.SSLContext | None:
    """A capture context; pinned to one version name from TLS_VERSIONS when given, or to
    the range ``version`` .. ``highest``.

    Returns None when the local OpenSSL cannot offer that version at all.
    """
    context = _ClientContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.options |= getattr(ssl, "OP_LEGACY_SERVER_CONNECT", 0)
    try:
        context.set_ciphers(CIPHERS)
    except ssl.SSLError:
        context.set_ciphers("ALL:!aNULL:!eNULL")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            if version is None:
                context.minimum_version = _tls_version("TLSv1")
                context.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
            else:
                context.minimum_version = _tls_version(version)
                context.maximum_version = _tls_version(highest or version)
        except ValueError:
            if version is not None:
                return None
    return context


def unverified_chain(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> tuple[bytes, ...]:
    """Every certificate the server presented, in order, as DER bytes (leaf first)."""
    public = getattr(ssl_object, "get_unverified_chain", None)
    chain: Any = public() if public is not None else ssl_object._sslobj.get_unverified_chain()  # type: ignore[union-attr]
    if not chain:
        return ()
    return tuple(
        bytes(cert)
        if isinstance(cert, bytes | bytearray)
        else cert.public_bytes(ssl._ssl.ENCODING_DER)  # type: ignore[attr-defined]
        for cert in chain
    )


@dataclass(frozen=True, slots=True)
class HandshakeDone:
    tls_version: str
    cipher: str
    chain: tuple[bytes, ...]


class HandshakeError(Exception):
    """The handshake failed; ``str()`` is one line for a person. ``tls_refused`` is True
    when the server clearly spoke TLS and said no (an alert or a close after our hello)."""

    def __init__(self, reason: str, *, tls_refused: bool = False, local: bool = False) -> None:
        super().__init__(reason)
        self.tls_refused = tls_refused
        self.local = local  # our own OpenSSL refused (e.g. version not available here)


class TlsHandshake:
    """A client handshake fed with bytes: ``start()``, then ``receive(data)`` / ``closed()``.

    Each call returns the bytes to send and a :class:`HandshakeDone` once finished, or
    raises :class:`HandshakeError`.
    """

    def __init__(
        self, server_name: str | None, version: str | None = None, highest: str | None = None
    ) -> None:
        context = client_context(version, highest)
        # What the ClientHello offers when pinned, for messages: "TLSv1" or "TLSv1 to TLSv1.1".
        self.version = f"{version} to {highest}" if version and highest else version
        if context is None:
            raise HandshakeError(f"this machine's OpenSSL cannot offer {self.version}", local=True)
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self.ssl_object = context.wrap_bio(
            self._incoming, self._outgoing, server_hostname=server_name
        )
        self.received = 0
        self._first_bytes = b""

    def start(self) -> tuple[bytes, HandshakeDone | None]:
        return self._step()

    def receive(self, data: bytes) -> tuple[bytes, HandshakeDone | None]:
        self.received += len(data)
        if len(self._first_bytes) < 64:
            self._first_bytes += data[: 64 - len(self._first_bytes)]
        if self.received > MAX_HANDSHAKE_BYTES:
            raise HandshakeError(
                f"server sent more than {MAX_HANDSHAKE_BYTES // (1024 * 1024)} MiB without finishing the TLS handshake"
            )
        self._incoming.write(data)
        return self._step()

    def closed(self) -> tuple[bytes, HandshakeDone | None]:
        self._incoming.write_eof()
        return self._step()

    def pending_output(self) -> bytes:
        return self._outgoing.read()

    def close_notify(self) -> bytes:
        """Bytes of a close_notify alert (best effort), to end the session politely."""
        with contextlib.suppress(ssl.SSLError):
            self.ssl_object.unwrap()
        return self._outgoing.read()

    def encrypt(self, data: bytes) -> bytes:
        try:
            self.ssl_object.write(data)
        except ssl.SSLError:
            return b""
        return self._outgoing.read()

    def _step(self) -> tuple[bytes, HandshakeDone | None]:
        try:
            self.ssl_object.do_handshake()
        except ssl.SSLWantReadError:
            return self._outgoing.read(), None
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as exc:
            raise HandshakeError(self._closed_reason(), tls_refused=self._looks_like_tls()) from exc
        except ssl.SSLError as exc:
            raise self._classify(exc) from exc
        cipher = self.ssl_object.cipher()
        return self._outgoing.read(), HandshakeDone(
            tls_version=self.ssl_object.version() or "",
            cipher=cipher[0] if cipher else "",
            chain=unverified_chain(self.ssl_object),
        )

    def _looks_like_tls(self) -> bool:
        return not self._first_bytes or self._first_bytes[:1] in (b"\x15", b"\x16")

    def _closed_reason(self) -> str:
        pinned = f" offering only {self.version}" if self.version else ""
        if self.received == 0:
            hint = (
                ""
                if self.version
                else " (it may only speak TLS versions or ciphers this machine cannot offer)"
            )
            return f"server closed the connection after our ClientHello{pinned}{hint}"
        if not self._looks_like_tls():
            return f"server answered the ClientHello with {quote(self._first_bytes)}, which is not TLS, then closed"
        return f"server closed the connection in the middle of the TLS handshake ({self.received} bytes received)"

    def _classify(self, exc: ssl.SSLError) -> HandshakeError:
        reason = str(getattr(exc, "reason", None) or "").upper()
        for prefix in ("SSLV3_ALERT_", "TLSV1_ALERT_", "TLSV13_ALERT_"):
            if reason.startswith(prefix):
                alert = reason[len(prefix) :].lower().replace("_", " ")
                if self.received == 0:
                    # An alert we raised ourselves before the server said anything.
                    return HandshakeError(f"TLS handshake failed locally: {alert}", local=True)
                pinned = f" to a ClientHello offering only {self.version}" if self.version else ""
                hint = ""
                if (
                    alert in ("protocol version", "handshake failure", "insufficient security")
                    and not self.version
                ):
                    hint = " (no TLS version or cipher in common)"
                return HandshakeError(
                    f"server sent TLS alert {alert!r}{pinned}{hint}", tls_refused=True
                )
        if (
            reason
            in (
                "WRONG_VERSION_NUMBER",
                "PACKET_LENGTH_TOO_LONG",
                "UNKNOWN_PROTOCOL",
                "HTTP_REQUEST",
                "RECORD_LAYER_FAILURE",
            )
            or not self._looks_like_tls()
        ):
            return HandshakeError(
                f"server answered the ClientHello with {quote(self._first_bytes)}, which is not TLS"
                " (is this port speaking TLS at all? a plaintext port needs STARTTLS)"
            )
        if reason in ("ASN1_LIB", "CERT_LENGTH_MISMATCH", "NESTED_ASN1_ERROR") or (
            not reason and "ASN1" in str(exc).upper()
        ):
            return HandshakeError(
                "server sent a certificate that cannot be parsed (malformed or truncated DER)"
            )
        if reason == "EXCESSIVE_MESSAGE_SIZE":
            return HandshakeError(
                "server sent a certificate message over OpenSSL's 100 KiB limit"
                " (a huge certificate or hundreds of certificates); no client will accept it"
            )
        if reason in (
            "UNSUPPORTED_PROTOCOL",
            "NO_PROTOCOLS_AVAILABLE",
            "VERSION_TOO_LOW",
            "WRONG_SSL_VERSION",
            "TLSV1_ALERT_PROTOCOL_VERSION",
        ):
            offered = self.version or "TLS 1.0 to 1.3"
            return HandshakeError(
                f"server chose a TLS version outside what we offered ({offered})", tls_refused=True
            )
        if reason in ("NO_SHARED_CIPHER", "NO_CIPHERS_AVAILABLE", "WRONG_CIPHER_RETURNED"):
            return HandshakeError("no cipher in common with the server", tls_refused=True)
        text = getattr(exc, "reason", None) or str(exc)
        return HandshakeError(f"TLS handshake failed: {text}")
