"""analyze_chain stays fast (issue 8 target: >= 2,000 typical 3-cert chains/s on one core).

The assertion is deliberately loose (CPU time, 5x margin) so a loaded CI machine does not
flake; it catches regressions such as parsing a certificate on every call.
"""

from __future__ import annotations

import time

from mailtls import pki
from mailtls.analysis import TrustStore, analyze_chain
from mailtls.model import AnchorKind
from tests.analysis.factory import AT, Lab, ct_logged


def test_repeated_chains_are_analysed_quickly(lab: Lab) -> None:
    root, inter = lab.root(), lab.inter()
    system = TrustStore("public (test)", AnchorKind.SYS, (pki.cert_to_der(root),))
    chains = [
        [
            pki.cert_to_der(
                lab.leaf(f"m{i}.example.test", issuer=inter, extra_extensions=ct_logged())
            ),
            pki.cert_to_der(inter),
            pki.cert_to_der(root),
        ]
        for i in range(20)
    ]
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
