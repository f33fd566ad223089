"""Levels, sentences and exit codes (report/outcome.py) on hand-built reports."""

from __future__ import annotations

import pytest

from mailtls.exitcodes import ExitCode
from mailtls.model import Status, Verdict
from mailtls.report.outcome import (
    Level,
    counts,
    endpoint_sentence,
    exit_code,
    level,
    summary_sentence,
)
from tests.report.factory import (
    EXPIRY_FINDING,
    HOSTNAME_FINDING,
    endpoint,
    mixed_report,
    report,
)


def test_all_trusted_exits_0() -> None:
    assert exit_code(report(endpoint("imaps"), endpoint("submission"))) is ExitCode.OK


@pytest.mark.parametrize(
    ("verdict", "fail_on", "expected"),
    [
        (Verdict.PROMPT, "prompt", ExitCode.IPHONE_FAILS),
        (Verdict.NEEDS_PROFILE, "prompt", ExitCode.IPHONE_FAILS),
        (Verdict.FATAL, "prompt", ExitCode.IPHONE_FAILS),
        (Verdict.PROMPT, "fatal", ExitCode.OK),
        (Verdict.NEEDS_PROFILE, "fatal", ExitCode.OK),
        (Verdict.FATAL, "fatal", ExitCode.IPHONE_FAILS),
        (Verdict.PROMPT, "warning", ExitCode.IPHONE_FAILS),
        (Verdict.TRUSTED, "warning", ExitCode.OK),
    ],
)
def test_fail_on_threshold(verdict: Verdict, fail_on: str, expected: ExitCode) -> None:
    assert exit_code(report(endpoint("imaps", verdict=verdict)), fail_on) is expected


def test_warning_finding_fails_only_with_fail_on_warning() -> None:
    r = report(endpoint("imaps", findings=(EXPIRY_FINDING,)))
    assert exit_code(r, "prompt") is ExitCode.OK
    assert exit_code(r, "warning") is ExitCode.IPHONE_FAILS


def test_unreachable_exits_2_but_a_prompt_wins() -> None:
    refused = endpoint("pop3", verdict=None, status=Status.REFUSED)
    assert exit_code(report(endpoint("imaps"), refused)) is ExitCode.UNCHECKED
    prompt = endpoint("imaps", verdict=Verdict.PROMPT)
    assert exit_code(report(prompt, refused)) is ExitCode.IPHONE_FAILS


def test_bad_target_lines_exit_3_when_nothing_else_failed() -> None:
    assert exit_code(report(endpoint("imaps"), errors=("'x': bad",))) is ExitCode.USAGE
    assert exit_code(report(errors=("'x': bad",))) is ExitCode.USAGE
    refused = endpoint("pop3", verdict=None, status=Status.REFUSED)
    assert exit_code(report(refused, errors=("'x': bad",))) is ExitCode.UNCHECKED


def test_levels_order_worst_first() -> None:
    r = mixed_report()
    levels = sorted((level(e) for e in r.endpoints), reverse=True)
    assert levels == [Level.PROMPT, Level.UNCHECKED, Level.WARNING, Level.TRUSTED]


def test_sentence_reads_out_port_role_and_reason() -> None:
    prompt = endpoint(
        "submission",
        verdict=Verdict.PROMPT,
        leaf_cn="server17.hoster.net",
        findings=(HOSTNAME_FINDING,),
    )
    assert endpoint_sentence(prompt) == (
        "The iPhone will warn on outgoing mail (SMTP, port 587): the certificate there is "
        "for server17.hoster.net, not mail.example.com."
    )
    refused = endpoint("pop3", verdict=None, status=Status.REFUSED)
    assert endpoint_sentence(refused).startswith(
        "mailtls could not check incoming mail (POP3, port 110):"
    )
    assert "connection refused" in endpoint_sentence(refused)
    assert endpoint_sentence(endpoint("imaps")) == (
        "The iPhone connects without a warning for incoming mail (IMAP, port 993)."
    )


def test_counts_and_summary() -> None:
    r = mixed_report()
    c = counts(r)
    assert (c["trusted"], c["prompt"], c["unchecked"], c["endpoints"]) == (2, 1, 1, 4)
    assert summary_sentence(r) == "4 endpoints: 2 trusted, 1 prompt, 1 could not be checked."
