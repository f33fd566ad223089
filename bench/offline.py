"""Offline analysis benchmark: the trust engine on typical 3-certificate chains, one core.

Started by ``bench/run.py`` (``python bench/offline.py CHAINS``); prints a few lines for
people and, last, ``RESULT {json}`` for the runner.

Workloads (every chain is presented as leaf, intermediate, root; the roots are installed on
the iPhone (``--ca-file``, USR) and certifi's bundle is the system store, so a correct chain
is ``trusted``; under a system root Apple would also ask for Certificate Transparency
proofs, which test certificates cannot carry):

* typical: CHAINS distinct leaves issued by 4 CAs (2 RSA-2048, 2 ECDSA P-256), as in real
  fleets where a handful of intermediates sign almost every server certificate. Each leaf
  is new to the engine; intermediates and roots are parsed and verified once (the engine's
  content-addressed caches, which is the point of "no repeated parsing").
* distinct: a quarter as many chains whose three certificates are all unique (no CA
  shared at all): the worst case, for information.

Rates are chains per CPU second (``time.process_time``: one thread, so one core), which the
load of other processes on the machine does not distort; wall figures are printed too.
Then a cProfile pass over fresh chains shows where the time goes.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509

from mailtls import pki

AT = datetime(2026, 6, 1, tzinfo=UTC)
NOT_BEFORE, NOT_AFTER = AT - timedelta(days=60), AT + timedelta(days=300)

Chain = tuple[str, tuple[bytes, ...]]
PASSES = 5


class _Ca:
    def __init__(self, number: int, kind: str, size: int) -> None:
        self.root_key = pki.generate_key(kind, size)
        self.root = pki.issue(
            pki.ca_spec(f"Bench Root {number}"),
            self.root_key,
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
        )
        self.key = pki.generate_key(kind, size)
        self.intermediate = pki.issue(
            pki.ca_spec(f"Bench Intermediate {number}"),
            self.key,
            issuer_cert=self.root,
            issuer_key=self.root_key,
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
        )
        self.leaf_key = pki.generate_key(kind, size)
        self.tail = (pki.cert_to_der(self.intermediate), pki.cert_to_der(self.root))

    def chain(self, host: str) -> Chain:
        leaf = pki.issue(
            pki.leaf_spec(host),
            self.leaf_key,
            issuer_cert=self.intermediate,
            issuer_key=self.key,
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
        )
        return host, (pki.cert_to_der(leaf), *self.tail)


def typical_chains(count: int, first: int = 0) -> tuple[list[Chain], list[bytes]]:
    cas = [_Ca(0, "rsa", 2048), _Ca(1, "ec", 256), _Ca(2, "rsa", 2048), _Ca(3, "ec", 256)]
    chains = [
        cas[i % len(cas)].chain(f"mail{i}.example{i % 97}.test")
        for i in range(first, first + count)
    ]
    return chains, [ca.tail[1] for ca in cas]


def distinct_chains(count: int) -> tuple[list[Chain], list[bytes]]:
    chains, roots = [], []
    for i in range(count):
        ca = _Ca(100 + i, "ec", 256)
        chains.append(ca.chain(f"solo{i}.example.test"))
        roots.append(ca.tail[1])
    return chains, roots


def _clear_caches() -> None:
    """Start cold: the engine's content caches must not hold this run's certificates."""
    from mailtls.analysis import certs

    for name in ("_CACHE", "_VERIFIED"):
        cache = getattr(certs, name, None)
        if isinstance(cache, dict):
            cache.clear()


def _store(roots: Sequence[bytes], directory: Path) -> object:
    """The roots as ``--ca-file`` would load them (installed on the iPhone)."""
    from mailtls.analysis import user_store

    path = directory / f"roots-{len(roots)}-{time.monotonic_ns()}.pem"
    path.write_bytes(b"".join(pki.cert_to_pem(x509.load_der_x509_certificate(d)) for d in roots))
    return user_store([path])


def analyse_all(chains: Sequence[Chain], user: object) -> tuple[float, float, dict[str, int]]:
    """(CPU seconds, wall seconds, verdict counts) for one pass over ``chains``."""
    from mailtls.analysis import analyze_chain, system_store

    system = system_store()
    verdicts: dict[str, int] = defaultdict(int)
    _clear_caches()
    cpu, wall = time.process_time(), time.perf_counter()
    for host, chain in chains:
        analysis = analyze_chain(chain, host, at=AT, system=system, user=user)  # type: ignore[arg-type]
        verdicts[str(analysis.verdict)] += 1
    return time.process_time() - cpu, time.perf_counter() - wall, dict(verdicts)


#: Where the profile's own time is charged, by file or function name.
_GROUPS = (
    ("DER reading (analysis/asn1.py)", "analysis/asn1.py"),
    ("certificate parsing (analysis/certs.py)", "analysis/certs.py"),
    ("rules (analysis/rules/, names, hostname, context)", "analysis/rules/"),
    ("rules (analysis/rules/, names, hostname, context)", "analysis/names.py"),
    ("rules (analysis/rules/, names, hostname, context)", "analysis/hostname.py"),
    ("rules (analysis/rules/, names, hostname, context)", "analysis/context.py"),
    ("rules (analysis/rules/, names, hostname, context)", "analysis/registry.py"),
    ("path building (analysis/path.py, stores.py)", "analysis/path.py"),
    ("path building (analysis/path.py, stores.py)", "analysis/stores.py"),
    ("verdict and summary (analysis/engine.py)", "analysis/engine.py"),
    ("dataclasses.replace / model values", "dataclasses.py"),
    ("dataclasses.replace / model values", "mailtls/model.py"),
    ("cryptography: signature checks", "verify"),
    ("cryptography: strict parse and key loading", "cryptography"),
    ("cryptography: strict parse and key loading", "load_der"),
)


def profile(chains: Sequence[Chain], user: object) -> list[str]:
    from mailtls.analysis import analyze_chain, system_store

    system = system_store()
    _clear_caches()
    profiler = cProfile.Profile()
    profiler.enable()
    for host, chain in chains:
        analyze_chain(chain, host, at=AT, system=system, user=user)  # type: ignore[arg-type]
    profiler.disable()
    stats = pstats.Stats(profiler)
    groups: dict[str, float] = defaultdict(float)
    total = 0.0
    rows = []
    for (filename, _line, function), (_cc, calls, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        total += tottime
        where = f"{filename}:{function}"
        group = next((g for g, needle in _GROUPS if needle in where), "other (stdlib, Python)")
        groups[group] += tottime
        rows.append((tottime, calls, f"{Path(filename).name}:{function}"))
    lines = [f"profile of {len(chains)} fresh typical chains (own time, cProfile):"]
    for group, seconds in sorted(groups.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {seconds / total * 100:5.1f}%  {group}")
    lines.append("  top functions:")
    for tottime, calls, name in sorted(rows, reverse=True)[:12]:
        lines.append(f"  {tottime / total * 100:5.1f}%  {calls:8d} calls  {name}")
    return lines


def main(argv: list[str]) -> int:
    count = int(argv[1]) if len(argv) > 1 else 2000
    made = time.perf_counter()
    chains, roots = typical_chains(count)
    profiled, profiled_roots = typical_chains(max(100, count // 4), first=count)
    distinct, distinct_roots = distinct_chains(max(50, count // 4))
    print(
        f"made {len(chains) + len(profiled) + len(distinct)} chains in {time.perf_counter() - made:.1f} s"
    )
    with tempfile.TemporaryDirectory() as work:
        directory = Path(work)
        user = _store(roots, directory)
        analyse_all(chains[:20], user)  # imports and one-time set-up out of the figures
        # PASSES passes, caches cleared before each (so every pass starts cold); the median.
        passes = sorted((analyse_all(chains, user) for _ in range(PASSES)), key=lambda r: r[0])
        cpu, wall, verdicts = passes[len(passes) // 2]
        print(
            f"typical:  {len(chains)} chains in {cpu:.3f} CPU s ({wall:.3f} s wall):"
            f" {len(chains) / cpu:.0f} chains per CPU second (median of {PASSES} cold passes:"
            f" {', '.join(f'{len(chains) / r[0]:.0f}' for r in passes)}); verdicts {verdicts}"
        )
        solo_user = _store(distinct_roots, directory)
        solo_cpu, solo_wall, solo_verdicts = analyse_all(distinct, solo_user)
        print(
            f"distinct: {len(distinct)} chains in {solo_cpu:.3f} CPU s ({solo_wall:.3f} s wall):"
            f" {len(distinct) / solo_cpu:.0f} chains per CPU second (nothing shared; information)"
        )
        for line in profile(profiled, _store(profiled_roots, directory)):
            print(line)
    if set(verdicts) != {"trusted"} or set(solo_verdicts) != {"trusted"}:
        print(f"unexpected verdicts: {verdicts} {solo_verdicts}", file=sys.stderr)
        return 1
    result = {
        "typical_chains": len(chains),
        "typical_chains_per_cpu_s": len(chains) / cpu,
        "typical_chains_per_wall_s": len(chains) / wall,
        "distinct_chains": len(distinct),
        "distinct_chains_per_cpu_s": len(distinct) / solo_cpu,
    }
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
