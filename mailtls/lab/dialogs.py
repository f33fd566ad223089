"""The lab's server side of the IMAP, POP3 and SMTP dialogs, as sans-I/O state machines.

A dialog never touches a socket. The driver (:mod:`mailtls.lab.servers`) sends
:meth:`ServerDialog.greeting`, feeds every received line (without its line ending) to
:meth:`ServerDialog.handle`, sends the returned bytes, and then does what the reply's
``then`` says: keep reading, start the TLS handshake (STARTTLS / STLS), or close. After
a STARTTLS handshake it calls :meth:`ServerDialog.tls_started`.

These are *well-behaved* servers, modelled on what Dovecot and Postfix say (the lab is
the product's reference server; misbehaving servers live in the probe's tests). One rule
is absolute: the lab accepts no credentials, ever. LOGIN, AUTHENTICATE, USER/PASS/APOP
and SMTP AUTH are refused at once, so a client is never even asked for a password.

References: RFC 9051/3501 (IMAP), RFC 2595 and RFC 2449 (IMAP/POP3 STARTTLS, CAPA),
RFC 1939 (POP3), RFC 5321, RFC 3207, RFC 4954 and RFC 2920 (SMTP, STARTTLS, AUTH,
PIPELINING).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from mailtls.model import Protocol as MailProtocol
from mailtls.model import Service, TlsMode

#: Longest command line the lab reads; longer lines are answered with an error and closed.
MAX_LINE = 8192


class Then(StrEnum):
    """What the driver does after sending a reply."""

    CONTINUE = "continue"
    START_TLS = "start_tls"
    CLOSE = "close"


@dataclass(frozen=True)
class Reply:
    data: bytes
    then: Then = Then.CONTINUE
    #: A client offered credentials (or tried to) and was refused; recorded as a lab event.
    refused_credentials: bool = False


@dataclass(frozen=True)
class DialogOptions:
    """How one lab behaves; the same for all its endpoints."""

    #: Offer STARTTLS/STLS on the plaintext endpoints. Off: not advertised, and refused.
    starttls: bool = True
    #: Advertise authentication in plaintext (IMAP AUTH=PLAIN without LOGINDISABLED,
    #: POP3 USER and SASL, SMTP AUTH) so that mailtls reports it as a transport finding.
    auth_before_tls: bool = False
    #: Name the server calls itself in its greeting / banner.
    server_name: str = "mailtls-lab"


class ServerDialog(Protocol):
    """One connection's conversation, independent of sockets."""

    tls_active: bool

    def greeting(self) -> bytes: ...

    def handle(self, line: bytes) -> Reply: ...

    def tls_started(self) -> None: ...

    def line_too_long(self) -> Reply: ...

    def idle_timeout(self) -> bytes: ...


def make_dialog(service: Service, options: DialogOptions) -> ServerDialog:
    """The dialog for one accepted connection of ``service``."""
    implicit = service.tls_mode is TlsMode.IMPLICIT
    if service.protocol is MailProtocol.IMAP:
        return ImapDialog(options, tls_active=implicit)
    if service.protocol is MailProtocol.POP3:
        return Pop3Dialog(options, tls_active=implicit)
    return SmtpDialog(options, tls_active=implicit, submission=service.scheme != "smtp")


def _text(line: bytes) -> str:
    return line.decode("utf-8", "replace")


# --------------------------------------------------------------------------- IMAP

_IMAP_TAG = re.compile(r"^[!#$&'*,./0-9:;<=>?@A-Z\[^_`a-z|}~-]+$")
_IMAP_BASE_CAPS = ("IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE")
_IMAP_NOT_BEFORE_LOGIN = frozenset(
    {
        "SELECT",
        "EXAMINE",
        "CREATE",
        "DELETE",
        "RENAME",
        "SUBSCRIBE",
        "UNSUBSCRIBE",
        "LIST",
        "LSUB",
        "STATUS",
        "APPEND",
        "CHECK",
        "CLOSE",
        "EXPUNGE",
        "SEARCH",
        "FETCH",
        "STORE",
        "COPY",
        "MOVE",
        "UID",
        "IDLE",
        "NAMESPACE",
        "ENABLE",
        "GETQUOTAROOT",
        "UNSELECT",
    }
)


