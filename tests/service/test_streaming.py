"""A streamed check (``keep_endpoints=False``, what ``--format jsonl`` uses) holds no endpoint
once its host is finished, yet says exactly what a kept check says (fleet memory).

The lab serves the good-private chain (mail.example.test) and, in a second lab, a chain for
another name. DNS on loopback: an e-mail address whose SRV records lead to a covered and an
uncovered host name (discovery findings), and ``mixed.corp.test``, whose IMAP port reaches
one lab and SMTP port the other (a consistency finding).
"""

from __future__ import annotations

import asyncio
import gc
import io
import weakref
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mailtls.history import History
from mailtls.lab.scenarios import Scenario
from mailtls.lab.servers import Lab, start_lab
from mailtls.model import EndpointReport, Report
from mailtls.report.json import JsonLinesWriter, closing_lines
from mailtls.report.outcome import FailOn, Tally, exit_code
from mailtls.service import (
    RULE_CONSISTENCY,
    RULE_DISCOVERY_NOT_COVERED,
    CheckObserver,
    _Check,
    _endpoint_order,
    check,
    consistency_findings,
    discovery_findings,
)
from tests.dnsserver import LoopbackDnsServer
from tests.service.conftest import options, scenario


@pytest.fixture(scope="module")
def wrong_lab() -> Iterator[Lab]:
    wrong = scenario("wrong-host")
    with start_lab(wrong.chain_pem, wrong.key_pem) as lab:
        yield lab


@pytest.fixture(scope="module")
def dns(good_lab: Lab) -> Iterator[LoopbackDnsServer]:
    imaps, submission = good_lab.endpoints["imaps"], good_lab.endpoints["submission"]
    records = [
        f"_imaps._tcp.corp.test. SRV 0 1 {imaps} mail.example.test.",
        f"_submission._tcp.corp.test. SRV 0 1 {submission} outgoing.corp.test.",
        "_pop3._tcp.corp.test. SRV 0 0 0 .",
        "mail.example.test. A 127.0.0.1",
        "outgoing.corp.test. A 127.0.0.1",
        "mixed.corp.test. A 127.0.0.1",
    ]
    with LoopbackDnsServer(records) as server:
        yield server


def _targets(good_lab: Lab, wrong_lab: Lab) -> list[str]:
    return [
        "someone@corp.test",
        f"imaps://mixed.corp.test:{good_lab.endpoints['imaps']}",
        f"smtp://mixed.corp.test:{wrong_lab.endpoints['smtp']}",
        f"submission://mixed.corp.test:{wrong_lab.endpoints['submission']}",
    ]


class _Seen(CheckObserver):
    """Keeps a weak reference to every endpoint report, and a strong one when asked."""

    def __init__(self, keep: bool = False) -> None:
        self.refs: list[weakref.ref[Any]] = []  # endpoint reports and their analyses
        self.kept: list[EndpointReport] = []
        self.keep = keep
        self.most_alive = 0

    def on_endpoint_done(self, report: EndpointReport) -> None:
        self.refs.append(weakref.ref(report))
        if report.analysis is not None:
            self.refs.append(weakref.ref(report.analysis))
        if self.keep:
            self.kept.append(report)
        self.most_alive = max(self.most_alive, self.alive())

    def alive(self) -> int:
        return sum(ref() is not None for ref in self.refs)


def _dns_options(dns: LoopbackDnsServer, **overrides: object) -> object:
    values: dict[str, object] = {
        "address": (),
        "nameserver": dns.nameserver,
        "check_versions": False,
        "discover": True,
    }
    values.update(overrides)
    return options(**values)


def test_a_streamed_check_says_what_a_kept_check_says(
    good: Scenario, good_lab: Lab, wrong_lab: Lab, dns: LoopbackDnsServer
) -> None:
    seen = _Seen(keep=True)  # the test keeps every endpoint, the check does not
    report = check(
        _targets(good_lab, wrong_lab),
        _dns_options(dns),  # type: ignore[arg-type]
        observer=seen,
        keep_endpoints=False,
    )
    assert report.endpoints == ()
    endpoints = sorted(seen.kept, key=lambda r: _endpoint_order(r.endpoint))
    assert len(endpoints) == 5  # 2 discovered, 3 typed
    # What the kept check computes from the same endpoints, at the end, in one go:
    kept = replace(report, endpoints=tuple(endpoints))
    expected = consistency_findings(endpoints) + discovery_findings(report.hosts, endpoints)
    assert report.findings == expected
    rules = [f.rule_id for f in report.findings]
    assert RULE_CONSISTENCY in rules and RULE_DISCOVERY_NOT_COVERED in rules  # can fail
    for fail_on in FailOn:
        assert exit_code(report, fail_on, tally=Tally(endpoints)) == exit_code(kept, fail_on)
    assert closing_lines(report) == closing_lines(kept)


