"""Each scenario through the analysis engine, for each kind of root it states an expectation for.

The expectations come from ios-trust-rules.md (see mailtls/lab/scenarios/), not from the
engine: a failure here is either an engine bug or a catalogue bug; check the reference.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from mailtls.lab.scenarios import FIXTURE_DATE, SCENARIO_NAMES, Scenario, build_scenario
from mailtls.model import Analysis, Severity

analysis = pytest.importorskip("mailtls.analysis", reason="analysis engine not built yet")
if not all(hasattr(analysis, name) for name in ("analyze_chain", "system_store", "user_store")):
    # the package may not re-export them yet; the modules themselves are the same engine
    analysis = SimpleNamespace(
        analyze_chain=pytest.importorskip("mailtls.analysis.engine").analyze_chain,
        system_store=pytest.importorskip("mailtls.analysis.stores").system_store,
        user_store=pytest.importorskip("mailtls.analysis.stores").user_store,
    )

#: Where the engine and the catalogue disagree and the catalogue follows the reference.
#: strict: when the engine changes, the XPASS fails and this entry must go.
#: None at present (the CT entries went when ct_required_system became a trust rule).
KNOWN_DISAGREEMENTS: dict[tuple[str, str], str] = {}

CASES = [
    pytest.param(
        name,
        kind,
        id=f"{name}-{kind}",
        marks=[pytest.mark.xfail(strict=True, reason=KNOWN_DISAGREEMENTS[(name, kind)])]
        if (name, kind) in KNOWN_DISAGREEMENTS
        else [],
    )
    for name in SCENARIO_NAMES
    for kind in build_scenario(name, now=FIXTURE_DATE).expected_verdict
]
#: A rule "fires" when it produced a failing finding (not a notice or a pass).
FAILING = {Severity.FATAL, Severity.ERROR}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Scenario, Path]]:
    directory = tmp_path_factory.mktemp("roots")
    out = {}
    for name in SCENARIO_NAMES:
        s = build_scenario(name, now=FIXTURE_DATE)
        root = directory / f"{name}.pem"
        root.write_bytes(s.root_pem or b"")
        out[name] = (s, root)
    return out


def analyse(s: Scenario, root: Path, kind: str) -> Analysis:
    if kind == "NONE":
        system, user = analysis.system_store(None), None
    elif kind == "USR":
        system, user = analysis.system_store(None), analysis.user_store([root])
    else:
        system, user = analysis.system_store(root), None
    result: Analysis = analysis.analyze_chain(
        list(s.chain_ders), s.host, at=s.at, system=system, user=user
    )
    return result


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_engine_agrees_with_catalogue(
    built: dict[str, tuple[Scenario, Path]], name: str, kind: str
) -> None:
    s, root = built[name]
    result = analyse(s, root, kind)
    fired = {f.rule_id for f in result.findings if f.severity in FAILING}
    summary = f"{name} as {kind}: verdict {result.verdict}, failing rules {sorted(fired)}"
    assert str(result.verdict) == s.expected_verdict[kind], summary
    missing = set(s.expected_rules[kind]) - fired
    assert not missing, f"{summary}; expected also {sorted(missing)}"
    unexpected = set(s.absent_rules.get(kind, ())) & fired
    assert not unexpected, f"{summary}; must not fire {sorted(unexpected)}"
    every = {f.rule_id for f in result.findings}
    missing_notices = set(s.expected_notices.get(kind, ())) - every
    assert not missing_notices, f"{summary}; expected notices {sorted(missing_notices)}"
