"""Each scenario through the analysis engine, for each kind of root it states an expectation for.

The expectations come from ios-trust-rules.md (see mailtls/lab/scenarios.py), not from the
engine: a failure here is either an engine bug or a catalogue bug; check the reference.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mailtls.lab.scenarios import FIXTURE_DATE, SCENARIO_NAMES, Scenario, build_scenario
from mailtls.model import Analysis, Severity

analysis = pytest.importorskip("mailtls.analysis", reason="analysis engine not built yet")
if not all(
    hasattr(analysis, name)
    for name in ("analyze_chain", "system_store", "user_store", "load_certificates")
):
    pytest.skip(
        "mailtls.analysis does not export analyze_chain/system_store/user_store yet",
        allow_module_level=True,
    )

CASES = [
    (name, kind)
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


@pytest.mark.parametrize(("name", "kind"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
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
