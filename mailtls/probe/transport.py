"""The one socket driver: connect, run a sans-I/O dialog, run the TLS handshake.

Everything here is asyncio on non-blocking sockets. Each phase has its own time budget
(:class:`~mailtls.probe.options.Timeouts`) and every wait is also capped by the endpoint's
overall deadline, so a silent port, a server that drips bytes or one that never ends a line
always ends as data: a :class:`~mailtls.model.ProbeResult` with a status, the phase and a
one-line reason. Nothing read after a STARTTLS go-ahead and before the handshake is ever
handed to TLS; its presence is recorded (``Capabilities.injected_plaintext``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

from mailtls.model import (
    TLS_VERSIONS,
    Capabilities,
    Endpoint,
    Phase,
    ProbeResult,
    Protocol,
    Status,
    TlsMode,
)
from mailtls.probe.dialog import Dialog, Event, NoTls, Send, StartTls
from mailtls.probe.imap import ImapDialog
from mailtls.probe.options import ProbeOptions
from mailtls.probe.pop3 import Pop3Dialog
from mailtls.probe.smtp import SmtpDialog
from mailtls.probe.tls import HandshakeDone, HandshakeError, TlsHandshake

T = TypeVar("T")

_RECV_SIZE = 65536
#: Most bytes drained from the socket right after a STARTTLS go-ahead (injection check).
_MAX_DRAIN = 64 * 1024


class ProbeFailure(Exception):
    """One attempt ended early; carries the result fields (internal to the driver)."""

    def __init__(
        self,
        status: Status,
        phase: Phase,
        reason: str,
        capabilities: Capabilities | None = None,
        *,
        tls_refused: bool = False,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.phase = phase
        self.reason = reason
        self.capabilities = capabilities
        self.tls_refused = tls_refused


@dataclass(frozen=True, slots=True)
class Capture:
    tls_version: str
    cipher: str
    chain: tuple[bytes, ...]
    capabilities: Capabilities | None


def make_dialog(protocol: Protocol, options: ProbeOptions) -> Dialog:
    if protocol is Protocol.SMTP:
        return SmtpDialog(options.ehlo_name)
    if protocol is Protocol.IMAP:
        return ImapDialog()
    return Pop3Dialog()


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _seconds(value: float) -> str:
    return f"{value:g} s"


class _Clock:
    """Per-phase budgets capped by the overall deadline (time.monotonic seconds)."""

    def __init__(self, deadline_at: float, deadline: float) -> None:
        self.deadline_at = deadline_at
        self.deadline = deadline

    def remaining(self, phase_at: float) -> float:
        return min(phase_at, self.deadline_at) - time.monotonic()

    def timeout_reason(self, phase_at: float, budget: float, what: str) -> str:
        if self.deadline_at <= phase_at:
            return f"overall deadline of {_seconds(self.deadline)} reached while waiting for {what}"
        return f"timed out after {_seconds(budget)} waiting for {what}"


async def _wait(awaitable: Awaitable[T], clock: _Clock, phase_at: float) -> T:
    """Await within the phase's budget and the deadline; TimeoutError when either runs out.

    A timeout block rather than ``wait_for``: no extra task for each of a probe's waits.
    """
    async with asyncio.timeout(max(0.0, clock.remaining(phase_at))):
        return await awaitable


async def _connect(address: str, port: int, clock: _Clock, budget: float) -> socket.socket:
    """A connected non-blocking socket to ``address`` (an IP literal) and ``port``."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    phase_at = time.monotonic() + budget
    try:
        await _wait(loop.sock_connect(sock, (address, port)), clock, phase_at)
    except TimeoutError:
        sock.close()
        raise ProbeFailure(
            Status.TIMEOUT,
            Phase.CONNECT,
            clock.timeout_reason(phase_at, budget, "the TCP connection to be accepted")
            + " (a firewall may drop it, or the host is down)",
        ) from None
    except ConnectionRefusedError:
        sock.close()
        raise ProbeFailure(
            Status.REFUSED,
            Phase.CONNECT,
            "connection refused: nothing listens on this port, or a firewall rejects the connection",
        ) from None
    except OSError as exc:
        sock.close()
        unreachable = exc.errno in (
            errno.ENETUNREACH,
            errno.EHOSTUNREACH,
            errno.EADDRNOTAVAIL,
            errno.ENETDOWN,
            errno.EHOSTDOWN,
        )
        raise ProbeFailure(
            Status.UNREACHABLE if unreachable else Status.ERROR,
            Phase.CONNECT,
            f"cannot connect to {address} port {port}: {exc.strerror or exc}",
        ) from None
    except BaseException:
        sock.close()
        raise
    return sock


