"""The sans-I/O dialogs driven by hand-made bytes (no sockets), like dnspython's _Resolution."""

from __future__ import annotations

import pytest

from mailtls.model import Phase
from mailtls.probe.dialog import (
    MAX_LINE,
    MAX_REPLY,
    Dialog,
    DialogFailed,
    Event,
    NoTls,
    Send,
    StartTls,
)
from mailtls.probe.imap import ImapDialog
from mailtls.probe.pop3 import Pop3Dialog
from mailtls.probe.smtp import SmtpDialog


def feed(dialog: Dialog, data: bytes, chunk: int = 0) -> list[Event]:
    """Feed ``data`` whole, or in pieces of ``chunk`` bytes (replies split anywhere)."""
    if not chunk:
        return dialog.receive(data)
    events: list[Event] = []
    for start in range(0, len(data), chunk):
        events += dialog.receive(data[start : start + chunk])
    return events


def sent(events: list[Event]) -> list[bytes]:
    return [e.data for e in events if isinstance(e, Send)]


# --------------------------------------------------------------------------- SMTP


@pytest.mark.parametrize("chunk", [0, 1, 7])
def test_smtp_reads_multi_line_greeting_and_ehlo_then_starttls(chunk: int) -> None:
    dialog = SmtpDialog("probe.example")
    events = feed(dialog, b"220-mx.example ESMTP\r\n220-more words\r\n220 last\r\n", chunk)
    assert sent(events) == [b"EHLO probe.example\r\n"]
    assert dialog.phase is Phase.CAPABILITIES
    assert dialog.greeting == "mx.example ESMTP\nmore words\nlast"
    events = feed(
        dialog, b"250-mx.example\r\n250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250 SIZE 100\r\n", chunk
    )
    assert sent(events) == [b"STARTTLS\r\n"]
    assert dialog.phase is Phase.STARTTLS
    events = feed(dialog, b"220 2.0.0 go ahead\r\n", chunk)
    [go] = events
    assert isinstance(go, StartTls) and go.leftover == b""
    caps = go.capabilities
    assert caps.starttls_offered is True
    assert caps.auth_before_tls == ("PLAIN", "LOGIN")
    assert caps.plaintext_login_offered is True
    assert caps.login_disabled is None
    assert dialog.receive(b"more\r\n") == []  # finished: nothing else is read


def test_smtp_does_not_answer_a_partial_multi_line_greeting() -> None:
    dialog = SmtpDialog()
    assert dialog.receive(b"220-first line\r\n220-second") == []
    assert dialog.phase is Phase.GREETING


def test_smtp_bytes_after_the_go_ahead_are_leftover_not_data() -> None:
    dialog = SmtpDialog()
    feed(dialog, b"220 hi\r\n")
    feed(dialog, b"250-x\r\n250 STARTTLS\r\n")
    [go] = feed(dialog, b"220 ready\r\n250 injected\r\n\x16\x03")
    assert isinstance(go, StartTls)
    assert go.leftover == b"250 injected\r\n\x16\x03"


def test_smtp_starttls_not_advertised() -> None:
    dialog = SmtpDialog()
    feed(dialog, b"220 hi\r\n")
    [no] = feed(dialog, b"250-x\r\n250-AUTH=LOGIN\r\n250 8BITMIME\r\n")
    assert isinstance(no, NoTls)
    assert "does not advertise STARTTLS" in no.reason
    assert no.capabilities.starttls_offered is False
    assert no.capabilities.auth_before_tls == ("LOGIN",)


@pytest.mark.parametrize("reply", [b"454 4.7.0 TLS not available\r\n", b"502 no\r\n"])
def test_smtp_starttls_refused(reply: bytes) -> None:
    dialog = SmtpDialog()
    feed(dialog, b"220 hi\r\n")
    feed(dialog, b"250 STARTTLS\r\n")  # a one-line EHLO reply has no extensions
    assert dialog.finished is not None and isinstance(dialog.finished, NoTls)
    dialog = SmtpDialog()
    feed(dialog, b"220 hi\r\n")
    feed(dialog, b"250-x\r\n250 STARTTLS\r\n")
    [no] = feed(dialog, reply)
    assert isinstance(no, NoTls) and reply[:3].decode() in no.reason


def test_smtp_rejected_greeting_and_ehlo() -> None:
    dialog = SmtpDialog()
    [failed] = feed(dialog, b"554 go away\r\n")
    assert isinstance(failed, DialogFailed) and "554" in failed.reason
    dialog = SmtpDialog()
    feed(dialog, b"220 hi\r\n")
    [no] = feed(dialog, b"500 what\r\n")
    assert isinstance(no, NoTls) and "rejected EHLO" in no.reason


def test_smtp_garbage_is_a_protocol_error() -> None:
    [failed] = SmtpDialog().receive(b"SSH-2.0-OpenSSH_9.2\r\n")
    assert isinstance(failed, DialogFailed)
    assert "not an SMTP reply" in failed.reason and failed.phase is Phase.GREETING


