"""In-process IMAP, POP3 and SMTP servers that present any chain: the mailtls lab.

``start_lab(chain_pem, key_pem)`` binds the 7 endpoint kinds iPhone Mail can use (IMAP
993/143, POP3 995/110, SMTP 465/587/25, implicit TLS and STARTTLS) on free loopback ports
and serves them in the background (one accepting thread), returning a :class:`Lab`::

    with start_lab(chain_pem, key_pem) as lab:
        lab.urls("mail.example.test")   # ["imaps://mail.example.test:40993", ...]

Contract:

* The server sends exactly the given chain, in the given order (OpenSSL sends the
  certificates of a chain file as they are in the file; the first one must belong to the
  key). :attr:`Lab.chain` holds the DER of what is served.
* Weak certificates are served (``@SECLEVEL=0``: RSA-1024, SHA-1, MD5 load and
  handshake): serving bad certificates is the point. Protocol versions: TLS 1.2 and 1.3
  by default, like Dovecot and Postfix; ``min_tls="TLSv1"`` (or a ``max_tls`` below 1.2)
  serves TLS 1.0/1.1 too, which OpenSSL permits at security level 0. A leaf key too
  small for TLS 1.3's RSA-PSS (RSA-512) is served over TLS 1.2, said in :attr:`Lab.notes`.
  What OpenSSL refuses to load at all (a duplicate extension) is a one-line LabError:
  no OpenSSL-based server could send it either.
* The dialogs are well-behaved and refuse every credential (:mod:`mailtls.lab.dialogs`).
* It binds to loopback unless told otherwise; :func:`bind_warning` is the loud sentence
  a front end prints when it is not.
* Fast to start (a few milliseconds: one SSL context, one thread); several labs with
  different chains run side by side; ``stop()`` closes every socket and returns promptly.

Each accepted connection is served by its own short-lived thread with per-phase time
limits, so a slow client never blocks the others or the shutdown.
"""

from __future__ import annotations

import binascii
import contextlib
import ipaddress
import logging
import os
import selectors
import socket
import ssl
import tempfile
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from mailtls.analysis.certs import pem_blocks
from mailtls.errors import LabError
from mailtls.lab.dialogs import MAX_LINE, DialogOptions, Reply, ServerDialog, Then, make_dialog
from mailtls.model import IPHONE_SWEEP, Endpoint, Service, TlsMode, service_for_scheme

#: Protocol version names accepted for ``min_tls``/``max_tls`` (as the model spells them).
_TLS_VERSIONS: dict[str, ssl.TLSVersion] = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
#: Lowest version a lab accepts unless ``min_tls`` says otherwise.
DEFAULT_MIN_TLS = "TLSv1.2"
#: OpenSSL cipher string that lets the lab load and serve weak keys and SHA-1/MD5
#: certificates and speak TLS 1.0/1.1 (Debian's OpenSSL 3 defaults to SECLEVEL=2).
WEAK_CIPHERS = "ALL:!aNULL:!eNULL:@SECLEVEL=0"

#: Connections served at once (one thread each); more are closed at once. The fleet
#: benchmark runs 64 endpoints at a time, each with up to 5 connections.
_MAX_CONNECTIONS = 1024
#: Listen backlog per endpoint (the kernel caps it at net.core.somaxconn): bursts of
#: connects must not overflow it, or the client waits a second for a SYN retry.
_BACKLOG = 1024


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class LabEvent:
    """Something that happened on a lab connection, for training output and tests."""

    elapsed: float  # seconds since the lab started
    scheme: str
    peer: str  # "address:port" of the client
    kind: str  # "connected", "tls", "tls_failed", "credentials_refused", "closed", "timeout"
    detail: str = ""


@dataclass(frozen=True)
class LabConfig:
    """Everything a lab needs; see :func:`start_lab` for the meaning of each field."""

    chain_pem: bytes
    key_pem: bytes
    bind: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=dict)
    schemes: tuple[str, ...] = IPHONE_SWEEP
    starttls: bool = True
    auth_before_tls: bool = False
    min_tls: str | None = None
    max_tls: str | None = None
    server_name: str = "mailtls-lab"
    handshake_timeout: float = 10.0
    idle_timeout: float = 30.0


