"""One vocabulary: the verdict words and the orders come from the enums in mailtls.model."""

from __future__ import annotations

import re

from mailtls.model import Severity, Status, Verdict
from mailtls.remedy.runbooks import RUNBOOKS, runbook_markdown
from mailtls.report import nagios, text
from mailtls.report.words import verdict_label
from tests.report.factory import endpoint, mixed_report, report


def test_the_label_is_the_json_word_spelled_out() -> None:
    assert [v.label for v in Verdict] == ["TRUSTED", "NEEDS PROFILE", "PROMPT", "FATAL"]
    assert [str(v) for v in Verdict] == ["trusted", "needs_profile", "prompt", "fatal"]


def test_ranks_order_worse_higher() -> None:
    assert sorted(Severity, key=lambda s: s.rank) == [
        Severity.INFO,
        Severity.WARNING,
        Severity.ERROR,
        Severity.FATAL,
    ]
    assert sorted(Verdict, key=lambda v: v.rank) == [
        Verdict.TRUSTED,
        Verdict.NEEDS_PROFILE,
        Verdict.PROMPT,
        Verdict.FATAL,
    ]


def test_text_nagios_and_runbooks_show_the_same_verdict_words() -> None:
    mixed = mixed_report()
    words = {verdict_label(er) for er in mixed.endpoints}
    assert "PROMPT" in words and "TRUSTED" in words
    rendered = text.render(mixed)
    heads = set(re.findall(r"^([A-Z][A-Z ]*?) +[a-z0-9]+://", rendered, re.M))
    assert heads == words
    long_output = nagios.render(mixed).splitlines()[1:]
    for er in mixed.endpoints:
        assert any(f"] {verdict_label(er)} {er.endpoint.url} " in line for line in long_output)
    markdown = runbook_markdown(RUNBOOKS[0])
    for verdict in Verdict:
        assert f"### {verdict.label} (`{verdict}` in JSON)" in markdown


def test_an_endpoint_without_a_verdict_says_why_in_both_front_ends() -> None:
    timed_out = endpoint("pop3", verdict=None, status=Status.TIMEOUT)
    assert verdict_label(timed_out) == "TIMED OUT"
    assert "TIMED OUT pop3://" in text.render(report(timed_out))