def test_kept_and_streamed_checks_find_the_same(
    good_lab: Lab, wrong_lab: Lab, dns: LoopbackDnsServer
) -> None:
    targets = _targets(good_lab, wrong_lab)
    kept = check(targets, _dns_options(dns))  # type: ignore[arg-type]
    streamed = check(targets, _dns_options(dns), keep_endpoints=False)  # type: ignore[arg-type]
    assert [(f.rule_id, f.summary) for f in streamed.findings] == [
        (f.rule_id, f.summary) for f in kept.findings
    ]
    assert kept.endpoints and not streamed.endpoints


def _fleet(good_lab: Lab, wrong_lab: Lab, hosts: int) -> list[str]:
    targets = []
    for i in range(hosts):
        lab = good_lab if i % 2 else wrong_lab
        targets += [f"{s}://h{i:02d}.example.test:{p}" for s, p in lab.endpoints.items()]
    return targets


def test_a_streamed_check_lets_go_of_finished_hosts(good_lab: Lab, wrong_lab: Lab) -> None:
    targets = _fleet(good_lab, wrong_lab, hosts=24)  # 168 endpoints, 7 per host
    gc.collect()
    streamed = _Seen()
    report = check(
        targets,
        options(concurrency=4, check_versions=False),
        observer=streamed,
        keep_endpoints=False,
    )
    gc.collect()
    assert len(streamed.refs) == 2 * len(targets)  # every endpoint was judged
    assert streamed.alive() == 0
    # In flight: the hosts being probed (concurrency 4, so a handful of 7-endpoint hosts;
    # two references per endpoint: its report and its host's analysis).
    assert streamed.most_alive <= 6 * 7 * 2

    kept_seen = _Seen()
    kept = check(targets, options(concurrency=4, check_versions=False), observer=kept_seen)
    gc.collect()
    assert kept_seen.alive() == 2 * len(targets)  # the same measure, kept: it can fail
    assert len(kept.endpoints) == len(targets)
    assert report.findings == () == kept.findings


def _rows(path: Path, hosts: list[str]) -> set[tuple[object, ...]]:
    with History.open(path) as history:
        return {
            (r.url, r.host, r.address, r.status, r.verdict, r.leaf_sha256, r.chain_sha256)
            for host in hosts
            for r in history.rows(host)
        }


def test_a_streamed_check_records_the_same_history_in_batches(
    good_lab: Lab, wrong_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    targets = _fleet(good_lab, wrong_lab, hosts=6)
    hosts = [f"h{i:02d}.example.test" for i in range(6)]
    batches: list[int] = []
    record_endpoints = History.record_endpoints

    def counting(self: History, reports: object, started_at: object) -> None:
        batches.append(len(list(reports)))  # type: ignore[call-overload]
        record_endpoints(self, reports, started_at)  # type: ignore[arg-type]

    monkeypatch.setattr(History, "record_endpoints", counting)
    monkeypatch.setattr(_Check, "HISTORY_BATCH", 10)
    kept_db, streamed_db = tmp_path / "kept.sqlite", tmp_path / "streamed.sqlite"
    check(targets, options(check_versions=False, history=kept_db))
    assert batches == [42]  # one transaction at the end
    batches.clear()
    check(targets, options(check_versions=False, history=streamed_db), keep_endpoints=False)
    assert sum(batches) == 42 and len(batches) > 1 and max(batches) <= 10 + 7
    assert _rows(streamed_db, hosts) == _rows(kept_db, hosts)
    assert len(_rows(kept_db, hosts)) == 42


def test_the_jsonl_writer_tallies_what_it_wrote(good_lab: Lab, wrong_lab: Lab) -> None:
    out = io.StringIO()
    writer = JsonLinesWriter(out)
    targets = _fleet(good_lab, wrong_lab, hosts=2)
    report: Report = check(
        targets, options(check_versions=False), observer=writer, keep_endpoints=False
    )
    kept = check(targets, options(check_versions=False))
    assert writer.tally.count == len(targets) == out.getvalue().count('{"record":"endpoint"')
    for fail_on in FailOn:
        assert exit_code(report, fail_on, tally=writer.tally) == exit_code(kept, fail_on)


class _TaskCounter(CheckObserver):
    """The most tasks alive at once, sampled as each endpoint starts."""

    def __init__(self) -> None:
        self.most = 0

    def on_endpoint_started(self, endpoint: object) -> None:
        self.most = max(self.most, len(asyncio.all_tasks()))


@pytest.mark.parametrize("keep", [True, False])
def test_hosts_start_only_as_earlier_ones_finish(good_lab: Lab, wrong_lab: Lab, keep: bool) -> None:
    targets = _fleet(good_lab, wrong_lab, hosts=30)  # 210 endpoints
    counter = _TaskCounter()
    check(
        targets,
        options(concurrency=2, check_versions=False),
        observer=counter,
        keep_endpoints=keep,
    )
    # concurrency 2: at most 2 x 2 hosts under way, each a task and 7 endpoint tasks (and
    # the check's own few); all 30 hosts at once would be 240.
    ahead = _Check.HOSTS_AHEAD * 2
    assert 7 < counter.most <= ahead * (1 + 7) + 4
