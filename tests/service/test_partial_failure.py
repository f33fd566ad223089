"""Partial failure is data: hostile endpoints in one check with a good one.

Refused, silent, no STARTTLS, NXDOMAIN and a TLS alert each get their status, phase and a
reason; the good endpoint still reports; the whole check ends within --timeout.
Servers: tests/hostile.py (in-process, loopback) and the lab for the good endpoint.
"""

from __future__ import annotations

import time

from mailtls import pki
from mailtls.exitcodes import ExitCode
from mailtls.lab.scenarios import Scenario
from mailtls.lab.servers import Lab
from mailtls.model import Phase, Status
from mailtls.report.json import report_to_json
from mailtls.report.outcome import exit_code
from mailtls.service import check
from tests.dnsserver import LoopbackDnsServer
from tests.hostile import HostileServers, Spec
from tests.report.schema import validate
from tests.service.conftest import options, url_targets

TIMEOUT = 2.0


def test_each_failure_has_its_status_and_the_check_ends_in_time(
    good: Scenario, good_lab: Lab
) -> None:
    chain = list(good.chain_ders)
    key = pki.key_from_pem(good.key_pem)
    with HostileServers() as servers, LoopbackDnsServer(["mail.example.test. A 127.0.0.1"]) as dns:
        silent = servers.start(Spec("imap", "starttls", chain=chain, key=key, behaviour="silent"))
        no_tls = servers.start(
            Spec("smtp", "starttls", chain=chain, key=key, behaviour="no_starttls")
        )
        alert = servers.start(Spec("imap", "implicit", chain=chain, key=key, behaviour="tls_alert"))
        targets = {
            "silent": f"imap://mail.example.test:{silent}",
            "no_tls": f"submission://mail.example.test:{no_tls}",
            "alert": f"imaps://mail.example.test:{alert}",
            "refused": "pop3s://mail.example.test:1",
            "nxdomain": "imaps://gone.example.test",
            "good": url_targets(good_lab, good.host)[0],
        }
        started = time.monotonic()
        report = check(
            list(targets.values()),
            options(address=(), nameserver=dns.nameserver, timeout=TIMEOUT, check_versions=False),
        )
        elapsed = time.monotonic() - started
    by_url = {e.endpoint.url: e.probe for e in report.endpoints}
    url = {k: v if v.count(":") == 2 else v + ":993" for k, v in targets.items()}
    expected = {
        "silent": (Status.TIMEOUT, None),
        "no_tls": (Status.NO_TLS, Phase.CAPABILITIES),
        "alert": (Status.HANDSHAKE_FAILED, Phase.HANDSHAKE),
        "refused": (Status.REFUSED, Phase.CONNECT),
        "nxdomain": (Status.DNS_ERROR, Phase.DNS),
        "good": (Status.OK, None),
    }
    for name, (status, phase) in expected.items():
        probe = by_url[url[name]]
        assert probe.status is status, (name, probe)
        if status is not Status.OK:
            assert probe.error and "\n" not in probe.error, name
            if phase is not None and status is not Status.TIMEOUT:
                assert probe.phase is phase, (name, probe.phase)
    assert len(report.endpoints) == len(targets)
    assert elapsed < TIMEOUT + 1.0, elapsed
    assert exit_code(report, "fatal") is ExitCode.UNCHECKED
    validate(report_to_json(report))  # every failure shape (null address, phases) in the schema
