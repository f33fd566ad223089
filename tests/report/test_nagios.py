"""--format nagios: one status line, perfdata per chain element, state numbers."""

from __future__ import annotations

import re

from mailtls.model import Status, Verdict
from mailtls.report.nagios import NagiosState, render, state
from tests.report.factory import EXPIRY_FINDING, endpoint, mixed_report, report

STATUS_LINE = re.compile(r"^MAILTLS (OK|WARNING|CRITICAL|UNKNOWN) - [^|]+ \| (.+)$")
PERF_ITEM = re.compile(r"^'[^'=]+'=-?\d+(\.\d+)?(s|%|B|c)?(;[-\d.]*){0,4}$")


def _perf(text: str) -> list[str]:
    match = STATUS_LINE.match(text.splitlines()[0])
    assert match, text.splitlines()[0]
    items = match.group(2).split(" ")
    for item in items:
        assert PERF_ITEM.match(item), item
    return items


def test_all_trusted_is_ok_with_days_per_chain_element() -> None:
    r = report(endpoint("imaps"))
    text = render(r)
    assert state(r) is NagiosState.OK
    items = _perf(text)
    assert "'imaps_993_192.0.2.10_days_chain_elem0'=60;30;0" in items
    assert "'imaps_993_192.0.2.10_days_chain_elem1'=900;30;0" in items


def test_prompt_and_unreachable_are_critical() -> None:
    r = mixed_report()
    assert state(r) is NagiosState.CRITICAL
    text = render(r)
    assert text.startswith("MAILTLS CRITICAL - 3 of 4 endpoints need attention")
    _perf(text)
    assert (
        state(report(endpoint("pop3", verdict=None, status=Status.TIMEOUT))) is NagiosState.CRITICAL
    )
    assert state(report(endpoint("imaps", verdict=Verdict.NEEDS_PROFILE))) is NagiosState.CRITICAL


def test_expiring_soon_is_warning() -> None:
    r = report(endpoint("imaps", days_left=12, findings=(EXPIRY_FINDING,)))
    assert state(r) is NagiosState.WARNING
    assert "=12;30;0" in render(r)


def test_nothing_checked_is_unknown() -> None:
    r = report(errors=("'::x': bad",))
    assert state(r) is NagiosState.UNKNOWN
    assert render(r).startswith("MAILTLS UNKNOWN - nothing checked")


def test_expired_certificate_gives_negative_days() -> None:
    r = report(endpoint("imaps", verdict=Verdict.PROMPT, days_left=-3.5))
    assert "'imaps_993_192.0.2.10_days_chain_elem0'=-4;30;0" in _perf(render(r))
