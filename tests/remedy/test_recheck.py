"""mailtls.remedy.recheck: before and after, endpoint by endpoint.

Reports are built by hand from ProbeResults; the analyses come from the real engine
(helper D's analyze_chain) over chains made with mailtls.pki.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailtls import pki
from mailtls.model import Analysis, Endpoint, EndpointReport, ProbeResult, Report, Status, Verdict
from mailtls.remedy.recheck import Change, compare, render_text, summary

from .helpers import NOW

HOST = "mail.example.test"


@pytest.fixture(scope="module")
def chains() -> dict[str, list[bytes]]:
    window = {"not_before": NOW - timedelta(days=1), "not_after": NOW + timedelta(days=90)}
    root_key, leaf_key = pki.generate_key("ec", 256), pki.generate_key("ec", 256)
    root = pki.issue(pki.ca_spec("Example Root"), root_key, **window)
    good = pki.issue(pki.leaf_spec(HOST), leaf_key, issuer_cert=root, issuer_key=root_key, **window)
    renewed = pki.issue(
        pki.leaf_spec(HOST), leaf_key, issuer_cert=root, issuer_key=root_key, **window
    )
    wrong = pki.issue(
        pki.leaf_spec("other.example.test"),
        leaf_key,
        issuer_cert=root,
        issuer_key=root_key,
        **window,
    )
    der = pki.cert_to_der
    return {
        "root": [der(root)],
        "good": [der(good), der(root)],
        "renewed": [der(renewed), der(root)],
        "wrong": [der(wrong), der(root)],
    }


def _analysis(chain: list[bytes], root: list[bytes]) -> Analysis:
    from mailtls.analysis import analyze_chain
    from mailtls.analysis.stores import TrustStore
    from mailtls.model import AnchorKind

    user = TrustStore("test root", AnchorKind.USR, tuple(root))
    system = TrustStore("empty", AnchorKind.SYS, ())
    return analyze_chain(chain, HOST, at=NOW, system=system, user=user)


def _endpoint(
    scheme: str, port: int, chain: list[bytes] | None, root: list[bytes]
) -> EndpointReport:
    endpoint = Endpoint(scheme, HOST, port, "127.0.0.1")
    if chain is None:
        return EndpointReport(ProbeResult(endpoint, Status.TIMEOUT, error="timed out"), None)
    probe = ProbeResult(endpoint, Status.OK, chain=tuple(chain))
    return EndpointReport(probe, _analysis(chain, root))


def _report(*endpoints: EndpointReport) -> Report:
    return Report((HOST,), tuple(endpoints), NOW, NOW)


@pytest.mark.usefixtures("engine")
def test_rows_say_what_changed(chains: dict[str, list[bytes]]) -> None:
    root = chains["root"]
    before = _report(
        _endpoint("imaps", 993, chains["wrong"], root),  # -> fixed
        _endpoint("submission", 587, chains["good"], root),  # -> new certificate, still trusted
        _endpoint("submissions", 465, chains["good"], root),  # -> unchanged
        _endpoint("smtp", 25, chains["good"], root),  # -> worse
        _endpoint("pop3s", 995, chains["good"], root),  # -> unchecked after
        _endpoint("imap", 143, chains["good"], root),  # -> gone
    )
    after = _report(
        _endpoint("imaps", 993, chains["good"], root),
        _endpoint("submission", 587, chains["renewed"], root),
        _endpoint("submissions", 465, chains["good"], root),
        _endpoint("smtp", 25, chains["wrong"], root),
        _endpoint("pop3s", 995, None, root),
        _endpoint("pop3", 110, chains["good"], root),  # new
    )
    rows = {row.url: row for row in compare(before, after)}
    assert rows[f"imaps://{HOST}:993"].verdict_before is Verdict.PROMPT
    assert rows[f"imaps://{HOST}:993"].verdict_after is Verdict.TRUSTED
    assert rows[f"imaps://{HOST}:993"].change is Change.FIXED
    assert rows[f"submission://{HOST}:587"].change is Change.NEW_CERTIFICATE
    assert rows[f"submission://{HOST}:587"].leaf_changed
    assert rows[f"submissions://{HOST}:465"].change is Change.UNCHANGED
    assert not rows[f"submissions://{HOST}:465"].leaf_changed
    assert rows[f"smtp://{HOST}:25"].change is Change.WORSE
    assert rows[f"pop3s://{HOST}:995"].change is Change.UNCHECKED
    assert rows[f"pop3s://{HOST}:995"].status_after == "timeout"
    assert rows[f"imap://{HOST}:143"].change is Change.GONE
    assert rows[f"pop3://{HOST}:110"].change is Change.NEW
    assert next(iter(rows)) == f"imaps://{HOST}:993"  # the after-report's order first
    assert list(rows)[-1] == f"imap://{HOST}:143"  # then what is gone

    text = render_text(list(rows.values()))
    assert "fixed" in text and "timeout" in text and "127.0.0.1" in text
    assert text.splitlines()[0].split()[:5] == ["endpoint", "address", "before", "after", "change"]
    assert "Every endpoint is trusted now" not in text


@pytest.mark.usefixtures("engine")
def test_all_trusted_after_is_said(chains: dict[str, list[bytes]]) -> None:
    root = chains["root"]
    rows = compare(
        _report(_endpoint("imaps", 993, chains["wrong"], root)),
        _report(_endpoint("imaps", 993, chains["good"], root)),
    )
    assert summary(rows) == "1 endpoint(s): 1 fixed. Every endpoint is trusted now."


def test_empty_reports() -> None:
    assert compare(_report(), _report()) == []
    assert summary([]) == "No endpoints to compare."