async def _recv(sock: socket.socket, clock: _Clock, phase_at: float) -> bytes:
    """What the server sent next (b"" when it closed); TimeoutError past the budget.

    Bytes already waiting are read at once while time remains; a server that floods is
    still stopped by the budget and the deadline, and the other probes get their turn (one
    yield to the event loop per read).
    """
    try:
        if clock.remaining(phase_at) > 0:
            data = sock.recv(_RECV_SIZE)
            await asyncio.sleep(0)
            return data
    except (BlockingIOError, InterruptedError):
        pass
    except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        return b""
    loop = asyncio.get_running_loop()
    try:
        return await _wait(loop.sock_recv(sock, _RECV_SIZE), clock, phase_at)
    except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        return b""


async def _send(sock: socket.socket, data: bytes, clock: _Clock, phase_at: float) -> None:
    """Send all of ``data`` within the budget (at once when the socket takes it all)."""
    if not data:
        return
    try:
        sent = sock.send(data)
    except (BlockingIOError, InterruptedError):
        sent = 0
    if sent < len(data):
        loop = asyncio.get_running_loop()
        await _wait(loop.sock_sendall(sock, data[sent:]), clock, phase_at)


def _budget(phase: Phase, options: ProbeOptions) -> float:
    t = options.timeouts
    return {Phase.GREETING: t.greeting, Phase.HANDSHAKE: t.handshake, Phase.CONNECT: t.connect}.get(
        phase, t.starttls
    )


