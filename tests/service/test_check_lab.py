"""service.check end to end against in-process lab servers on loopback."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from mailtls.exitcodes import ExitCode
from mailtls.lab.scenarios import Scenario
from mailtls.lab.servers import Lab, start_lab
from mailtls.model import IPHONE_SWEEP, Endpoint, EndpointReport, HostSource, Phase, Status, Verdict
from mailtls.report.json import report_to_json
from mailtls.report.outcome import exit_code
from mailtls.service import RULE_CONSISTENCY, CheckObserver, check
from tests.dnsserver import LoopbackDnsServer
from tests.report.schema import validate
from tests.service.conftest import options, scenario, url_targets


def test_all_seven_endpoints_trusted_with_the_root_installed(
    good: Scenario, good_lab: Lab, root_file: Path
) -> None:
    report = check(url_targets(good_lab, good.host), options(ca_files=(root_file,)))
    assert not report.errors
    assert sorted(e.endpoint.scheme for e in report.endpoints) == sorted(IPHONE_SWEEP)
    served = [hashlib.sha256(der).hexdigest() for der in good.chain_ders]
    for e in report.endpoints:
        assert e.probe.status is Status.OK, e.probe.error
        assert e.endpoint.address == "127.0.0.1" and e.endpoint.host == good.host
        assert e.verdict is Verdict.TRUSTED, e.analysis
        assert e.analysis is not None
        assert [c.sha256 for c in e.analysis.chain] == served
    assert exit_code(report) is ExitCode.OK
    assert report.options["ca_files"] == [str(root_file)]
    assert "installed on the iPhone" in report.options["user_trust_store"]
    assert report.options["trust_store"]


def test_without_the_root_every_endpoint_prompts(good: Scenario, good_lab: Lab) -> None:
    report = check(url_targets(good_lab, good.host), options())
    assert {e.verdict for e in report.endpoints} == {Verdict.PROMPT}
    assert exit_code(report) is ExitCode.IPHONE_FAILS
    for e in report.endpoints:  # certificate details stay available for untrusted chains
        assert e.analysis is not None and len(e.analysis.chain) == len(good.chain_ders)


def test_bad_target_becomes_an_error_line_and_loses_nothing(good: Scenario, good_lab: Lab) -> None:
    targets = ["imapx://mail.example.test", url_targets(good_lab, good.host)[0], "bad host!"]
    report = check(targets, options(check_versions=False))
    assert len(report.errors) == 2
    assert "imapx" in report.errors[0]
    assert len(report.endpoints) == 1 and report.endpoints[0].probe.status is Status.OK


def test_observer_sees_hosts_starts_and_results(good: Scenario, good_lab: Lab) -> None:
    class Recorder(CheckObserver):
        def __init__(self) -> None:
            self.hosts: list[HostSource] = []
            self.started: list[Endpoint] = []
            self.done: list[EndpointReport] = []

        def on_hosts(self, hosts: object) -> None:
            self.hosts.extend(hosts)  # type: ignore[call-overload]

        def on_endpoint_started(self, endpoint: Endpoint) -> None:
            self.started.append(endpoint)

        def on_endpoint_done(self, report: EndpointReport) -> None:
            assert report.endpoint in self.started
            self.done.append(report)

    recorder = Recorder()
    report = check(
        url_targets(good_lab, good.host), options(check_versions=False), observer=recorder
    )
    assert [h.source for h in recorder.hosts] == ["argument"] * 7
    assert len(recorder.started) == len(recorder.done) == 7
    assert sorted(r.endpoint for r in recorder.done) == sorted(e.endpoint for e in report.endpoints)


def test_unresolvable_and_refused_report_within_the_deadline(good: Scenario, good_lab: Lab) -> None:
    with LoopbackDnsServer(["mail.example.test. A 127.0.0.1"]) as dns:
        started = time.monotonic()
        report = check(
            [
                "imaps://nothere.example.test",
                url_targets(good_lab, good.host)[0],
                "imaps://127.0.0.1:1",
            ],
            options(address=(), nameserver=dns.nameserver, timeout=3.0, check_versions=False),
        )
        elapsed = time.monotonic() - started
    by_host = {e.endpoint.host: e for e in report.endpoints}
    missing = by_host["nothere.example.test"]
    assert missing.probe.status is Status.DNS_ERROR and missing.probe.phase is Phase.DNS
    assert "NXDOMAIN" in (missing.probe.error or "")
    assert by_host["127.0.0.1"].probe.status is Status.REFUSED
    assert by_host[good.host].probe.status is Status.OK
    assert exit_code(report) is ExitCode.IPHONE_FAILS  # the good lab still prompts (no root)
    assert elapsed < 4.0


def test_addresses_of_one_host_serving_different_leaves(good: Scenario, good_lab: Lab) -> None:
    other = scenario("self-signed-leaf")
    with start_lab(other.chain_pem, other.key_pem, bind="::1", ports=good_lab.endpoints) as old:
        assert old.endpoints == good_lab.endpoints
        report = check(
            url_targets(good_lab, good.host)[:2],
            options(address=("127.0.0.1", "::1"), check_versions=False),
        )
    assert len(report.endpoints) == 4
    (finding,) = [f for f in report.findings if f.rule_id == RULE_CONSISTENCY]
    assert "::1" in finding.summary and "127.0.0.1" in finding.summary
    groups = finding.evidence["certificates"]
    assert len(groups) == 2
    addresses = [{e["address"] for e in g["endpoints"]} for g in groups]
    assert sorted(map(sorted, addresses)) == [["127.0.0.1"], ["::1"]]
    validate(report_to_json(report))


def test_same_leaf_everywhere_is_consistent(good: Scenario, good_lab: Lab) -> None:
    report = check(url_targets(good_lab, good.host), options(check_versions=False))
    assert not [f for f in report.findings if f.rule_id == RULE_CONSISTENCY]


def test_a_dead_dns_server_with_many_hosts() -> None:
    """With many hosts and a DNS server that never answers, every host reports a one-line
    DNS error within --timeout (no hang, no host lost), and no thread outlives the check."""
    import threading

    threads_before = set(threading.enumerate())
    hosts = [f"h{i}.dead.test" for i in range(12)]
    with LoopbackDnsServer([], drop=hosts) as dns:
        started = time.monotonic()
        report = check(
            [f"imaps://{h}" for h in hosts],
            options(address=(), nameserver=dns.nameserver, timeout=1.0, concurrency=12),
        )
        elapsed = time.monotonic() - started
    assert sorted(e.endpoint.host for e in report.endpoints) == sorted(hosts)
    for endpoint in report.endpoints:
        assert endpoint.probe.status is Status.DNS_ERROR and endpoint.probe.phase is Phase.DNS
        assert endpoint.probe.error and "\n" not in endpoint.probe.error
        assert endpoint.endpoint.host in endpoint.probe.error
    assert elapsed < 8.0
    assert set(threading.enumerate()) <= threads_before
