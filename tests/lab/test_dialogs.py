"""The lab's server dialogs, without sockets (mailtls.lab.dialogs)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.lab.dialogs import (
    MAX_LINE,
    DialogOptions,
    ImapDialog,
    Pop3Dialog,
    SmtpDialog,
    Then,
    make_dialog,
)
from mailtls.model import SERVICES

DEFAULT = DialogOptions()
NO_STARTTLS = DialogOptions(starttls=False)
AUTH_FIRST = DialogOptions(auth_before_tls=True)


# --------------------------------------------------------------------------- IMAP


def test_imap_plaintext_greeting_offers_starttls_and_disables_login() -> None:
    greeting = ImapDialog(DEFAULT, tls_active=False).greeting()
    assert greeting.startswith(b"* OK [CAPABILITY IMAP4rev1 ")
    assert b" STARTTLS" in greeting and b"LOGINDISABLED" in greeting
    assert b"AUTH=" not in greeting
    assert greeting.endswith(b"\r\n")


def test_imap_after_tls_offers_auth_and_no_starttls() -> None:
    dialog = ImapDialog(DEFAULT, tls_active=False)
    reply = dialog.handle(b"a1 STARTTLS")
    assert reply.data == b"a1 OK Begin TLS negotiation now.\r\n"
    assert reply.then is Then.START_TLS
    dialog.tls_started()
    caps = dialog.handle(b"a2 CAPABILITY").data
    assert caps.startswith(b"* CAPABILITY IMAP4rev1 ")
    assert b"STARTTLS" not in caps and b"LOGINDISABLED" not in caps and b"AUTH=PLAIN" in caps
    assert caps.endswith(
        b"a2 OK Pre-login capabilities listed, post-login capabilities have more.\r\n"
    )
    again = dialog.handle(b"a3 STARTTLS")
    assert again.data.startswith(b"a3 BAD") and again.then is Then.CONTINUE


def test_imap_without_starttls_neither_advertises_nor_accepts_it() -> None:
    dialog = ImapDialog(NO_STARTTLS, tls_active=False)
    assert b"STARTTLS" not in dialog.greeting()
    reply = dialog.handle(b"x STARTTLS")
    assert reply.data == b"x BAD TLS support isn't enabled.\r\n"
    assert reply.then is Then.CONTINUE


def test_imap_auth_before_tls_is_advertised_when_asked() -> None:
    greeting = ImapDialog(AUTH_FIRST, tls_active=False).greeting()
    assert (
        b"AUTH=PLAIN" in greeting and b"LOGINDISABLED" not in greeting and b"STARTTLS" in greeting
    )


@pytest.mark.parametrize("tls_active", [False, True])
@pytest.mark.parametrize(
    "command",
    [
        b"a LOGIN user secret",
        b"a AUTHENTICATE PLAIN",
        b"a AUTHENTICATE PLAIN AHVzZXIAc2VjcmV0",
        b'a LOGIN "user" {6}',
    ],
)
def test_imap_refuses_every_credential(command: bytes, tls_active: bool) -> None:
    reply = ImapDialog(AUTH_FIRST, tls_active=tls_active).handle(command)
    assert reply.data.startswith(b"a NO [AUTHENTICATIONFAILED]")
    assert reply.refused_credentials
    assert not reply.data.startswith(b"+")  # never asks for the literal / SASL response


def test_imap_login_in_plaintext_says_privacy_required() -> None:
    reply = ImapDialog(DEFAULT, tls_active=False).handle(b"7 LOGIN user secret")
    assert reply.data.startswith(b"7 NO [PRIVACYREQUIRED]")


def test_imap_logout_noop_id_and_unknown() -> None:
    dialog = ImapDialog(DEFAULT, tls_active=True)
    assert dialog.handle(b"n NOOP").data == b"n OK NOOP completed.\r\n"
    assert dialog.handle(b"i ID NIL").data.endswith(b"i OK ID completed.\r\n")
    assert dialog.handle(b"s SELECT INBOX").data.startswith(b"s BAD")
    assert dialog.handle(b"u FROB").data.startswith(b"u BAD")
    logout = dialog.handle(b"q logout")
    assert logout.data == b"* BYE Logging out\r\nq OK Logout completed.\r\n"
    assert logout.then is Then.CLOSE


@pytest.mark.parametrize("line", [b"", b"   ", b"* NOOP", b"(bad NOOP"])
def test_imap_untagged_garbage_gets_untagged_bad(line: bytes) -> None:
    assert ImapDialog(DEFAULT, tls_active=True).handle(line).data.startswith(b"* BAD")


def test_imap_tag_without_command() -> None:
    assert ImapDialog(DEFAULT, tls_active=True).handle(b"t1").data == b"t1 BAD Empty command.\r\n"


# --------------------------------------------------------------------------- POP3


def _capa(dialog: Pop3Dialog) -> list[str]:
    reply = dialog.handle(b"CAPA").data.decode()
    lines = reply.split("\r\n")
    assert lines[0].startswith("+OK") and lines[-2:] == [".", ""]
    return lines[1:-2]


def test_pop3_greeting_and_plaintext_capa() -> None:
    dialog = Pop3Dialog(DEFAULT, tls_active=False)
    assert dialog.greeting() == b"+OK mailtls-lab POP3 ready.\r\n"
    caps = _capa(dialog)
    assert "STLS" in caps and "USER" not in caps and not any(c.startswith("SASL") for c in caps)


def test_pop3_stls_then_capa_offers_user() -> None:
    dialog = Pop3Dialog(DEFAULT, tls_active=False)
    reply = dialog.handle(b"stls")
    assert reply.data == b"+OK Begin TLS negotiation now.\r\n" and reply.then is Then.START_TLS
    dialog.tls_started()
    caps = _capa(dialog)
    assert "STLS" not in caps and "USER" in caps and "SASL PLAIN" in caps
    assert dialog.handle(b"STLS").data.startswith(b"-ERR")


def test_pop3_without_stls_and_with_auth_first() -> None:
    assert "STLS" not in _capa(Pop3Dialog(NO_STARTTLS, tls_active=False))
    assert Pop3Dialog(NO_STARTTLS, tls_active=False).handle(b"STLS").data.startswith(b"-ERR")
    assert {"STLS", "USER", "SASL PLAIN"} <= set(_capa(Pop3Dialog(AUTH_FIRST, tls_active=False)))


@pytest.mark.parametrize(
    "command",
    [b"USER bob", b"PASS secret", b"APOP bob 0123", b"AUTH PLAIN", b"AUTH PLAIN AGJvYgBzZWNyZXQ="],
)
@pytest.mark.parametrize("tls_active", [False, True])
def test_pop3_refuses_every_credential(command: bytes, tls_active: bool) -> None:
    reply = Pop3Dialog(AUTH_FIRST, tls_active=tls_active).handle(command)
    assert reply.data.startswith(b"-ERR [AUTH]") and reply.refused_credentials


def test_pop3_quit_noop_unknown() -> None:
    dialog = Pop3Dialog(DEFAULT, tls_active=True)
    assert dialog.handle(b"NOOP").data == b"+OK\r\n"
    assert dialog.handle(b"STAT").data.startswith(b"-ERR")
    quit_reply = dialog.handle(b"QUIT")
    assert quit_reply.data.startswith(b"+OK") and quit_reply.then is Then.CLOSE


# --------------------------------------------------------------------------- SMTP


def _ehlo(dialog: SmtpDialog) -> list[str]:
    lines = dialog.handle(b"EHLO client.test").data.decode().split("\r\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert all(line.startswith("250-") for line in lines[:-1]) and lines[-1].startswith("250 ")
    return [line[4:] for line in lines[1:]]


def test_smtp_banner_and_multiline_ehlo() -> None:
    dialog = SmtpDialog(DEFAULT, tls_active=False, submission=True)
    assert dialog.greeting() == b"220 mailtls-lab ESMTP mailtls lab\r\n"
    extensions = _ehlo(dialog)
    assert extensions[0] == "PIPELINING" and "STARTTLS" in extensions and "8BITMIME" in extensions
    assert not any(e.startswith("AUTH") for e in extensions)


def test_smtp_starttls_resets_and_submission_offers_auth_after_tls() -> None:
    dialog = SmtpDialog(DEFAULT, tls_active=False, submission=True)
    _ehlo(dialog)
    reply = dialog.handle(b"STARTTLS")
    assert reply.data == b"220 2.0.0 Ready to start TLS\r\n" and reply.then is Then.START_TLS
    dialog.tls_started()
    assert dialog.handle(b"AUTH PLAIN").data.startswith(b"503")  # EHLO again first (RFC 3207)
    extensions = _ehlo(dialog)
    assert "STARTTLS" not in extensions and "AUTH PLAIN LOGIN" in extensions
    assert dialog.handle(b"STARTTLS").data.startswith(b"554")


def test_smtp_port25_offers_no_auth_after_tls() -> None:
    dialog = SmtpDialog(DEFAULT, tls_active=True, submission=False)
    assert not any(e.startswith("AUTH") for e in _ehlo(dialog))


def test_smtp_without_starttls_and_with_auth_first() -> None:
    plain = SmtpDialog(NO_STARTTLS, tls_active=False, submission=True)
    assert "STARTTLS" not in _ehlo(plain)
    assert plain.handle(b"STARTTLS").data.startswith(b"502")
    early = SmtpDialog(AUTH_FIRST, tls_active=False, submission=True)
    assert "AUTH PLAIN LOGIN" in _ehlo(early) and "STARTTLS" in _ehlo(early)


@pytest.mark.parametrize("options", [DEFAULT, AUTH_FIRST, NO_STARTTLS])
@pytest.mark.parametrize("tls_active", [False, True])
def test_smtp_refuses_every_credential(options: DialogOptions, tls_active: bool) -> None:
    dialog = SmtpDialog(options, tls_active=tls_active, submission=True)
    _ehlo(dialog)
    reply = dialog.handle(b"AUTH PLAIN AGJvYgBzZWNyZXQ=")
    assert reply.data[:3] in (b"535", b"530", b"503") and reply.refused_credentials
    assert not reply.data.startswith(b"334")  # never asks for the SASL response


def test_smtp_accepts_no_mail_and_says_quit() -> None:
    dialog = SmtpDialog(DEFAULT, tls_active=True, submission=False)
    assert dialog.handle(b"MAIL FROM:<a@b.test>").data.startswith(b"503")
    _ehlo(dialog)
    assert dialog.handle(b"MAIL FROM:<a@b.test>").data.startswith(b"554")
    assert dialog.handle(b"RCPT TO:<c@d.test>").data.startswith(b"503")
    assert dialog.handle(b"NOOP").data == b"250 2.0.0 Ok\r\n"
    assert dialog.handle(b"EHLO").data.startswith(b"501")
    assert dialog.handle(b"XYZZY").data.startswith(b"502")
    quit_reply = dialog.handle(b"quit")
    assert quit_reply.data == b"221 2.0.0 Bye\r\n" and quit_reply.then is Then.CLOSE


# --------------------------------------------------------------------------- shared


@pytest.mark.parametrize("scheme", sorted(SERVICES))
def test_every_dialog_closes_on_an_over_long_line_and_has_a_timeout_message(scheme: str) -> None:
    dialog = make_dialog(SERVICES[scheme], DEFAULT)
    assert dialog.tls_active == (SERVICES[scheme].tls_mode.value == "implicit")
    assert dialog.line_too_long().then is Then.CLOSE
    assert dialog.idle_timeout().endswith(b"\r\n")
    assert MAX_LINE >= 1000  # RFC 5321 4.5.3.1.6: at least 1000 octets per command line


# --------------------------------------------------------------------------- fuzz

_OPTIONS = st.builds(DialogOptions, starttls=st.booleans(), auth_before_tls=st.booleans())
_WORDS = st.sampled_from(
    [
        "LOGIN",
        "AUTHENTICATE",
        "AUTH",
        "USER",
        "PASS",
        "APOP",
        "STARTTLS",
        "STLS",
        "EHLO",
        "HELO",
        "CAPABILITY",
        "CAPA",
        "NOOP",
        "QUIT",
        "LOGOUT",
        "MAIL",
        "RCPT",
        "ID",
        "SELECT",
    ]
)
_LINES = st.one_of(
    st.binary(max_size=200).map(lambda b: b.replace(b"\n", b"")),
    st.tuples(st.sampled_from(["", "a1 ", "* ", "x "]), _WORDS, st.text(max_size=40)).map(
        lambda t: f"{t[0]}{t[1]} {t[2]}".encode("utf-8", "replace").replace(b"\n", b"")
    ),
)


def _credential_command(scheme: str, words: list[str]) -> bool:
    protocol = SERVICES[scheme].protocol.value
    if protocol == "imap":
        return len(words) >= 2 and words[1].upper() in ("LOGIN", "AUTHENTICATE")
    if protocol == "pop3":
        first = words[0].upper() if words else ""
        return first in ("USER", "PASS", "APOP") or (first == "AUTH" and len(words) > 1)
    return bool(words) and words[0].upper() == "AUTH"


@settings(max_examples=200, deadline=None)
@given(
    scheme=st.sampled_from(sorted(SERVICES)),
    options=_OPTIONS,
    lines=st.lists(_LINES, max_size=12),
)
def test_fuzz_dialogs_answer_anything_and_never_accept_credentials(
    scheme: str, options: DialogOptions, lines: list[bytes]
) -> None:
    dialog = make_dialog(SERVICES[scheme], options)
    for line in lines:
        reply = dialog.handle(line)
        assert reply.data.endswith(b"\r\n") and b"\n" not in reply.data.replace(b"\r\n", b"")
        assert len(reply.data) < 4096
        words = line.decode("utf-8", "replace").split()
        if reply.then is Then.START_TLS:
            assert not dialog.tls_active and options.starttls
            assert any(w.upper() in ("STARTTLS", "STLS") for w in words[:2])
            dialog.tls_started()
        # Never a success or a "go on" (SMTP 235/334, IMAP continuation) for credentials.
        assert not reply.data.startswith((b"235", b"334", b"+ "))
        if _credential_command(scheme, words):
            assert b" OK " not in reply.data
            assert not reply.data.startswith((b"+OK", b"2", b"3"))
        if reply.then is Then.CLOSE:
            break
