"""What Dovecot and Postfix instances of the test rig share: work directories, ports,
process sessions, log watching, and a small stdlib TLS client for readiness and smoke tests.

The pitfalls these helpers handle are written down in /work/shared/real-servers.md:
directories must be traversable by the servers' unprivileged users (``/tmp/mtl.XXXXXX``,
mode 0755, short path), Postfix starts even when its port is taken (SO_REUSEPORT), the
servers load their certificate lazily (readiness is a real handshake that must present the
configured leaf), and a stopped master can linger as a zombie.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, ClassVar

#: Versions as Python's ssl module names them (and as mailtls.model.TLS_VERSIONS does).
TLS_VERSION_NAMES: dict[str, ssl.TLSVersion] = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}

#: Every cipher, weak ones included, but never anonymous: a readiness probe that allowed
#: aNULL would "succeed" against a Postfix that lost its certificate.
CLIENT_CIPHERS = "ALL:!aNULL:!eNULL:@SECLEVEL=0"

#: Where the rig's servers listen. Not 127.0.0.1: Dovecot treats a connection whose local
#: and remote addresses are equal as secured, and then offers AUTH before STARTTLS and
#: hides LOGINDISABLED. Clients connecting to 127.0.0.2 come from 127.0.0.1, as a remote
#: iPhone would; Postfix listens on the same address so that one host has all 7 endpoints.
RIG_ADDRESS = "127.0.0.2"

#: Servers cannot bind Unix sockets under long paths (sun_path is 108 bytes).
MAX_DIR_LENGTH = 70

_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.S)


class RigError(RuntimeError):
    """A real server of the test rig could not be configured, started or stopped."""


class RigUnavailable(RigError):
    """The rig cannot run here at all (not root, binaries missing): a reason to skip."""


# --------------------------------------------------------------------------- material


def pem_chain_to_der(chain_pem: bytes) -> tuple[bytes, ...]:
    """Every CERTIFICATE block of a PEM file, in file order, as DER.

    Not ``ssl.PEM_cert_to_DER_cert`` on the whole file: it silently returns garbage when
    the first block's base64 has no padding.
    """
    return tuple(
        base64.b64decode(b"".join(block.split()), validate=True)
        for block in _PEM_CERT.findall(chain_pem)
    )


def availability_problem(*binaries: str) -> str | None:
    """Why real servers cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "real Dovecot/Postfix need root (they switch to their own users)"
    missing = [b for b in binaries if not (shutil.which(b) or Path(b).exists())]
    if missing:
        return f"missing {', '.join(missing)}: run scripts/install-test-deps"
    return None


# --------------------------------------------------------------------------- directories