def _drain(sock: socket.socket) -> bytes:
    """Whatever has already arrived on the socket, without waiting."""
    received = b""
    while len(received) < _MAX_DRAIN:
        try:
            chunk = sock.recv(_RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            break
        except OSError:
            break
        if not chunk:
            break
        received += chunk
    return received


def _say_goodbye(sock: socket.socket, data: bytes) -> None:
    """Send a polite QUIT/LOGOUT without waiting for its answer (best effort)."""
    if not data:
        return
    with contextlib.suppress(OSError):
        sock.send(data)


async def _plaintext_dialog(
    sock: socket.socket, dialog: Dialog, clock: _Clock, options: ProbeOptions
) -> StartTls:
    """Run the dialog until it ends; return the go-ahead or raise ProbeFailure."""
    phase = dialog.phase
    budget = _budget(phase, options)
    phase_at = time.monotonic() + budget
    pending: deque[Event] = deque()
    received = 0
    while True:
        while pending:
            event = pending.popleft()
            if isinstance(event, Send):
                try:
                    await _send(sock, event.data, clock, phase_at)
                except (ConnectionResetError, BrokenPipeError):
                    pending.extend(dialog.closed())
            elif isinstance(event, StartTls):
                return event
            elif isinstance(event, NoTls):
                _say_goodbye(sock, dialog.quit_command)
                raise ProbeFailure(Status.NO_TLS, dialog.phase, event.reason, event.capabilities)
            else:
                raise ProbeFailure(Status.PROTOCOL_ERROR, event.phase, event.reason)
        if dialog.phase is not phase:
            phase = dialog.phase
            budget = _budget(phase, options)
            phase_at = time.monotonic() + budget
        try:
            data = await _recv(sock, clock, phase_at)
        except TimeoutError:
            partial = dialog.reader.pending
            extra = f" (received {len(partial)} bytes without an end of line)" if partial else ""
            if phase is Phase.GREETING and not partial and not received:
                extra = " (nothing received: the port may expect implicit TLS, or the server is overloaded)"
            raise ProbeFailure(
                Status.TIMEOUT,
                phase,
                clock.timeout_reason(phase_at, budget, dialog.waiting_for) + extra,
            ) from None
        received += len(data)
        pending.extend(dialog.receive(data) if data else dialog.closed())


async def _handshake(
    sock: socket.socket,
    server_name: str | None,
    version: str | None,
    clock: _Clock,
    options: ProbeOptions,
    highest: str | None = None,
) -> tuple[TlsHandshake, HandshakeDone]:
    budget = options.timeouts.handshake
    phase_at = time.monotonic() + budget
    try:
        tls = TlsHandshake(server_name, version, highest)
        output, done = tls.start()
        while done is None:
            try:
                await _send(sock, output, clock, phase_at)
            except (ConnectionResetError, BrokenPipeError):
                output, done = tls.closed()
                continue
            data = await _recv(sock, clock, phase_at)
            output, done = tls.receive(data) if data else tls.closed()
        await _send(sock, output, clock, phase_at)
    except TimeoutError:
        raise ProbeFailure(
            Status.TIMEOUT,
            Phase.HANDSHAKE,
            clock.timeout_reason(phase_at, budget, "the end of the TLS handshake"),
        ) from None
    except HandshakeError as exc:
        raise ProbeFailure(
            Status.ERROR if exc.local else Status.HANDSHAKE_FAILED,
            Phase.HANDSHAKE,
            str(exc),
            tls_refused=exc.tls_refused,
        ) from None
    return tls, done


async def attempt(
    endpoint: Endpoint,
    address: str,
    options: ProbeOptions,
    clock: _Clock,
    version: str | None = None,
    highest: str | None = None,
) -> Capture:
    """One connection: connect, dialog (STARTTLS kinds), handshake, goodbye, close."""
    sock = await _connect(address, endpoint.port, clock, options.timeouts.connect)
    try:
        dialog = make_dialog(endpoint.protocol, options)
        capabilities: Capabilities | None = None
        if endpoint.tls_mode is TlsMode.STARTTLS:
            go_ahead = await _plaintext_dialog(sock, dialog, clock, options)
            injected = go_ahead.leftover + _drain(sock)
            capabilities = replace(go_ahead.capabilities, injected_plaintext=bool(injected))
        server_name = None if _is_ip(endpoint.host) else endpoint.host
        try:
            tls, done = await _handshake(sock, server_name, version, clock, options, highest)
        except ProbeFailure as failure:
            failure.capabilities = capabilities
            raise
        # Say goodbye inside TLS, then close_notify; never wait for the answer.
        _say_goodbye(sock, tls.encrypt(dialog.quit_command) + tls.close_notify())
        return Capture(done.tls_version, done.cipher, done.chain, capabilities)
    finally:
        sock.close()


def _prefix(endpoint: Endpoint, address: str, phase: Phase) -> str:
    at = f" at {address}" if address != endpoint.host else ""
    return f"{endpoint.url}{at} [{phase}]"


async def _accepted_versions(
    endpoint: Endpoint, address: str, options: ProbeOptions, clock: _Clock, negotiated: str
) -> dict[str, bool | None]:
    """Which versions the server accepts: negotiated is True, newer ones are False (we
    offered them and the server chose lower), older ones get one pinned handshake each,
    except TLS 1.0 and 1.1, which share one hello (see ``shared``)."""
    accepted: dict[str, bool | None] = dict.fromkeys(TLS_VERSIONS)
    if negotiated not in TLS_VERSIONS:
        return accepted
    position = TLS_VERSIONS.index(negotiated)
    accepted[negotiated] = True
    for newer in TLS_VERSIONS[position + 1 :]:
        accepted[newer] = False
    older = list(TLS_VERSIONS[:position])

    async def one(version: str, highest: str | None = None) -> str | bool | None:
        """The version the server chose, False when it refused, None when unknown."""
        try:
            capture = await attempt(endpoint, address, options, clock, version, highest)
        except ProbeFailure as failure:
            if failure.status is Status.HANDSHAKE_FAILED and failure.tls_refused:
                return False
            return None
        return capture.tls_version

    async def pinned(version: str) -> None:
        chosen = await one(version)
        accepted[version] = chosen if chosen is None or chosen is False else True

    async def shared(low: str, high: str) -> None:
        # One ClientHello offers both (most servers refuse both: one connection instead of
        # two); the server picks the higher it accepts, so only a server choosing
        # `high` needs a pinned try of `low`.
        chosen = await one(low, high)
        if chosen == high:
            accepted[high] = True
            await pinned(low)
        elif chosen == low:
            accepted[low], accepted[high] = True, False
        elif chosen is None or chosen is False:
            accepted[low] = accepted[high] = chosen

    jobs = []
    if older[:2] == ["TLSv1", "TLSv1.1"]:
        jobs.append(shared("TLSv1", "TLSv1.1"))
        older = older[2:]
    jobs.extend(pinned(version) for version in older)
    tasks = [asyncio.ensure_future(job) for job in jobs]
    if tasks:
        _done, pending = await asyncio.wait(
            tasks, timeout=max(0.0, clock.deadline_at - time.monotonic())
        )
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        for task in tasks:  # a bug in one try leaves its versions unknown, never raises
            if not task.cancelled():
                task.exception()
    return accepted


async def probe_endpoint(endpoint: Endpoint, options: ProbeOptions) -> ProbeResult:
    """Probe one endpoint; never raises (except cancellation): failures are data.

    ``endpoint.address`` is the IP connected to; ``endpoint.host`` is used for SNI. An
    endpoint without an address is resolved first (its first address is probed).
    """
    started_at = datetime.now(UTC)
    start = time.monotonic()
    clock = _Clock(start + options.deadline, options.deadline)

    def stamp(probe_result: ProbeResult) -> ProbeResult:
        elapsed = round((time.monotonic() - start) * 1000.0, 1)
        error = " ".join(probe_result.error.split()) if probe_result.error else None
        return replace(probe_result, elapsed_ms=elapsed, started_at=started_at, error=error)

    address = endpoint.address
    if address is None:
        if not _is_ip(endpoint.host):
            reason = await _resolve_first(endpoint, options, clock)
            if isinstance(reason, str):
                return stamp(ProbeResult(endpoint, Status.DNS_ERROR, Phase.DNS, reason))
            endpoint = reason
        else:
            endpoint = endpoint.with_address(endpoint.host)
        address = endpoint.address or endpoint.host
    try:
        # A safety net over the per-wait caps: nothing outlives the deadline by much.
        async with asyncio.timeout(options.deadline + 0.5):
            capture = await attempt(endpoint, address, options, clock)
    except ProbeFailure as failure:
        error = f"{_prefix(endpoint, address, failure.phase)}: {failure.reason}"
        return stamp(
            ProbeResult(
                endpoint, failure.status, failure.phase, error, capabilities=failure.capabilities
            )
        )
    except TimeoutError:
        error = (
            f"{endpoint.url} [deadline]: overall deadline of {_seconds(options.deadline)} reached"
        )
        return stamp(ProbeResult(endpoint, Status.TIMEOUT, None, error))
    except Exception as exc:  # a bug in mailtls: still data, never lost
        error = f"{endpoint.url}: internal error: {type(exc).__name__}: {exc}"
        return stamp(ProbeResult(endpoint, Status.ERROR, None, error))
    accepted: dict[str, bool | None] = {}
    if options.check_versions:
        try:
            accepted = await _accepted_versions(
                endpoint, address, options, clock, capture.tls_version
            )
        except Exception:
            accepted = dict.fromkeys(TLS_VERSIONS)
            accepted[capture.tls_version] = True
    return stamp(
        ProbeResult(
            endpoint,
            Status.OK,
            tls_version=capture.tls_version,
            cipher=capture.cipher,
            chain=capture.chain,
            accepted_tls_versions=accepted,
            capabilities=capture.capabilities,
        )
    )


async def _resolve_first(
    endpoint: Endpoint, options: ProbeOptions, clock: _Clock
) -> Endpoint | str:
    """The endpoint with its first DNS address, or the one-line DNS error."""
    from mailtls.dns import DnsLookupError, resolve_addresses

    try:
        async with asyncio.timeout(max(0.0, clock.remaining(clock.deadline_at))):
            addresses = await resolve_addresses(
                endpoint.host, options.nameserver, options.timeouts.connect
            )
    except DnsLookupError as exc:
        return f"{endpoint.url} [dns]: {exc}"
    except TimeoutError:
        return f"{endpoint.url} [dns]: no DNS answer before the deadline"
    return endpoint.with_address(addresses[0])


async def probe_all(
    endpoints: Sequence[Endpoint],
    options: ProbeOptions,
    on_result: Callable[[ProbeResult], None] | None = None,
) -> list[ProbeResult]:
    """Probe every endpoint concurrently (at most ``options.concurrency`` at a time).

    Results come back in input order; ``on_result`` is called as each one finishes.
    """
    semaphore = asyncio.Semaphore(max(1, options.concurrency))
    results: list[ProbeResult | None] = [None] * len(endpoints)

    async def one(index: int, endpoint: Endpoint) -> None:
        async with semaphore:
            probe_result = await probe_endpoint(endpoint, options)
        results[index] = probe_result
        if on_result is not None:
            on_result(probe_result)

    async with asyncio.TaskGroup() as group:
        for index, endpoint in enumerate(endpoints):
            group.create_task(one(index, endpoint))
    return [r for r in results if r is not None]


def probe_sync(
    endpoints: Sequence[Endpoint],
    options: ProbeOptions,
    on_result: Callable[[ProbeResult], None] | None = None,
) -> list[ProbeResult]:
    """:func:`probe_all` for callers without an event loop."""
    return asyncio.run(probe_all(endpoints, options, on_result))
