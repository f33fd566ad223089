"""Cross-endpoint findings on hand-built endpoint reports: each fires and stays silent."""

from __future__ import annotations

from mailtls.model import Category, HostSource, Severity, Status, Verdict
from mailtls.service import (
    RULE_CONSISTENCY,
    RULE_DISCOVERY_COVERED,
    RULE_DISCOVERY_NOT_COVERED,
    consistency_findings,
    discovery_findings,
)
from tests.report.factory import HOSTNAME_FINDING, endpoint


def test_ports_serving_different_leaves_are_named() -> None:
    reports = [
        endpoint("imaps"),
        endpoint("submission", leaf_cn="old.example.com", verdict=Verdict.PROMPT),
        endpoint("smtp", leaf_cn="old.example.com", verdict=Verdict.PROMPT),
    ]
    (finding,) = consistency_findings(reports)
    assert finding.rule_id == RULE_CONSISTENCY and finding.category is Category.CONSISTENCY
    assert finding.severity is Severity.ERROR  # trusted on one port, prompt on others
    assert "192.0.2.10 ports 587, 25" in finding.summary
    assert "192.0.2.10 port 993" in finding.summary
    ports = [
        sorted(e["port"] for e in group["endpoints"]) for group in finding.evidence["certificates"]
    ]
    assert ports == [[25, 587], [993]]  # the larger group first


def test_severity_follows_what_the_iphone_does() -> None:
    trusted_everywhere = [endpoint("imaps"), endpoint("smtp", leaf_cn="mx.example.com")]
    assert consistency_findings(trusted_everywhere)[0].severity is Severity.INFO
    prompt_everywhere = [
        endpoint("imaps", verdict=Verdict.PROMPT),
        endpoint("imaps", address="2001:db8::1", leaf_cn="other", verdict=Verdict.PROMPT),
    ]
    (finding,) = consistency_findings(prompt_everywhere)
    assert finding.severity is Severity.WARNING and "2001:db8::1" in finding.summary


def test_silent_when_every_endpoint_serves_the_same_leaf_or_none() -> None:
    same = [endpoint("imaps"), endpoint("imaps", address="2001:db8::1"), endpoint("smtp")]
    assert consistency_findings(same) == ()
    refused = endpoint("pop3", verdict=None, status=Status.REFUSED)
    assert consistency_findings([endpoint("imaps"), refused]) == ()
    other_hosts = [endpoint("imaps"), endpoint("imaps", host="b.example.com", leaf_cn="b")]
    assert consistency_findings(other_hosts) == ()


def test_discovery_names_covered_or_not() -> None:
    hosts = [
        HostSource("mail.example.com", "SRV _imaps._tcp.example.com", ("imaps",), 993),
        HostSource("smtp.example.com", "guess smtp."),
        HostSource("typed.example.com", "argument"),
    ]
    reports = [
        endpoint("imaps"),
        endpoint(
            "submission",
            host="smtp.example.com",
            leaf_cn="server17.hoster.net",
            verdict=Verdict.PROMPT,
            findings=(HOSTNAME_FINDING,),
        ),
        endpoint(
            "imaps", host="typed.example.com", verdict=Verdict.PROMPT, findings=(HOSTNAME_FINDING,)
        ),
    ]
    found = {f.evidence["host"]: f for f in discovery_findings(hosts, reports)}
    assert set(found) == {
        "mail.example.com",
        "smtp.example.com",
    }  # typed names are not "discovered"
    assert found["mail.example.com"].rule_id == RULE_DISCOVERY_COVERED
    assert found["mail.example.com"].severity is Severity.INFO
    missing = found["smtp.example.com"]
    assert missing.rule_id == RULE_DISCOVERY_NOT_COVERED and missing.severity is Severity.ERROR
    assert (
        "(from guess smtp.)" in missing.summary
        and "it is for server17.hoster.net" in missing.summary
    )


def test_discovery_silent_without_a_certificate() -> None:
    hosts = [HostSource("mx.example.com", "MX")]
    assert (
        discovery_findings(
            hosts, [endpoint("smtp", host="mx.example.com", verdict=None, status=Status.TIMEOUT)]
        )
        == ()
    )