class ImapDialog:
    """IMAP4rev1 in the not-authenticated state, as Dovecot answers it."""

    def __init__(self, options: DialogOptions, *, tls_active: bool) -> None:
        self.options = options
        self.tls_active = tls_active

    def capabilities(self) -> tuple[str, ...]:
        caps = list(_IMAP_BASE_CAPS)
        if self.tls_active:
            caps.append("AUTH=PLAIN")
            return tuple(caps)
        if self.options.starttls:
            caps.append("STARTTLS")
        if self.options.auth_before_tls:
            caps.append("AUTH=PLAIN")
        else:
            # RFC 3501 6.2.3: LOGIN is disabled until TLS is active.
            caps.append("LOGINDISABLED")
        return tuple(caps)

    def greeting(self) -> bytes:
        caps = " ".join(self.capabilities())
        return f"* OK [CAPABILITY {caps}] {self.options.server_name} IMAP ready.\r\n".encode()

    def tls_started(self) -> None:
        self.tls_active = True

    def line_too_long(self) -> Reply:
        return Reply(b"* BYE Too long command line.\r\n", Then.CLOSE)

    def idle_timeout(self) -> bytes:
        return b"* BYE Disconnected for inactivity.\r\n"

    def handle(self, line: bytes) -> Reply:
        text = _text(line).strip()
        tag, _, rest = text.partition(" ")
        if not tag or not _IMAP_TAG.match(tag) or tag == "*":
            return Reply(b"* BAD Error in IMAP command received by server.\r\n")
        command, _, _arguments = rest.strip().partition(" ")
        command = command.upper()

        def tagged(status: str, message: str) -> bytes:
            return f"{tag} {status} {message}\r\n".encode()

        if not command:
            return Reply(tagged("BAD", "Empty command."))
        literal = re.search(r"\{(\d+)(\+?)\}$", text)
        if literal:
            # A synchronizing literal waits for our "+"; answering with a tagged reply
            # instead rejects the command (RFC 3501 7.5), so credentials are never sent.
            if command in ("LOGIN", "AUTHENTICATE"):
                return Reply(self._refuse_login(tag), refused_credentials=True)
            return Reply(tagged("BAD", "Literals are not supported by the mailtls lab."))
        if command == "CAPABILITY":
            caps = " ".join(self.capabilities())
            return Reply(
                f"* CAPABILITY {caps}\r\n".encode()
                + tagged("OK", "Pre-login capabilities listed, post-login capabilities have more.")
            )
        if command == "NOOP":
            return Reply(tagged("OK", "NOOP completed."))
        if command == "LOGOUT":
            return Reply(b"* BYE Logging out\r\n" + tagged("OK", "Logout completed."), Then.CLOSE)
        if command == "ID":
            return Reply(b'* ID ("name" "mailtls lab")\r\n' + tagged("OK", "ID completed."))
        if command == "STARTTLS":
            if self.tls_active:
                return Reply(tagged("BAD", "TLS is already active."))
            if not self.options.starttls:
                return Reply(tagged("BAD", "TLS support isn't enabled."))
            return Reply(tagged("OK", "Begin TLS negotiation now."), Then.START_TLS)
        if command in ("LOGIN", "AUTHENTICATE"):
            return Reply(self._refuse_login(tag), refused_credentials=True)
        if command in _IMAP_NOT_BEFORE_LOGIN:
            return Reply(
                tagged("BAD", f"Error in IMAP command {command}: Not allowed before login.")
            )
        return Reply(tagged("BAD", f"Error in IMAP command {command}: Unknown command."))

    def _refuse_login(self, tag: str) -> bytes:
        if not self.tls_active and not self.options.auth_before_tls:
            message = "[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections."
        else:
            message = "[AUTHENTICATIONFAILED] Authentication failed (the mailtls lab accepts no credentials)."
        return f"{tag} NO {message}\r\n".encode()


# --------------------------------------------------------------------------- POP3


class Pop3Dialog:
    """POP3 in the AUTHORIZATION state, as Dovecot answers it."""

    def __init__(self, options: DialogOptions, *, tls_active: bool) -> None:
        self.options = options
        self.tls_active = tls_active

    def capabilities(self) -> tuple[str, ...]:
        caps = ["CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"]
        if self.tls_active:
            caps += ["USER", "SASL PLAIN"]
            return tuple(caps)
        if self.options.starttls:
            caps.append("STLS")
        if self.options.auth_before_tls:
            caps += ["USER", "SASL PLAIN"]
        return tuple(caps)

    def greeting(self) -> bytes:
        return f"+OK {self.options.server_name} POP3 ready.\r\n".encode()

    def tls_started(self) -> None:
        self.tls_active = True

    def line_too_long(self) -> Reply:
        return Reply(b"-ERR Too long command line.\r\n", Then.CLOSE)

    def idle_timeout(self) -> bytes:
        return b"-ERR Disconnected for inactivity.\r\n"

    def handle(self, line: bytes) -> Reply:
        command, _, _arguments = _text(line).strip().partition(" ")
        command = command.upper()
        if command == "CAPA":
            body = "".join(f"{cap}\r\n" for cap in self.capabilities())
            return Reply(f"+OK Capability list follows\r\n{body}.\r\n".encode())
        if command == "NOOP":
            return Reply(b"+OK\r\n")
        if command == "QUIT":
            return Reply(b"+OK Logging out.\r\n", Then.CLOSE)
        if command == "STLS":
            if self.tls_active:
                return Reply(b"-ERR TLS is already active.\r\n")
            if not self.options.starttls:
                return Reply(b"-ERR TLS support isn't enabled.\r\n")
            return Reply(b"+OK Begin TLS negotiation now.\r\n", Then.START_TLS)
        if command in ("USER", "PASS", "APOP", "AUTH"):
            if command == "AUTH" and not _arguments.strip():
                # RFC 5034: a bare AUTH lists the mechanisms; still no credentials accepted.
                mechanisms = "PLAIN\r\n" if self.tls_active or self.options.auth_before_tls else ""
                return Reply(f"+OK\r\n{mechanisms}.\r\n".encode())
            if not self.tls_active and not self.options.auth_before_tls:
                message = "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"
            else:
                message = "-ERR [AUTH] Authentication failed (the mailtls lab accepts no credentials).\r\n"
            return Reply(message.encode(), refused_credentials=True)
        if not command:
            return Reply(b"-ERR Unknown command.\r\n")
        return Reply(f"-ERR Unknown command: {command[:40]}\r\n".encode())


