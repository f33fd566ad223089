"""A batch of 200+ endpoints on loopback: bounded concurrency, correct per-endpoint results."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter

from mailtls.lab.scenarios import Scenario
from mailtls.lab.servers import LabEvent, start_lab
from mailtls.model import Status, Verdict
from mailtls.service import check
from tests.service.conftest import options, scenario

CONCURRENCY = 8


def test_batch_of_203_endpoints_with_bounded_concurrency(good: Scenario) -> None:
    wrong = scenario("wrong-host")  # a second lab whose certificate names another host
    lock = threading.Lock()
    in_flight = 0
    peak = 0
    sni: Counter[str] = Counter()

    def on_event(event: LabEvent) -> None:
        nonlocal in_flight, peak
        with lock:
            if event.kind == "connected":
                in_flight += 1
                peak = max(peak, in_flight)
            elif event.kind in ("closed", "timeout"):
                in_flight -= 1
            elif event.kind == "tls":
                sni[event.detail.rsplit("sni=", 1)[-1]] += 1

    with (
        start_lab(good.chain_pem, good.key_pem, on_event=on_event) as good_lab,
        start_lab(wrong.chain_pem, wrong.key_pem, on_event=on_event) as wrong_lab,
    ):
        targets = []
        for i in range(15):
            targets += [f"{s}://host{i}.example.test:{p}" for s, p in good_lab.endpoints.items()]
        for i in range(14):
            targets += [f"{s}://other{i}.example.test:{p}" for s, p in wrong_lab.endpoints.items()]
        started = time.monotonic()
        report = check(
            targets, options(concurrency=CONCURRENCY, check_versions=False, timeout=20.0)
        )
        elapsed = time.monotonic() - started

    assert len(report.endpoints) == 203 and not report.errors
    assert all(e.probe.status is Status.OK for e in report.endpoints)
    good_leaf = good.chain_ders[0]
    good_sha = hashlib.sha256(good_leaf).hexdigest()
    for e in report.endpoints:
        assert e.analysis is not None
        from_good_lab = e.endpoint.host.startswith("host")
        leaf_names = e.analysis.chain[0].san
        # each endpoint reports the chain of the lab it reached, judged for its own name
        assert (f"DNS:{good.host}" in leaf_names) == from_good_lab
        assert (e.analysis.chain[0].sha256 == good_sha) == from_good_lab
        assert e.verdict is Verdict.PROMPT
        assert any(f.check_key == "SSLHostname" for f in e.analysis.findings)
    # SNI: every endpoint sent its own host name, once
    assert sni == Counter(
        {f"host{i}.example.test": 7 for i in range(15)}
        | {f"other{i}.example.test": 7 for i in range(14)}
    )
    # never more connections open at once than asked (a little slack: the server notes a
    # close slightly after the client has already started the next probe)
    print(f"peak connections {peak}, {len(report.endpoints)} endpoints in {elapsed:.2f} s")
    assert 2 <= peak <= CONCURRENCY + 2, peak
    assert elapsed < 15.0