def test_overlong_line_and_overlong_reply_are_bounded() -> None:
    [failed] = SmtpDialog().receive(b"220 " + b"x" * (MAX_LINE + 10))
    assert isinstance(failed, DialogFailed) and "without an end of line" in failed.reason
    dialog = SmtpDialog()
    events: list[Event] = []
    line = b"220-" + b"y" * 200 + b"\r\n"
    for _ in range(MAX_REPLY // len(line) + 2):
        events += dialog.receive(line)
    assert len(events) == 1 and isinstance(events[0], DialogFailed)
    assert "64 KiB" in events[0].reason


def test_close_names_what_we_waited_for() -> None:
    dialog = SmtpDialog()
    feed(dialog, b"220 hi\r\n")
    [failed] = dialog.closed()
    assert isinstance(failed, DialogFailed) and failed.closed
    assert failed.reason == "server closed the connection while we waited for the reply to EHLO"
    assert failed.phase is Phase.CAPABILITIES
    assert dialog.closed() == []


def test_smtp_quit_command() -> None:
    assert SmtpDialog.quit_command == b"QUIT\r\n"


# --------------------------------------------------------------------------- IMAP


@pytest.mark.parametrize("chunk", [0, 3])
def test_imap_capability_command_then_starttls(chunk: int) -> None:
    dialog = ImapDialog()
    assert sent(feed(dialog, b"* OK Dovecot ready.\r\n", chunk)) == [b"a1 CAPABILITY\r\n"]
    events = feed(
        dialog,
        b"* CAPABILITY IMAP4rev1 SASL-IR STARTTLS LOGINDISABLED AUTH=PLAIN\r\n* OK extra\r\na1 OK done\r\n",
        chunk,
    )
    assert sent(events) == [b"a2 STARTTLS\r\n"]
    [go] = feed(dialog, b"* OK still plaintext\r\na2 OK Begin TLS negotiation now.\r\n", chunk)
    assert isinstance(go, StartTls)
    caps = go.capabilities
    assert caps.starttls_offered is True and caps.login_disabled is True
    assert caps.plaintext_login_offered is False
    assert caps.auth_before_tls == ("PLAIN",)
    assert caps.greeting == "* OK Dovecot ready."


def test_imap_greeting_capability_code_saves_a_round_trip() -> None:
    dialog = ImapDialog()
    events = dialog.receive(b"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN AUTH=LOGIN] ready\r\n")
    assert sent(events) == [b"a2 STARTTLS\r\n"]
    [no] = dialog.receive(b"a2 NO [UNAVAILABLE] not now\r\n")
    assert isinstance(no, NoTls) and "refused STARTTLS" in no.reason
    assert no.capabilities.plaintext_login_offered is True  # no LOGINDISABLED
    assert no.capabilities.auth_before_tls == ("PLAIN", "LOGIN")


@pytest.mark.parametrize(
    ("greeting", "words"),
    [
        (b"* BYE too many connections\r\n", "refused the session"),
        (b"HTTP/1.1 200 OK\r\n", "not an IMAP greeting"),
    ],
)
def test_imap_bad_greetings(greeting: bytes, words: str) -> None:
    [failed] = ImapDialog().receive(greeting)
    assert isinstance(failed, DialogFailed) and words in failed.reason


def test_imap_no_starttls_and_failed_capability() -> None:
    dialog = ImapDialog()
    dialog.receive(b"* PREAUTH hello\r\n")
    [no] = dialog.receive(b"* CAPABILITY IMAP4rev1\r\na1 OK\r\n")
    assert isinstance(no, NoTls) and no.capabilities.starttls_offered is False
    dialog = ImapDialog()
    dialog.receive(b"* OK hi\r\n")
    [failed] = dialog.receive(b"a1 BAD what\r\n")
    assert isinstance(failed, DialogFailed)
    dialog = ImapDialog()
    dialog.receive(b"* OK hi\r\n")
    [failed] = dialog.receive(b"zz OK unexpected tag\r\n")
    assert isinstance(failed, DialogFailed) and "zz OK" in failed.reason


# --------------------------------------------------------------------------- POP3


@pytest.mark.parametrize("chunk", [0, 2])
def test_pop3_capa_then_stls(chunk: int) -> None:
    dialog = Pop3Dialog()
    assert sent(feed(dialog, b"+OK POP3 ready\r\n", chunk)) == [b"CAPA\r\n"]
    events = feed(
        dialog, b"+OK\r\nTOP\r\nUSER\r\nSASL PLAIN CRAM-MD5\r\nSTLS\r\n..odd\r\n.\r\n", chunk
    )
    assert sent(events) == [b"STLS\r\n"]
    [go] = feed(dialog, b"+OK Begin TLS\r\n", chunk)
    assert isinstance(go, StartTls)
    caps = go.capabilities
    assert caps.starttls_offered is True and caps.plaintext_login_offered is True
    assert caps.auth_before_tls == ("PLAIN", "CRAM-MD5")


def test_pop3_without_capa_still_tries_stls() -> None:
    dialog = Pop3Dialog()
    dialog.receive(b"+OK hi\r\n")
    assert sent(dialog.receive(b"-ERR unknown command\r\n")) == [b"STLS\r\n"]
    [no] = dialog.receive(b"-ERR not supported\r\n")
    assert isinstance(no, NoTls) and no.capabilities.starttls_offered is None


def test_pop3_bad_greeting_and_garbage() -> None:
    [failed] = Pop3Dialog().receive(b"-ERR busy\r\n")
    assert isinstance(failed, DialogFailed) and "-ERR busy" in failed.reason
    [failed] = Pop3Dialog().receive(b"220 smtp here\r\n")
    assert isinstance(failed, DialogFailed) and "not a POP3 reply" in failed.reason


def test_pop3_unterminated_capa_is_still_waiting() -> None:
    dialog = Pop3Dialog()
    dialog.receive(b"+OK hi\r\n")
    assert dialog.receive(b"+OK\r\nUSER\r\n") == []
    assert dialog.waiting_for == "the reply to CAPA"


def test_imap_asks_capability_when_the_greeting_code_lacks_starttls() -> None:
    dialog = ImapDialog()
    assert sent(dialog.receive(b"* OK [CAPABILITY IMAP4rev1] hi\r\n")) == [b"a1 CAPABILITY\r\n"]
    assert sent(dialog.receive(b"* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK\r\n")) == [
        b"a2 STARTTLS\r\n"
    ]