def make_workdir(prefix: str = "mtl.") -> Path:
    """A fresh, short, world-traversable directory under /tmp (0755, like its parent)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    if len(str(path)) > MAX_DIR_LENGTH:
        shutil.rmtree(path, ignore_errors=True)
        raise RigError(f"work directory path too long for Unix sockets: {path}")
    return path


def write_file(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    """Write ``data`` and set ``mode`` (keys are 0600: both servers read them as root)."""
    if isinstance(data, str):
        data = data.encode()
    # Created with its mode, so a key is never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as file:
        os.fchmod(file.fileno(), mode)
        file.write(data)


def backdate(*paths: Path, seconds: int = 10) -> None:
    """Postfix distrusts (and waits ~2 s for) a config file whose mtime is not in the past."""
    when = time.time() - seconds
    for path in paths:
        os.utime(path, (when, when))


# --------------------------------------------------------------------------- ports

_reserved_ports: set[int] = set()
_ports_lock = threading.Lock()


def port_is_free(port: int, host: str = RIG_ADDRESS) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Like the servers: connections in TIME_WAIT do not block a new listener.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def reserve_ports(count: int, host: str = RIG_ADDRESS) -> list[int]:
    """``count`` ports free right now and not handed out before in this process.

    Chosen below the kernel's ephemeral range, so that outgoing connections of the tests
    do not take them between reservation and the server's bind.
    """
    chosen: list[int] = []
    rng = random.Random()
    with _ports_lock:
        for _ in range(2000):
            if len(chosen) == count:
                break
            port = rng.randrange(20000, 32000)
            if port in _reserved_ports or port in chosen:
                continue
            if port_is_free(port, host):
                chosen.append(port)
        if len(chosen) != count:
            raise RigError(f"could not find {count} free ports on {host}")
        _reserved_ports.update(chosen)
    return chosen


# --------------------------------------------------------------------------- processes


def session_processes(sid: int) -> list[tuple[int, str]]:
    """(pid, state) of every process in session ``sid`` (state "Z" is a zombie)."""
    found: list[tuple[int, str]] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp session ..." - comm may contain spaces or parens.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 3 and int(fields[3]) == sid:
            found.append((int(entry.name), fields[0]))
    return found


def kill_session(sid: int, timeout: float = 5.0) -> None:
    """SIGKILL every process of a session, then wait until only zombies are left.

    Orphaned children are reaped by PID 1, sometimes late: a zombie holds no port, no
    file and no lock, so it counts as gone.
    """
    deadline = time.monotonic() + timeout
    while True:
        alive = [pid for pid, state in session_processes(sid) if state != "Z"]
        if not alive:
            return
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise RigError(f"processes of session {sid} survived SIGKILL: {alive}")
        time.sleep(0.01)


_WATCHDOG = """
import os, shutil, signal, sys
sessions = {}
for line in sys.stdin:
    sid, _, directory = line.rstrip("\\n").partition(" ")
    if int(sid) > 0:
        sessions[int(sid)] = directory
    else:
        sessions.pop(-int(sid), None)
for sid, directory in sessions.items():
    try:
        os.killpg(sid, signal.SIGKILL)
    except OSError:
        pass
    if directory.startswith("/tmp/mtl."):
        shutil.rmtree(directory, ignore_errors=True)
"""
_watchdog: subprocess.Popen[str] | None = None
_watchdog_lock = threading.Lock()


def _watch(sid: int, directory: Path | None = None) -> None:
    """Tell the watchdog about a session to kill and its directory (negative: forget it).

    A SIGKILL-ed or crashed test process cannot stop its servers, and Postfix's master
    drops a parent-death signal when it switches its effective uid. The watchdog, a
    separate process reading our pipe, kills every session still registered when the
    pipe closes, however the test process ended, and removes its work directory.
    """
    global _watchdog
    with _watchdog_lock:
        if _watchdog is None or _watchdog.poll() is not None:
            _watchdog = subprocess.Popen(
                [sys.executable, "-c", _WATCHDOG],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
                start_new_session=True,
            )
            atexit.register(_stop_watchdog)
        assert _watchdog.stdin is not None
        _watchdog.stdin.write(f"{sid} {directory or ''}\n")
        _watchdog.stdin.flush()


def _stop_watchdog() -> None:
    global _watchdog
    with _watchdog_lock:
        if _watchdog is not None:
            assert _watchdog.stdin is not None
            _watchdog.stdin.close()
            _watchdog.wait()
            _watchdog = None


# --------------------------------------------------------------------------- logs


class LogWatch:
    """Reads a server log from ``offset`` (where this run began) and spots fatal lines."""

    def __init__(self, path: Path, fatal: Sequence[str], offset: int = 0) -> None:
        self.path = path
        self.offset = offset
        self._fatal = re.compile("|".join(fatal)) if fatal else None

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def text(self) -> str:
        try:
            with self.path.open("rb") as log:
                log.seek(self.offset)
                return log.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def first_fatal_line(self) -> str | None:
        if self._fatal is None:
            return None
        for line in self.text().splitlines():
            if self._fatal.search(line):
                return line.strip()
        return None

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.text().splitlines()[-lines:])


# --------------------------------------------------------------------------- TLS client


@dataclass(frozen=True)
class Handshake:
    """What a plain stdlib client saw on one endpoint."""

    scheme: str
    port: int
    chain: tuple[bytes, ...]  # DER, as presented
    tls_version: str
    cipher: str
    before_tls: tuple[str, ...] = ()  # greeting and capability lines, STARTTLS variants

    @property
    def leaf(self) -> bytes:
        return self.chain[0]


IMPLICIT_SCHEMES = frozenset({"imaps", "pop3s", "submissions"})
STARTTLS_SCHEMES = frozenset({"imap", "pop3", "smtp", "submission"})


def client_context(tls_min: str | None = "TLSv1", tls_max: str | None = None) -> ssl.SSLContext:
    """No verification (we want any chain), every non-anonymous cipher, old TLS allowed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers(CLIENT_CIPHERS)
    with warnings.catch_warnings():
        # Python deprecates TLS 1.0/1.1 constants; serving and seeing them is the point.
        warnings.simplefilter("ignore", DeprecationWarning)
        if tls_min:
            context.minimum_version = TLS_VERSION_NAMES[tls_min]
        if tls_max:
            context.maximum_version = TLS_VERSION_NAMES[tls_max]
    return context


