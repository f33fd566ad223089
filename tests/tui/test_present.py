"""The shared words (mailtls.report.words) as the screens use them: pure functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from mailtls.model import (
    Category,
    Endpoint,
    EndpointReport,
    Finding,
    ProbeResult,
    Report,
    Severity,
    Status,
)
from mailtls.report.words import (
    _lower_first,
    certificate_fields,
    overview_rank,
    sort_findings,
    validity_text,
)
from mailtls.tui.present import summary_sentences
from tests.tui.reports import AT, endpoint_report, make_report


def _refused(scheme: str, port: int) -> EndpointReport:
    endpoint = Endpoint(scheme, "mail.example.test", port, "127.0.0.1")
    return EndpointReport(ProbeResult(endpoint, Status.REFUSED, error="connection refused"), None)


def test_lower_first_keeps_acronyms_and_names() -> None:
    assert _lower_first("The certificate expired.") == "the certificate expired"
    assert _lower_first("TLS 1.0 only.") == "TLS 1.0 only"
    assert _lower_first("iPhone warns") == "iPhone warns"


def test_summary_groups_ports_with_the_same_story_and_skips_closed_ports() -> None:
    report = make_report(
        [
            endpoint_report("submission", "wrong-host"),
            endpoint_report("submissions", "wrong-host"),
            _refused("pop3", 110),
        ]
    )
    sentences = summary_sentences(report)
    assert sentences == [
        "The iPhone will warn on outgoing mail (ports 465, 587): the certificate there is "
        "for server17.hoster.example, not mail.example.test."
    ]


def test_summary_when_nothing_answers_says_so() -> None:
    report = make_report([_refused("imaps", 993), _refused("submission", 587)])
    assert summary_sentences(report) == [
        "Incoming and outgoing mail (ports 587, 993) is not offered by this host "
        "(the connection was refused).",
        "No certificate could be checked: check the host name and address, and that the "
        "mail server is running and reachable from here (n changes the target).",
    ]


def test_summary_of_an_empty_report_names_the_bad_input() -> None:
    report = Report(("imapx://x",), (), AT, AT, errors=("'imapx://x': unknown scheme imapx",))
    assert summary_sentences(report) == ["Nothing was checked: 'imapx://x': unknown scheme imapx"]


def test_rank_orders_fatal_prompt_profile_unchecked_closed_trusted() -> None:
    fatal = endpoint_report("imaps", "md5-leaf", root_installed=True)
    prompt = endpoint_report("imaps", "wrong-host", root_installed=True)
    profile = endpoint_report("imaps", "good-private-with-root")
    trusted = endpoint_report("imaps", "good-private", root_installed=True)
    timeout = EndpointReport(
        ProbeResult(Endpoint("imap", "mail.example.test", 143), Status.TIMEOUT), None
    )
    ranks = [
        overview_rank(e) for e in (fatal, prompt, profile, timeout, _refused("pop3", 110), trusted)
    ]
    assert ranks == sorted(ranks) and len(set(ranks)) == 6


def test_specific_findings_come_before_the_generic_no_trusted_root() -> None:
    generic = Finding(
        "chain_anchor_required",
        "Root",
        Category.TRUST,
        Severity.ERROR,
        "x",
        check_key="AnchorTrusted",
    )
    missing = replace(generic, check_key="MissingIntermediate")
    deployment = Finding(
        "chain_missing_intermediate",
        "Sends no intermediate",
        Category.DEPLOYMENT,
        Severity.ERROR,
        "y",
    )
    host = Finding(
        "hostname_match", "Host", Category.TRUST, Severity.ERROR, "z", check_key="SSLHostname"
    )
    info = Finding("note", "Note", Category.NOTICE, Severity.INFO, "i")
    ordered = sort_findings([info, generic, missing, deployment, host])
    assert [f.rule_id for f in ordered][:2] == ["hostname_match", "chain_missing_intermediate"]
    assert ordered[-1] is info


def test_validity_text_counts_days_and_says_expired() -> None:
    er = endpoint_report("imaps", "expired", root_installed=True)
    assert er.analysis is not None
    leaf = er.analysis.chain[0]
    text = validity_text(leaf, AT)
    assert "(397 days)" in text and "EXPIRED 30 days ago" in text
    assert "days left" in validity_text(leaf, datetime(2026, 1, 1, tzinfo=UTC))


def test_certificate_fields_flag_the_field_a_finding_names() -> None:
    er = endpoint_report("imaps", "expired", root_installed=True)
    assert er.analysis is not None
    fields = certificate_fields(er.analysis.chain[0], er.analysis.findings, AT)
    flagged = {f.key for f in fields if f.is_problem}
    assert flagged == {"validity"}
    clean = endpoint_report("imaps", "good-private", root_installed=True)
    assert clean.analysis is not None
    assert not any(
        f.is_problem
        for f in certificate_fields(clean.analysis.chain[0], clean.analysis.findings, AT)
    )
