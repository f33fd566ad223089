"""Discovery from an e-mail address or a domain, through a DNS server on loopback.

The lab serves the good-private chain (SAN mail.example.test only). DNS says:
incoming IMAP is at mail.example.test (covered), outgoing submission at outgoing.corp.test
(NOT covered: the classic cause of the prompt), POP3 is decidedly not offered (SRV "."),
and the MX is mx.corp.test (IPv6 only, nothing listening there).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailtls.exitcodes import ExitCode
from mailtls.lab.scenarios import Scenario
from mailtls.lab.servers import Lab
from mailtls.model import IPHONE_SWEEP, HostSource, Status, Verdict
from mailtls.report.json import report_to_json
from mailtls.report.outcome import exit_code
from mailtls.service import (
    RULE_DISCOVERY_COVERED,
    RULE_DISCOVERY_FAILED,
    RULE_DISCOVERY_NOT_COVERED,
    RULE_DOMAIN_NOT_A_HOST,
    check,
)
from tests.dnsserver import LoopbackDnsServer
from tests.report.schema import validate
from tests.service.conftest import options


@pytest.fixture(scope="module")
def dns(good_lab: Lab) -> Iterator[LoopbackDnsServer]:
    imaps, submission = good_lab.endpoints["imaps"], good_lab.endpoints["submission"]
    records = [
        f"_imaps._tcp.corp.test. SRV 0 1 {imaps} mail.example.test.",
        f"_submission._tcp.corp.test. SRV 0 1 {submission} outgoing.corp.test.",
        "_pop3._tcp.corp.test. SRV 0 0 0 .",
        "corp.test. MX 10 mx.corp.test.",
        "mail.example.test. A 127.0.0.1",
        "mail.example.test. AAAA ::1",
        "outgoing.corp.test. A 127.0.0.1",
        "mx.corp.test. AAAA ::1",
    ]
    with LoopbackDnsServer(records) as server:
        yield server


def _discover(target: str, dns: LoopbackDnsServer, **kw: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "address": (),
        "nameserver": dns.nameserver,
        "check_versions": False,
    }
    values.update(kw)
    return check([target], options(**values))


def test_discovery_from_an_email_address(
    good: Scenario, good_lab: Lab, dns: LoopbackDnsServer
) -> None:
    report = _discover("someone@corp.test", dns, timeout=4.0)
    imaps, submission = good_lab.endpoints["imaps"], good_lab.endpoints["submission"]
    assert (
        HostSource("mail.example.test", "SRV _imaps._tcp.corp.test", ("imaps",), imaps)
        in report.hosts
    )
    assert (
        HostSource(
            "outgoing.corp.test", "SRV _submission._tcp.corp.test", ("submission",), submission
        )
        in report.hosts
    )
    assert HostSource("mx.corp.test", "MX") in report.hosts
    assert not [h for h in report.hosts if "pop3" in h.schemes]  # SRV "." = not offered
    assert not [h for h in report.hosts if h.source == "argument"]  # the domain is not probed

    by_key = {(e.endpoint.host, e.endpoint.scheme, e.endpoint.address): e for e in report.endpoints}
    # every A and AAAA address is probed, each reported on its own
    assert by_key[("mail.example.test", "imaps", "127.0.0.1")].probe.status is Status.OK
    assert by_key[("mail.example.test", "imaps", "::1")].probe.status is not Status.OK
    outgoing = by_key[("outgoing.corp.test", "submission", "127.0.0.1")]
    assert outgoing.verdict is Verdict.PROMPT
    assert outgoing.analysis is not None
    assert any(f.check_key == "SSLHostname" for f in outgoing.analysis.findings)
    # the MX host gets the whole sweep, on its IPv6 address
    assert sorted(
        e.endpoint.scheme for e in report.endpoints if e.endpoint.host == "mx.corp.test"
    ) == sorted(IPHONE_SWEEP)

    findings = {f.evidence.get("host"): f for f in report.findings if f.category == "discovery"}
    assert findings["mail.example.test"].rule_id == RULE_DISCOVERY_COVERED
    not_covered = findings["outgoing.corp.test"]
    assert not_covered.rule_id == RULE_DISCOVERY_NOT_COVERED
    assert "SRV _submission._tcp.corp.test" in not_covered.summary
    assert "it is for mail.example.test" in not_covered.summary
    assert "mx.corp.test" not in findings  # nothing served there: no certificate to judge
    assert exit_code(report) is ExitCode.IPHONE_FAILS
    validate(report_to_json(report))  # discovery findings and IPv6 endpoints in the schema
    asked = {name for name, _ in dns.queries}
    assert {"_imaps._tcp.corp.test", "corp.test", "imap.corp.test"} <= asked


def test_bare_domain_without_address_probes_only_what_dns_names(dns: LoopbackDnsServer) -> None:
    report = _discover("corp.test", dns, timeout=4.0)
    assert not [e for e in report.endpoints if e.endpoint.host == "corp.test"]
    assert [f.rule_id for f in report.findings if f.evidence.get("domain") == "corp.test"] == [
        RULE_DOMAIN_NOT_A_HOST
    ]
    assert {h.host for h in report.hosts} >= {
        "mail.example.test",
        "outgoing.corp.test",
        "mx.corp.test",
    }


def test_no_discovery_with_no_discover_or_a_host_name_with_port(dns: LoopbackDnsServer) -> None:
    before = len(dns.queries)
    report = _discover("mail.example.test:993", dns, timeout=2.0)
    asked = {name for name, _ in dns.queries[before:]}
    assert asked == {"mail.example.test"}
    assert [h.source for h in report.hosts] == ["argument"]
    before = len(dns.queries)
    _discover("mail.example.test", dns, timeout=2.0, discover=False)
    assert {name for name, _ in dns.queries[before:]} == {"mail.example.test"}


def test_a_domain_with_nothing_is_a_discovery_failure(dns: LoopbackDnsServer) -> None:
    report = _discover("nobody@empty.test", dns, timeout=2.0)
    assert not report.endpoints
    (finding,) = report.findings
    assert finding.rule_id == RULE_DISCOVERY_FAILED and "empty.test" in finding.summary
    assert exit_code(report) is ExitCode.UNCHECKED
    validate(report_to_json(report))