class _LineReader:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def line(self) -> str:
        while b"\n" not in self._buffer:
            data = self._sock.recv(4096)
            if not data:
                raise ConnectionError(f"connection closed; got {self._buffer!r}")
            self._buffer += data
            if len(self._buffer) > 65536:
                raise ConnectionError("reply too long")
        raw, _, self._buffer = self._buffer.partition(b"\n")
        return raw.decode("latin-1").rstrip("\r")

    @property
    def pending(self) -> bytes:
        return self._buffer


def _smtp_reply(reader: _LineReader, lines: list[str]) -> str:
    while True:
        line = reader.line()
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return line


def _starttls_dialog(scheme: str, sock: socket.socket) -> tuple[str, ...]:
    reader = _LineReader(sock)
    lines: list[str] = []
    if scheme == "imap":
        lines.append(reader.line())
        sock.sendall(b"a1 CAPABILITY\r\n")
        while not (line := reader.line()).startswith("a1 "):
            lines.append(line)
        sock.sendall(b"a2 STARTTLS\r\n")
        while not (line := reader.line()).startswith("a2 "):
            pass
        if not line.startswith("a2 OK"):
            raise ConnectionError(f"STARTTLS refused: {line}")
    elif scheme == "pop3":
        lines.append(reader.line())
        sock.sendall(b"CAPA\r\n")
        if (line := reader.line()).startswith("+OK"):
            while (line := reader.line()) != ".":
                lines.append(line)
        sock.sendall(b"STLS\r\n")
        if not (line := reader.line()).startswith("+OK"):
            raise ConnectionError(f"STLS refused: {line}")
    else:
        _smtp_reply(reader, lines)
        sock.sendall(b"EHLO rig.test\r\n")
        _smtp_reply(reader, lines)
        sock.sendall(b"STARTTLS\r\n")
        if not (line := _smtp_reply(reader, [])).startswith("220"):
            raise ConnectionError(f"STARTTLS refused: {line}")
    if reader.pending:
        raise ConnectionError(f"plaintext after STARTTLS: {reader.pending!r}")
    return tuple(lines)


def _presented_chain(tls: ssl.SSLSocket) -> tuple[bytes, ...]:
    """The chain as the server sent it (private API before Python 3.13)."""
    public = getattr(tls, "get_unverified_chain", None)
    if public is not None:  # Python >= 3.13
        return tuple(public())
    certificates = tls._sslobj.get_unverified_chain()  # type: ignore[attr-defined]
    return tuple(c.public_bytes(ssl._ssl.ENCODING_DER) for c in certificates or ())  # type: ignore[attr-defined]


