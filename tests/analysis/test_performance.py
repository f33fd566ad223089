"""analyze_chain stays fast (issue 8 target: >= 2,000 typical 3-cert chains/s on one core).

Timing on a shared machine varies by a factor of two, so only one test here measures time,
with a loose bound (CPU time, 5x margin); it catches gross regressions such as parsing a
certificate on every call. The others count work, which does not depend on the machine:
how often a certificate is parsed and a signature checked (once each, whatever the number
of chains), and how many Python function calls one analysis makes (a proxy for the
interpreter's work: 237 for a repeated chain and 392 for a new leaf before the issue-8
work, 151 and 277 after its first pass, 146 and 253 after its second).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from mailtls import pki
from mailtls.analysis import TrustStore, analyze_chain, certs
from mailtls.model import AnchorKind
from tests.analysis.factory import AT, Lab, ct_logged

#: Python function calls (profiler "call" events) one analysis of a typical 3-certificate
#: chain may make: about 1.3 x what it makes now, so that a new rule fits but a second parse
#: of a certificate, or a per-call rebuild of something fixed, does not.
WARM_CALL_BUDGET = 190  # every certificate already parsed and verified (146 now)
NEW_LEAF_CALL_BUDGET = 330  # a leaf never seen before, its CA known (253 now)


def _chain(lab: Lab, host: str, inter: Any, root: Any) -> list[bytes]:
    leaf = lab.leaf(host, issuer=inter, extra_extensions=ct_logged())
    return [pki.cert_to_der(leaf), pki.cert_to_der(inter), pki.cert_to_der(root)]


def _count_calls(work: Callable[[], object]) -> int:
    calls = 0

    def profile(_frame: FrameType, event: str, _arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(previous)
    return calls


def test_repeated_chains_are_analysed_quickly(lab: Lab) -> None:
    root, inter = lab.root(), lab.inter()
    system = TrustStore("public (test)", AnchorKind.SYS, (pki.cert_to_der(root),))
    chains = [_chain(lab, f"m{i}.example.test", inter, root) for i in range(20)]
    for i, chain in enumerate(chains):  # first sight: parse and verify once
        analyze_chain(chain, f"m{i}.example.test", at=AT, system=system)
    rounds = 400
    start = time.process_time()
    for n in range(rounds):
        i = n % len(chains)
        result = analyze_chain(chains[i], f"m{i}.example.test", at=AT, system=system)
    elapsed = time.process_time() - start
    assert result.verdict == "trusted"
    assert rounds / elapsed >= 400, f"{rounds / elapsed:.0f} chains/s"


def test_each_certificate_is_parsed_and_verified_once(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, inter = lab.root(), lab.inter()
    system = TrustStore("public (test)", AnchorKind.SYS, (pki.cert_to_der(root),))
    chains = [_chain(lab, f"once{i}.example.test", inter, root) for i in range(6)]
    parsed: list[bytes] = []
    verified: list[tuple[str, str]] = []
    parse, verify = certs._parse, certs._verify

    def counting_parse(der: bytes, digest: bytes) -> certs.ParsedCertificate:
        parsed.append(der)
        return parse(der, digest)

    def counting_verify(child: certs.ParsedCertificate, issuer: certs.ParsedCertificate) -> Any:
        verified.append((child.sha256, issuer.sha256))
        return verify(child, issuer)

    monkeypatch.setattr(certs, "_parse", counting_parse)
    monkeypatch.setattr(certs, "_verify", counting_verify)
    certs._CACHE.clear()
    certs._VERIFIED.clear()
    for _ in range(3):
        for i, chain in enumerate(chains):
            result = analyze_chain(chain, f"once{i}.example.test", at=AT, system=system)
            assert result.verdict == "trusted"
    # 6 leaves, the intermediate and the root, each parsed once over 18 analyses.
    assert len(parsed) == len(set(parsed)) == len(chains) + 2
    # Each leaf by the intermediate, the intermediate by the root, the root by itself.
    assert len(verified) == len(set(verified)) == len(chains) + 2


def test_an_analysis_stays_within_its_call_budget(lab: Lab) -> None:
    root, inter = lab.root(), lab.inter()
    system = TrustStore("public (test)", AnchorKind.SYS, (pki.cert_to_der(root),))
    known = _chain(lab, "known.example.test", inter, root)
    analyze_chain(known, "known.example.test", at=AT, system=system)
    warm = _count_calls(lambda: analyze_chain(known, "known.example.test", at=AT, system=system))
    new = _chain(lab, "new.example.test", inter, root)
    cold = _count_calls(lambda: analyze_chain(new, "new.example.test", at=AT, system=system))
    assert warm <= WARM_CALL_BUDGET, f"{warm} calls for a chain analysed before"
    assert cold <= NEW_LEAF_CALL_BUDGET, f"{cold} calls for a new leaf of a known CA"
    assert warm < cold  # the new leaf is parsed and its signature checked; the other is not