# --------------------------------------------------------------------------- helpers


def normalize_tls_version(value: str) -> str:
    """ "TLSv1.2", "tls1.2", "1.2" -> "TLSv1.2"; "1", "1.0", "TLSv1.0" -> "TLSv1"."""
    text = value.strip().lower().removeprefix("tlsv").removeprefix("tls").strip()
    if text in ("1", "1.0", "10"):
        return "TLSv1"
    if text in ("1.1", "11", "1.2", "12", "1.3", "13"):
        return "TLSv1." + text[-1]
    raise LabError(f"unknown TLS version {value!r} (use TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)")


def pem_chain_to_der(chain_pem: bytes) -> tuple[bytes, ...]:
    """The certificates (``CERTIFICATE`` blocks) of a PEM bundle as DER, in file order."""
    try:
        blocks = pem_blocks(chain_pem, strict=True)
    except (binascii.Error, ValueError) as exc:
        raise LabError(f"chain: a certificate is not valid base64 PEM ({exc})") from exc
    return tuple(der for label, der in blocks if label == "CERTIFICATE")


def resolve_bind(bind: str) -> tuple[socket.AddressFamily, str]:
    """Address family and numeric address for a bind address or local name."""
    text = bind.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if not text:
        raise LabError("empty bind address")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        try:
            infos = socket.getaddrinfo(text, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        except (OSError, UnicodeError) as exc:
            raise LabError(f"cannot use bind address {bind!r}: {exc}") from exc
        family, _type, _proto, _name, sockaddr = infos[0]
        return family, str(sockaddr[0])
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    return family, str(address)


def is_loopback_bind(bind: str) -> bool:
    """True when the lab would only be reachable from this machine."""
    _family, address = resolve_bind(bind)
    return ipaddress.ip_address(address).is_loopback


def bind_warning(bind: str) -> str | None:
    """The loud warning a front end prints when the lab is not bound to loopback."""
    _family, address = resolve_bind(bind)
    ip = ipaddress.ip_address(address)
    if ip.is_loopback:
        return None
    where = "on ALL network interfaces" if ip.is_unspecified else f"on {address}, not on loopback"
    return (
        f"WARNING: the mailtls lab is listening {where}. Other machines can connect to "
        "it and will see deliberately broken certificates. Use --bind 127.0.0.1 unless "
        "you really mean to test from another device (e.g. a real iPhone), and stop the "
        "lab when you are done."
    )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def tls13_blocker(leaf_der: bytes) -> str | None:
    """Why this leaf cannot do TLS 1.3 at all, or None.

    TLS 1.3 signs with RSA-PSS only, and PSS with SHA-256 needs a modulus of at least
    528 bits (RFC 8017 9.1.1: emLen >= hLen + sLen + 2 = 66 bytes); OpenSSL then fails
    every TLS 1.3 handshake. The lab serves such keys over TLS 1.2 instead.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        public_key = x509.load_der_x509_certificate(leaf_der).public_key()
    except (ValueError, TypeError):  # cryptography is stricter than OpenSSL; not our call
        return None
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < 528:
        return (
            f"TLS 1.3 is off: the leaf's RSA-{public_key.key_size} key is too small for the "
            "RSA-PSS signatures TLS 1.3 requires (served over TLS 1.2 and below)"
        )
    return None


def build_server_context(config: LabConfig) -> ssl.SSLContext:
    """An SSL context that serves exactly ``config.chain_pem`` with its key, weak or not."""
    return _build_server_context(config)[0]


def _build_server_context(config: LabConfig) -> tuple[ssl.SSLContext, tuple[str, ...]]:
    ders = pem_chain_to_der(config.chain_pem)
    if not ders:
        raise LabError("chain: no PEM certificate found (expected -----BEGIN CERTIFICATE-----)")
    if b"PRIVATE KEY-----" not in config.key_pem:
        raise LabError("key: no PEM private key found (expected -----BEGIN ... PRIVATE KEY-----)")
    notes: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # The security level must drop *before* the chain is loaded: at Debian's default
    # level OpenSSL refuses to load RSA-1024 or SHA-1-signed certificates at all.
    context.set_ciphers(WEAK_CIPHERS)
    maximum = normalize_tls_version(config.max_tls) if config.max_tls else "TLSv1.3"
    blocker = None if config.max_tls else tls13_blocker(ders[0])
    if blocker:
        maximum = "TLSv1.2"
        notes.append(blocker)
    if config.min_tls:
        minimum = normalize_tls_version(config.min_tls)
    else:
        # Like Dovecot's and Postfix's defaults: TLS 1.2 and up, so a lab is a clean
        # reference unless asked otherwise. A max below 1.2 brings the min down with it.
        minimum = min(DEFAULT_MIN_TLS, maximum, key=_TLS_VERSIONS.__getitem__)
    if _TLS_VERSIONS[minimum] > _TLS_VERSIONS[maximum]:
        raise LabError(f"min TLS version {minimum} is above max TLS version {maximum}")
    with warnings.catch_warnings():
        # Python deprecates TLS 1.0/1.1; the lab serves them on purpose.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = _TLS_VERSIONS[minimum]
        context.maximum_version = _TLS_VERSIONS[maximum]
    encrypted = False

    def no_password() -> bytes:
        # Never let OpenSSL prompt on the terminal (it would hang a test or the demo).
        nonlocal encrypted
        encrypted = True
        return b""

    with tempfile.TemporaryDirectory(prefix="mailtls-lab-") as tmp:
        chain_path, key_path = Path(tmp, "chain.pem"), Path(tmp, "key.pem")
        _write_private(chain_path, config.chain_pem)
        _write_private(key_path, config.key_pem)
        try:
            context.load_cert_chain(chain_path, key_path, password=no_password)
        except ssl.SSLError as exc:
            if encrypted:
                raise LabError(
                    "key: the private key is encrypted; give an unencrypted PEM key"
                ) from exc
            if "KEY_VALUES_MISMATCH" in str(exc) or "key values mismatch" in str(exc):
                raise LabError(
                    "key: the private key does not belong to the first certificate of the chain "
                    "(the leaf must come first)"
                ) from exc
            if exc.reason == "INVALID_CERTIFICATE":
                raise LabError(
                    "OpenSSL refuses to load a certificate of this chain (INVALID_CERTIFICATE, "
                    "e.g. a duplicate extension): no OpenSSL-based server can send it; check "
                    "the file with mailtls inspect instead"
                ) from exc
            raise LabError(f"cannot load chain and key: {exc.reason or exc}") from exc
    return context, tuple(notes)


# --------------------------------------------------------------------------- lab


class _Connection:
    """One accepted client; ``sock`` is replaced by its TLS wrapper after a handshake."""

    def __init__(self, sock: socket.socket, service: Service, peer: str) -> None:
        self.sock = sock
        self.service = service
        self.peer = peer
        self.buffer = b""


class Lab:
    """A running set of lab endpoints. Use :func:`start_lab`, or ``with Lab(config):``."""

    def __init__(
        self,
        config: LabConfig,
        *,
        on_event: Callable[[LabEvent], None] | None = None,
    ) -> None:
        self.config = config
        self.on_event = on_event
        self.chain: tuple[bytes, ...] = pem_chain_to_der(config.chain_pem)
        self.endpoints: dict[str, int] = {}
        self.host = ""
        #: Sentences about how this chain is served (e.g. TLS 1.3 off for a tiny RSA key).
        self.notes: tuple[str, ...] = ()
        self._schemes = tuple(
            dict.fromkeys(service_for_scheme_checked(s).scheme for s in config.schemes)
        )
        if not self._schemes:
            raise LabError("no endpoint kinds chosen (give at least one scheme)")
        if (
            not config.server_name.isascii()
            or not config.server_name.isprintable()
            or (not config.server_name or any(ch.isspace() for ch in config.server_name))
        ):
            # It goes into greetings and banners: one printable word, nothing to inject.
            raise LabError(f"server name {config.server_name!r}: one printable ASCII word, please")
        self._options = DialogOptions(
            starttls=config.starttls,
            auth_before_tls=config.auth_before_tls,
            server_name=config.server_name,
        )
        self._context: ssl.SSLContext | None = None
        self._listeners: list[tuple[socket.socket, Service]] = []
        self._connections: set[_Connection] = set()
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._events: deque[LabEvent] = deque(maxlen=2000)
        self._stopping = threading.Event()
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._started_at = 0.0
        self._tls_local = threading.local()

    # ------------------------------------------------------------------ public

    @property
    def running(self) -> bool:
        return self._acceptor is not None and not self._stopping.is_set()

    @property
    def connect_address(self) -> str:
        """The address a local client connects to (loopback when bound to all interfaces)."""
        address = ipaddress.ip_address(self.host)
        if address.is_unspecified:
            return "::1" if address.version == 6 else "127.0.0.1"
        return self.host

    def url(self, scheme: str, hostname: str) -> str:
        scheme = service_for_scheme_checked(scheme).scheme
        return Endpoint(scheme, hostname, self.endpoints[scheme]).url

    def urls(self, hostname: str) -> list[str]:
        """URLs for every endpoint, in sweep order, e.g. ``imaps://mail.example.test:40993``."""
        return [self.url(scheme, hostname) for scheme in self.endpoints]

    def events(self) -> tuple[LabEvent, ...]:
        with self._lock:
            return tuple(self._events)

    def start(self) -> Lab:
        if self._acceptor is not None:
            return self
        self._started_at = time.monotonic()
        self._context, self.notes = _build_server_context(self.config)
        self._context.sni_callback = self._remember_sni
        family, self.host = resolve_bind(self.config.bind)
        warning = bind_warning(self.host)
        if warning:
            # Front ends print this themselves; library users still get it in their logs.
            logging.getLogger("mailtls.lab").warning("%s", warning)
        try:
            self._bind_all(family)
            self._wake_r, self._wake_w = socket.socketpair()
            self._acceptor = threading.Thread(
                target=self._accept_loop, name=f"mailtls-lab-{self.host}", daemon=True
            )
            self._acceptor.start()
        except BaseException:
            self._close_listeners()
            self._close_wake()
            raise
        return self

    def stop(self) -> None:
        """Stop accepting, end every connection, and wait (briefly) for the threads."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._acceptor is None:
            self._close_listeners()
            return
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        self._acceptor.join(timeout=5)
        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
        for connection in connections:
            # The base method, so an SSLSocket's TLS state is left alone; this wakes
            # the connection's thread out of recv() and it closes its own socket.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(connection.sock, socket.SHUT_RDWR)
        deadline = time.monotonic() + 5
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._close_wake()

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ binding

    def _bind_all(self, family: socket.AddressFamily) -> None:
        wanted: dict[str, int] = {}
        for raw_scheme, port in self.config.ports.items():
            scheme = service_for_scheme_checked(raw_scheme).scheme
            if not isinstance(port, int) or not 0 <= port <= 65535:
                raise LabError(
                    f"bad port {port!r} for {scheme} (use 1-65535, or 0 for a free port)"
                )
            wanted[scheme] = port
        taken: dict[int, str] = {}
        for scheme in self._schemes:
            port = wanted.get(scheme, 0)
            if port and port in taken:
                raise LabError(f"port {port} given for both {taken[port]} and {scheme}")
            if port:
                taken[port] = scheme
        for scheme in self._schemes:
            service = service_for_scheme(scheme)
            port = wanted.get(scheme, 0)
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.host, port))
                sock.listen(_BACKLOG)
                sock.setblocking(False)
            except OSError as exc:
                sock.close()
                shown = f"[{self.host}]" if family == socket.AF_INET6 else self.host
                where = f"{shown}:{port}" if port else f"{shown} (a free port)"
                hint = ""
                if isinstance(exc, PermissionError) and port and port < 1024:
                    hint = " (ports below 1024 need privileges; try --port-base 10000)"
                raise LabError(
                    f"cannot listen on {where} for {scheme}: {exc.strerror or exc}{hint}"
                ) from exc
            self._listeners.append((sock, service))
            self.endpoints[scheme] = int(sock.getsockname()[1])

    def _close_listeners(self) -> None:
        for sock, _service in self._listeners:
            sock.close()
        self._listeners.clear()

    def _close_wake(self) -> None:
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._wake_r = self._wake_w = None

    # ------------------------------------------------------------------ accepting

    def _accept_loop(self) -> None:
        assert self._wake_r is not None
        selector = selectors.DefaultSelector()
        try:
            selector.register(self._wake_r, selectors.EVENT_READ, None)
            for sock, service in self._listeners:
                selector.register(sock, selectors.EVENT_READ, service)
            while not self._stopping.is_set():
                for key, _mask in selector.select(timeout=1.0):
                    if key.data is None:
                        return
                    self._accept(key.fileobj, key.data)  # type: ignore[arg-type]
        finally:
            selector.close()
            self._close_listeners()

    def _accept(self, listener: socket.socket, service: Service) -> None:
        try:
            sock, address = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        peer = _format_peer(address)
        with self._lock:
            too_many = len(self._connections) >= _MAX_CONNECTIONS
        if too_many or self._stopping.is_set():
            sock.close()
            return
        sock.setblocking(True)
        connection = _Connection(sock, service, peer)
        thread = threading.Thread(
            target=self._serve,
            args=(connection,),
            name=f"mailtls-lab-{service.scheme}",
            daemon=True,
        )
        with self._lock:
            self._connections.add(connection)
            self._threads.add(thread)
        thread.start()

    # ------------------------------------------------------------------ serving

    def _record(self, connection: _Connection, kind: str, detail: str = "") -> None:
        event = LabEvent(
            round(time.monotonic() - self._started_at, 4),
            connection.service.scheme,
            connection.peer,
            kind,
            detail,
        )
        with self._lock:
            self._events.append(event)
        if self.on_event is not None:
            # A printing callback must never take a connection down.
            with contextlib.suppress(Exception):
                self.on_event(event)

    def _remember_sni(self, _sock: object, server_name: str | None, _context: object) -> None:
        self._tls_local.sni = server_name

    def _handshake(self, connection: _Connection) -> None:
        assert self._context is not None
        self._tls_local.sni = None
        connection.sock.settimeout(self.config.handshake_timeout)
        connection.sock = self._context.wrap_socket(connection.sock, server_side=True)
        assert isinstance(connection.sock, ssl.SSLSocket)
        cipher = connection.sock.cipher()
        detail = (
            f"{connection.sock.version()} {cipher[0] if cipher else ''} sni={self._tls_local.sni}"
        )
        self._record(connection, "tls", detail)

    def _serve(self, connection: _Connection) -> None:
        self._record(connection, "connected")
        dialog: ServerDialog | None = None
        try:
            if connection.service.tls_mode is TlsMode.IMPLICIT:
                try:
                    self._handshake(connection)
                except (ssl.SSLError, OSError) as exc:
                    self._record(connection, "tls_failed", _reason(exc))
                    return
            dialog = make_dialog(connection.service, self._options)
            connection.sock.settimeout(self.config.idle_timeout)
            connection.sock.sendall(dialog.greeting())
            for _ in range(1000):  # a bound on commands per connection
                if self._stopping.is_set():
                    return
                line = self._read_line(connection)
                if line is None:
                    self._record(connection, "closed", "by client")
                    return
                reply = dialog.line_too_long() if len(line) > MAX_LINE else dialog.handle(line)
                if reply.refused_credentials:
                    self._record(connection, "credentials_refused")
                connection.sock.sendall(reply.data)
                if reply.then is Then.CLOSE:
                    self._record(connection, "closed", "by server")
                    self._close_notify(connection)
                    return
                if reply.then is Then.START_TLS:
                    self._start_tls(connection, dialog, reply)
        except TimeoutError:
            self._record(connection, "timeout")
            if dialog is not None:
                with contextlib.suppress(OSError):
                    connection.sock.sendall(dialog.idle_timeout())
        except (ssl.SSLError, OSError) as exc:
            self._record(connection, "closed", _reason(exc))
        finally:
            with contextlib.suppress(OSError):
                connection.sock.close()
            with self._lock:
                self._connections.discard(connection)
                self._threads.discard(threading.current_thread())

    @staticmethod
    def _close_notify(connection: _Connection) -> None:
        """End TLS politely (close_notify), as Dovecot and Postfix do; never wait long."""
        if isinstance(connection.sock, ssl.SSLSocket):
            connection.sock.settimeout(0.5)
            with contextlib.suppress(ssl.SSLError, OSError, ValueError):
                connection.sock.unwrap()

    def _start_tls(self, connection: _Connection, dialog: ServerDialog, reply: Reply) -> None:
        # Whatever the client pipelined after STARTTLS was sent in plaintext: it must
        # not become part of the protected session (CVE-2011-0411 class), so drop it.
        connection.buffer = b""
        try:
            self._handshake(connection)
        except (ssl.SSLError, OSError) as exc:
            self._record(connection, "tls_failed", _reason(exc))
            raise
        dialog.tls_started()
        connection.sock.settimeout(self.config.idle_timeout)

    def _read_line(self, connection: _Connection) -> bytes | None:
        """One line without its ending; longer than MAX_LINE -> the first MAX_LINE+1 bytes."""
        while True:
            newline = connection.buffer.find(b"\n")
            if newline >= 0:
                line, connection.buffer = (
                    connection.buffer[:newline],
                    connection.buffer[newline + 1 :],
                )
                return line.removesuffix(b"\r")
            if len(connection.buffer) > MAX_LINE:
                line, connection.buffer = connection.buffer[: MAX_LINE + 1], b""
                return line
            data = connection.sock.recv(4096)
            if not data:
                return None
            connection.buffer += data


def service_for_scheme_checked(scheme: str) -> Service:
    try:
        return service_for_scheme(scheme)
    except KeyError:
        known = ", ".join(IPHONE_SWEEP)
        raise LabError(f"unknown scheme {scheme!r} (use {known})") from None


def _format_peer(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host = str(address[0])
        return f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"
    return str(address)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def start_lab(
    chain_pem: bytes,
    key_pem: bytes,
    *,
    bind: str = "127.0.0.1",
    ports: Mapping[str, int] | None = None,
    schemes: Sequence[str] = IPHONE_SWEEP,
    starttls: bool = True,
    auth_before_tls: bool = False,
    min_tls: str | None = None,
    max_tls: str | None = None,
    server_name: str = "mailtls-lab",
    on_event: Callable[[LabEvent], None] | None = None,
) -> Lab:
    """Start a lab serving ``chain_pem`` (PEM, leaf first, sent exactly in this order).

    ``ports`` maps schemes to ports (missing or 0: a free port). ``schemes`` picks the
    endpoint kinds (default: all 7). ``starttls=False`` serves the plaintext endpoints
    without STARTTLS; ``auth_before_tls`` advertises authentication in plaintext;
    ``min_tls``/``max_tls`` ("TLSv1" .. "TLSv1.3") set the protocol versions (default
    TLS 1.2 to 1.3; a ``max_tls`` below 1.2 lowers the default minimum with it). Raises
    :class:`~mailtls.errors.LabError` with one line when it cannot start.
    """
    config = LabConfig(
        chain_pem=chain_pem,
        key_pem=key_pem,
        bind=bind,
        ports=dict(ports or {}),
        schemes=tuple(schemes),
        starttls=starttls,
        auth_before_tls=auth_before_tls,
        min_tls=min_tls,
        max_tls=max_tls,
        server_name=server_name,
    )
    return Lab(config, on_event=on_event).start()