# --------------------------------------------------------------------------- SMTP


class SmtpDialog:
    """ESMTP before MAIL FROM, as Postfix answers it (port 25, submission, submissions)."""

    def __init__(self, options: DialogOptions, *, tls_active: bool, submission: bool) -> None:
        self.options = options
        self.tls_active = tls_active
        self.submission = submission
        self.greeted = False

    def extensions(self) -> tuple[str, ...]:
        exts = ["PIPELINING", "SIZE 10240000", "ETRN"]
        if not self.tls_active and self.options.starttls:
            exts.append("STARTTLS")
        if self._auth_offered():
            exts.append("AUTH PLAIN LOGIN")
        exts += ["ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"]
        return tuple(exts)

    def _auth_offered(self) -> bool:
        if not self.tls_active:
            return self.options.auth_before_tls
        return self.submission

    def greeting(self) -> bytes:
        return f"220 {self.options.server_name} ESMTP mailtls lab\r\n".encode()

    def tls_started(self) -> None:
        # RFC 3207 4.2: the client must discard what it knew and say EHLO again.
        self.tls_active = True
        self.greeted = False

    def line_too_long(self) -> Reply:
        return Reply(b"500 5.5.0 Error: line too long\r\n", Then.CLOSE)

    def idle_timeout(self) -> bytes:
        return b"421 4.4.2 Error: timeout exceeded\r\n"

    def handle(self, line: bytes) -> Reply:
        command, _, arguments = _text(line).strip().partition(" ")
        command = command.upper()
        arguments = arguments.strip()
        if command == "EHLO":
            if not arguments:
                return Reply(b"501 5.5.4 Syntax: EHLO hostname\r\n")
            self.greeted = True
            lines = [self.options.server_name, *self.extensions()]
            body = "".join(f"250-{entry}\r\n" for entry in lines[:-1]) + f"250 {lines[-1]}\r\n"
            return Reply(body.encode())
        if command == "HELO":
            if not arguments:
                return Reply(b"501 Syntax: HELO hostname\r\n")
            self.greeted = True
            return Reply(f"250 {self.options.server_name}\r\n".encode())
        if command == "STARTTLS":
            if self.tls_active:
                return Reply(b"554 5.5.1 Error: TLS already active\r\n")
            if not self.options.starttls:
                return Reply(b"502 5.5.1 Error: command not implemented\r\n")
            return Reply(b"220 2.0.0 Ready to start TLS\r\n", Then.START_TLS)
        if command == "QUIT":
            return Reply(b"221 2.0.0 Bye\r\n", Then.CLOSE)
        if command in ("NOOP", "RSET"):
            return Reply(b"250 2.0.0 Ok\r\n")
        if command == "VRFY":
            return Reply(b"252 2.0.0 Cannot VRFY user\r\n")
        if command == "AUTH":
            if not self.greeted:
                return Reply(b"503 5.5.1 Error: send HELO/EHLO first\r\n")
            if not self._auth_offered():
                if not self.tls_active and self.options.starttls:
                    return Reply(
                        b"530 5.7.0 Must issue a STARTTLS command first\r\n",
                        refused_credentials=True,
                    )
                return Reply(
                    b"503 5.5.1 Error: authentication not enabled\r\n", refused_credentials=True
                )
            return Reply(
                b"535 5.7.8 Error: authentication failed (the mailtls lab accepts no credentials)\r\n",
                refused_credentials=True,
            )
        if command == "MAIL":
            if not self.greeted:
                return Reply(b"503 5.5.1 Error: send HELO/EHLO first\r\n")
            if not self.tls_active and self.options.starttls:
                return Reply(b"530 5.7.0 Must issue a STARTTLS command first\r\n")
            return Reply(b"554 5.7.1 Error: the mailtls lab accepts no mail\r\n")
        if command in ("RCPT", "DATA", "BDAT"):
            return Reply(b"503 5.5.1 Error: need MAIL command\r\n")
        return Reply(b"502 5.5.2 Error: command not recognized\r\n")
