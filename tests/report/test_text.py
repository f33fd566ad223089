"""--format text: worst first, one sentence per endpoint, colour only when allowed."""

from __future__ import annotations

import io
import re

import pytest

from mailtls.report.text import render, use_colour
from tests.report.factory import mixed_report


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_worst_problems_first_and_sentences() -> None:
    text = render(mixed_report())
    heads = [m[1] for m in re.finditer(r"^([A-Z][A-Z ]*?) +[a-z0-9]+://", text, re.M)]
    assert heads == ["PROMPT", "NOT OFFERED", "TRUSTED", "TRUSTED"]  # the TUI's words
    assert (
        "The iPhone will warn on outgoing mail (SMTP, port 587): the certificate there is "
        "for server17.hoster.net, not mail.example.com." in text
    )
    assert "Fix: Get a certificate that names mail.example.com." in text
    assert "chain as served:" in text
    assert text.rstrip().endswith("4 endpoints: 2 trusted, 1 prompt, 1 could not be checked.")
    assert "\x1b[" not in text


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(_Tty()) is True
    assert use_colour(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_colour(_Tty()) is False
    assert "\x1b[" in render(mixed_report(), colour=True)


def test_bad_targets_are_listed() -> None:
    from tests.report.factory import endpoint, report

    text = render(report(endpoint("imaps"), errors=("'imapx://h': unknown scheme 'imapx'",)))
    assert "Not checked (bad input):" in text
    assert "unknown scheme 'imapx'" in text


def test_an_idn_host_is_shown_in_both_forms() -> None:
    from mailtls.targets import to_unicode as display_host

    assert display_host("xn--bcher-kva.example") == "bücher.example"
    assert display_host("mail.example.com") == "mail.example.com"
    assert display_host("xn--.example") == "xn--.example"  # not IDNA: ASCII form only
