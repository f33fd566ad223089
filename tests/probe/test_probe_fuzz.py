"""Property-based tests: whatever a server sends, the parsers only ever return events
(or raise the documented HandshakeError), never an exception, and stay bounded."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtls.probe.dialog import Dialog, DialogFailed, NoTls, Send, StartTls
from mailtls.probe.imap import ImapDialog
from mailtls.probe.pop3 import Pop3Dialog
from mailtls.probe.smtp import SmtpDialog
from mailtls.probe.tls import HandshakeError, TlsHandshake

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Lines that look like protocol replies, mixed with noise, so the search reaches deep states.
REPLY_LINES = st.sampled_from(
    [
        b"220 hi\r\n",
        b"220-hi\r\n",
        b"250-x\r\n",
        b"250-STARTTLS\r\n",
        b"250-AUTH PLAIN LOGIN\r\n",
        b"250 STARTTLS\r\n",
        b"454 no\r\n",
        b"* OK hi\r\n",
        b"* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n",
        b"* CAPABILITY STARTTLS LOGINDISABLED AUTH=PLAIN\r\n",
        b"a1 OK\r\n",
        b"a2 OK go\r\n",
        b"a2 NO\r\n",
        b"+OK\r\n",
        b"-ERR\r\n",
        b"STLS\r\n",
        b"SASL PLAIN\r\n",
        b".\r\n",
        b"\r\n",
        b"\n",
        b"* BYE\r\n",
    ]
)
STREAMS = st.lists(st.one_of(REPLY_LINES, st.binary(max_size=64)), max_size=30)
DIALOGS = [SmtpDialog, ImapDialog, Pop3Dialog]


def run(dialog: Dialog, chunks: list[bytes], close: bool) -> None:
    terminal = 0
    for chunk in chunks:
        for event in dialog.receive(chunk):
            assert isinstance(event, Send | StartTls | NoTls | DialogFailed)
            terminal += not isinstance(event, Send)
            if isinstance(event, Send):
                assert event.data.endswith(b"\r\n") and len(event.data) < 200
    if close:
        for event in dialog.closed():
            assert isinstance(event, DialogFailed)
            terminal += 1
    assert terminal <= 1  # at most one ending, ever
    assert len(dialog.reader.pending) <= 2 * 8192 + 64


@pytest.mark.parametrize("make", DIALOGS)
@SETTINGS
@given(chunks=STREAMS, close=st.booleans())
def test_dialogs_never_raise(make: type[Dialog], chunks: list[bytes], close: bool) -> None:
    run(make(), chunks, close)


@pytest.mark.parametrize("make", DIALOGS)
@SETTINGS
@given(data=st.binary(max_size=2048), cut=st.integers(min_value=1, max_value=64))
def test_dialogs_same_outcome_however_the_bytes_are_split(
    make: type[Dialog], data: bytes, cut: int
) -> None:
    whole, pieces = make(), make()
    whole_events = whole.receive(data)
    piece_events = []
    for start in range(0, len(data), cut):
        piece_events += pieces.receive(data[start : start + cut])
    # Splitting may only delay a failure for an over-long line, never change what was sent.
    assert [e for e in whole_events if isinstance(e, Send)] == [
        e for e in piece_events if isinstance(e, Send)
    ]
    assert type(whole.finished) is type(pieces.finished) or DialogFailed in (
        type(whole.finished),
        type(pieces.finished),
    )


@settings(max_examples=100, deadline=None)
@given(chunks=st.lists(st.binary(max_size=512), max_size=6), close=st.booleans())
def test_tls_handshake_only_raises_handshake_error(chunks: list[bytes], close: bool) -> None:
    handshake = TlsHandshake("mail.example.test")
    handshake.start()
    try:
        for chunk in chunks:
            handshake.receive(chunk)
        if close:
            handshake.closed()
    except HandshakeError as exc:
        assert "\n" not in str(exc) and str(exc)