def handshake(
    scheme: str,
    port: int,
    *,
    address: str = RIG_ADDRESS,
    server_name: str | None = "mail.example.test",
    tls_min: str | None = "TLSv1",
    tls_max: str | None = None,
    timeout: float = 5.0,
) -> Handshake:
    """Connect, run the STARTTLS dialog if the scheme has one, and shake hands."""
    context = client_context(tls_min, tls_max)
    with socket.create_connection((address, port), timeout=timeout) as sock:
        before: tuple[str, ...] = ()
        if scheme in STARTTLS_SCHEMES:
            before = _starttls_dialog(scheme, sock)
        elif scheme not in IMPLICIT_SCHEMES:
            raise ValueError(f"unknown scheme {scheme!r}")
        with context.wrap_socket(sock, server_hostname=server_name) as tls:
            chain = _presented_chain(tls)
            version = tls.version() or ""
            cipher = (tls.cipher() or ("", "", 0))[0]
            with contextlib.suppress(OSError):
                tls.unwrap()
    return Handshake(scheme, port, chain, version, cipher, before)


# --------------------------------------------------------------------------- instances


@dataclass(eq=False)
class RealServer:
    """Base of DovecotInstance and PostfixInstance: one server, its directory and ports.

    Use as a context manager, or ``start()``/``stop()``. ``ports`` maps each scheme the
    server offers to its port on ``address`` (RIG_ADDRESS, a loopback address).
    """

    SCHEMES: ClassVar[tuple[str, ...]] = ()
    BINARIES: ClassVar[tuple[str, ...]] = ()
    FATAL_LOG_PATTERNS: ClassVar[tuple[str, ...]] = ()
    KIND: ClassVar[str] = "server"

    chain_pem: bytes
    key_pem: bytes
    weak_ok: bool = True
    tls_min: str | None = None
    tls_max: str | None = None
    name: str = ""
    ready_timeout: float = 15.0
    address: str = RIG_ADDRESS
    ports: dict[str, int] = field(default_factory=dict)
    directory: Path | None = None
    start_seconds: float | None = None
    stop_seconds: float | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _output: IO[bytes] | None = field(default=None, repr=False)
    _log_offset: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        for bound in (self.tls_min, self.tls_max):
            if bound is not None and bound not in TLS_VERSION_NAMES:
                raise ValueError(
                    f"unknown TLS version {bound!r}; use one of {list(TLS_VERSION_NAMES)}"
                )
        self.chain_der = pem_chain_to_der(self.chain_pem)
        if not self.chain_der:
            raise ValueError("chain_pem holds no CERTIFICATE block")
        if not self.name:
            self.name = self.KIND

    # ---- to be provided by subclasses
    def _configure(self, directory: Path) -> list[str]:
        """Write the configuration into ``directory``; return the foreground command."""
        raise NotImplementedError

    @property
    def log_path(self) -> Path:
        raise NotImplementedError

    # ---- lifecycle
    @property
    def kind(self) -> str:
        return self.KIND

    @property
    def leaf_der(self) -> bytes:
        return self.chain_der[0]

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log(self) -> LogWatch:
        """The log of the current run (a restart in the same directory appends to it)."""
        return LogWatch(self.log_path, self.FATAL_LOG_PATTERNS, self._log_offset)

    def url(self, scheme: str, host: str = "mail.example.test") -> str:
        return f"{scheme}://{host}:{self.ports[scheme]}"

    def urls(self, host: str = "mail.example.test") -> list[str]:
        return [self.url(scheme, host) for scheme in self.SCHEMES]

    def launch(self) -> None:
        """Configure and spawn the master; returns at once (see ``wait_ready``)."""
        problem = availability_problem(*self.BINARIES)
        if problem:
            raise RigUnavailable(problem)
        if self._process is not None:
            raise RigError(f"{self.name} already started")
        self._started_at = time.monotonic()
        if self.directory is None:
            self.directory = make_workdir(f"mtl.{self.KIND[:2]}.")
        if not self.ports:
            self.ports = dict(zip(self.SCHEMES, reserve_ports(len(self.SCHEMES)), strict=True))
        taken = [p for p in self.ports.values() if not port_is_free(p, self.address)]
        if taken:
            raise RigError(f"{self.name}: ports already in use: {taken}")
        command = self._configure(self.directory)
        self._log_offset = LogWatch(self.log_path, ()).size()
        self._output = (self.directory / "stdout.log").open("ab")
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.directory,
        )
        _watch(self._process.pid, self.directory)

    def wait_ready(self) -> None:
        """Return once every port presents the configured leaf; fail fast on a log error."""
        assert self._process is not None and self.directory is not None
        deadline = self._started_at + self.ready_timeout
        pending = list(self.SCHEMES)
        last_error = "no attempt yet"
        while pending:
            if self._process.poll() is not None:
                self._fail(f"exited with status {self._process.returncode}")
            fatal = self.log.first_fatal_line()
            if fatal:
                self._fail(f"log says: {fatal}")
            scheme = pending[0]
            try:
                seen = handshake(scheme, self.ports[scheme], address=self.address, timeout=2.0)
            except (OSError, ssl.SSLError, ConnectionError) as exc:
                last_error = f"{scheme}: {exc}"
            else:
                if not seen.chain:
                    self._fail(f"{scheme} port {seen.port} presents no certificate")
                if seen.leaf != self.leaf_der:
                    self._fail(f"{scheme} port {seen.port} presents another certificate")
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                self._fail(f"not ready after {self.ready_timeout:.0f} s ({last_error})")
            time.sleep(0.05)
        self.start_seconds = time.monotonic() - self._started_at

    def _fail(self, why: str) -> None:
        tail = self.log.tail()
        output = ""
        if self.directory is not None:
            with contextlib.suppress(OSError):
                output = (self.directory / "stdout.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RigError(
            f"{self.name} ({self.directory}): {why}\n--- log tail ---\n{tail}"
            + (f"\n--- output ---\n{output}" if output.strip() else "")
        )

    def start(self) -> RealServer:
        """Launch and wait until ready; on failure nothing is left running or on disk."""
        try:
            self.launch()
            self.wait_ready()
        except BaseException:
            self.cleanup()
            raise
        return self

    def stop(self) -> None:
        """SIGKILL the whole process session: a graceful Dovecot stop takes over a second."""
        process, self._process = self._process, None
        if process is None:
            return
        began = time.monotonic()
        kill_session(process.pid)
        process.wait()
        _watch(-process.pid)
        if self._output is not None:
            self._output.close()
            self._output = None
        self.stop_seconds = time.monotonic() - began

    def cleanup(self) -> None:
        """Stop and remove the work directory."""
        self.stop()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self) -> RealServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def start_all(servers: Iterable[RealServer]) -> list[RealServer]:
    """Start several servers at once: spawn every master first, then wait for each."""
    started: list[RealServer] = []
    servers = list(servers)
    try:
        for server in servers:
            server.launch()
            started.append(server)
        for server in servers:
            server.wait_ready()
    except BaseException:
        for server in started:
            server.cleanup()
        raise
    return servers


def stop_all(servers: Iterable[RealServer]) -> None:
    """Stop and clean up several servers: SIGKILL every master's group first, then reap."""
    servers = list(servers)
    for server in servers:
        if server._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server._process.pid, signal.SIGKILL)
    for server in servers:
        server.cleanup()


@contextlib.contextmanager
def running(*servers: RealServer) -> Iterator[tuple[RealServer, ...]]:
    """``with running(a, b) as (a, b):`` start side by side, clean up both."""
    start_all(servers)
    try:
        yield servers
    finally:
        stop_all(servers)


def timed(function: Callable[[], object]) -> float:
    began = time.monotonic()
    function()
    return time.monotonic() - began
