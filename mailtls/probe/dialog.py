"""What every sans-I/O mail dialog shares: events, a bounded line reader, the base class.

A dialog never touches a socket. The driver (:mod:`mailtls.probe.transport`) feeds it the
bytes the server sent (``receive``) or tells it the server closed (``closed``), and acts on
the events it returns: :class:`Send` bytes, then eventually exactly one terminal event:
:class:`StartTls` (the server said "go ahead"), :class:`NoTls` (STARTTLS refused or not
offered) or :class:`DialogFailed` (the server said something we cannot follow, or closed).

Replies are read whole (multi-line SMTP replies, IMAP untagged lines up to the tagged one,
POP3 multi-line responses up to ".") and bounded: :data:`MAX_LINE` bytes per line and
:data:`MAX_REPLY` bytes per reply, so a hostile server cannot make us buffer megabytes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from mailtls.model import Capabilities, Phase

#: Longest line accepted (RFC 5321 allows 512 for SMTP replies; IMAP capability lines of
#: real servers stay well below 4 KiB).
MAX_LINE = 8192
#: Most bytes accepted for one reply (greeting, EHLO, CAPABILITY, CAPA, STARTTLS answer).
MAX_REPLY = 64 * 1024
#: Longest excerpt of server text quoted in a reason.
QUOTE_LIMIT = 80


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Send:
    """Bytes to send to the server."""

    data: bytes


@dataclass(frozen=True, slots=True)
class StartTls:
    """The server said "go ahead": start the TLS handshake now.

    ``leftover`` holds bytes that arrived after the go-ahead line. They must never be fed to
    TLS or read as protected data; their presence is reported (STARTTLS injection).
    """

    capabilities: Capabilities
    leftover: bytes = b""


@dataclass(frozen=True, slots=True)
class NoTls:
    """STARTTLS is not offered or was refused; ``reason`` is one line for a person."""

    reason: str
    capabilities: Capabilities


@dataclass(frozen=True, slots=True)
class DialogFailed:
    """The server said something we cannot follow, or closed the connection."""

    reason: str
    phase: Phase
    closed: bool = False  # True when the server closed the connection


Event = Send | StartTls | NoTls | DialogFailed


class ReplyTooLong(Exception):
    """A line or a reply went over its bound (internal to the dialogs)."""


def quote(data: bytes | str, limit: int = QUOTE_LIMIT) -> str:
    """Server text made safe for a one-line reason: printable, short, quoted."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 3] + "..."
    return repr(cleaned)


class LineReader:
    """Splits received bytes into lines (CRLF or bare LF), enforcing the bounds."""

    def __init__(self, max_line: int = MAX_LINE, max_reply: int = MAX_REPLY) -> None:
        self.max_line = max_line
        self.max_reply = max_reply
        self._buffer = bytearray()
        self._reply_bytes = 0

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def start_reply(self) -> None:
        """Reset the per-reply byte count (call when a new command is sent)."""
        self._reply_bytes = 0

    def next_line(self) -> str | None:
        """Return the next complete line without its line ending, or None if incomplete."""
        end = self._buffer.find(b"\n")
        if end < 0:
            if len(self._buffer) > self.max_line:
                raise ReplyTooLong(
                    f"a line longer than {self.max_line} bytes without an end of line"
                )
            return None
        if end + 1 > self.max_line:
            raise ReplyTooLong(f"a line longer than {self.max_line} bytes")
        raw = bytes(self._buffer[: end + 1])
        del self._buffer[: end + 1]
        self._reply_bytes += len(raw)
        if self._reply_bytes > self.max_reply:
            raise ReplyTooLong(f"a reply longer than {self.max_reply // 1024} KiB")
        return raw.rstrip(b"\r\n").decode("utf-8", "replace")

    def take_rest(self) -> bytes:
        """Everything buffered after the last complete line (and forget it)."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest

    @property
    def pending(self) -> bytes:
        return bytes(self._buffer)


class Dialog(ABC):
    """Base of the IMAP, POP3 and SMTP dialogs (sans-I/O).

    Subclasses implement :meth:`_on_line`; they call :meth:`_send`, :meth:`_finish` and read
    :attr:`reader`. ``phase`` and ``waiting_for`` tell the driver which timeout applies and
    what to say when it runs out.
    """

    #: The command that ends the session politely (sent after capture).
    quit_command: bytes = b""

    def __init__(self) -> None:
        self.reader = LineReader()
        self.phase: Phase = Phase.GREETING
        self.waiting_for = "the greeting"
        self.greeting = ""
        self.raw: list[str] = []
        self.finished: Event | None = None
        self._events: list[Event] = []

    # -- driver side ------------------------------------------------------------------

    def receive(self, data: bytes) -> list[Event]:
        """Feed bytes from the server; returns the events they cause."""
        if self.finished is not None:
            return []
        self.reader.feed(data)
        try:
            while self.finished is None:
                line = self.reader.next_line()
                if line is None:
                    break
                self._on_line(line)
        except ReplyTooLong as exc:
            self._fail(f"server sent {exc} while we waited for {self.waiting_for}")
        events, self._events = self._events, []
        return events

    def closed(self) -> list[Event]:
        """The server closed the connection."""
        if self.finished is not None:
            return []
        pending = self.reader.pending
        got = f" after sending {quote(pending)}" if pending else ""
        event = DialogFailed(
            f"server closed the connection while we waited for {self.waiting_for}{got}",
            self.phase,
            closed=True,
        )
        self.finished = event
        return [event]

    # -- subclass side ----------------------------------------------------------------

    @abstractmethod
    def _on_line(self, line: str) -> None:
        """React to one complete line of the server's reply (the protocol's own logic)."""

    def _send(self, data: bytes, phase: Phase, waiting_for: str) -> None:
        self.reader.start_reply()
        self.phase = phase
        self.waiting_for = waiting_for
        self._events.append(Send(data))

    def _keep(self, line: str) -> None:
        if len(self.raw) < 64:
            self.raw.append(line[:512])

    def _finish(self, event: Event) -> None:
        self.finished = event
        self._events.append(event)

    def _fail(self, reason: str) -> None:
        self._finish(DialogFailed(reason, self.phase))

    def _go_ahead(self, capabilities: Capabilities) -> None:
        self._finish(StartTls(capabilities, self.reader.take_rest()))
