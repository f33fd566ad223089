"""The across-hosts and history families: registered rules whose findings carry their metadata.

These findings are made from several endpoint reports (or the history), not from one chain;
each fires and stays silent here, and what the finding says about the rule (id, title,
category, citation) is what ``mailtls rules`` lists.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from mailtls.analysis import RULES
from mailtls.analysis.rules.across_hosts import (
    analysis_error_finding,
    consistency_findings,
    discovery_failed_finding,
    discovery_findings,
    domain_without_address_finding,
)
from mailtls.history import PreviousCheck, leaf_changed_finding
from mailtls.model import Category, Finding, HostSource, Severity, Verdict
from tests.report.factory import HOSTNAME_FINDING, NOW, endpoint


def _from_registry(finding: Finding) -> None:
    meta = RULES[finding.rule_id]
    assert (finding.title, finding.category, finding.citation) == (
        meta.title,
        meta.category,
        meta.citation,
    )


def test_consistency_leaf_differs_fires_and_stays_silent() -> None:
    (finding,) = consistency_findings(
        [endpoint("imaps"), endpoint("submission", leaf_cn="old.example.com")]
    )
    assert finding.rule_id == "consistency_leaf_differs"
    assert finding.category is Category.CONSISTENCY and finding.fix == RULES[finding.rule_id].fix
    _from_registry(finding)
    assert consistency_findings([endpoint("imaps"), endpoint("submission")]) == ()


def test_discovery_name_covered_and_not_covered() -> None:
    hosts = [HostSource("mail.example.com", "MX"), HostSource("smtp.example.com", "guess smtp.")]
    reports = [
        endpoint("imaps"),
        endpoint("submission", host="smtp.example.com", findings=(HOSTNAME_FINDING,)),
    ]
    found = {f.evidence["host"]: f for f in discovery_findings(hosts, reports)}
    assert found["mail.example.com"].rule_id == "discovery_name_covered"
    assert found["smtp.example.com"].rule_id == "discovery_name_not_covered"
    assert found["smtp.example.com"].check_key == "SSLHostname"
    for finding in found.values():
        _from_registry(finding)
    assert discovery_findings([HostSource("mail.example.com", "argument")], reports) == ()


def test_discovery_failed_and_domain_not_a_host() -> None:
    failed = discovery_failed_finding("empty.test", "empty.test: no mail host found")
    assert failed.rule_id == "discovery_failed" and failed.severity is Severity.ERROR
    bare = domain_without_address_finding("example.test", "no A/AAAA record")
    assert bare.rule_id == "discovery_domain_not_a_host" and bare.severity is Severity.INFO
    for finding in (failed, bare):
        _from_registry(finding)


def test_internal_analysis_error() -> None:
    finding = analysis_error_finding("imaps://x:993", "the chain analysis", ValueError("boom"))
    assert finding.rule_id == "internal_analysis_error" and "boom" in finding.summary
    _from_registry(finding)


def test_history_leaf_changed_fires_and_stays_silent() -> None:
    current = endpoint("imaps", verdict=Verdict.PROMPT, leaf_cn="new.example.com")
    assert current.analysis is not None
    previous = PreviousCheck(
        url=current.endpoint.url,
        address=current.endpoint.address or "",
        leaf_sha256="0" * 64,
        verdict="trusted",
        since=NOW - timedelta(days=30),
        last_checked=NOW - timedelta(days=1),
    )
    finding = leaf_changed_finding(previous, current)
    assert finding is not None and finding.rule_id == "history_leaf_changed"
    assert finding.severity is Severity.WARNING and finding.remedy == "stale_exception"
    _from_registry(finding)
    same = replace(previous, leaf_sha256=current.analysis.chain[0].sha256)
    assert leaf_changed_finding(same, current) is None


def test_every_finding_builder_outside_the_rules_uses_a_registered_rule() -> None:
    """``mailtls rules`` lists every rule id a finding can carry."""
    for rule_id in (
        "consistency_leaf_differs",
        "discovery_name_covered",
        "discovery_name_not_covered",
        "discovery_failed",
        "discovery_domain_not_a_host",
        "internal_analysis_error",
        "history_leaf_changed",
        "certificate_unreadable",
        "tls10_11_deprecated",
    ):
        assert rule_id in RULES
