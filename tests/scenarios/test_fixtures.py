"""fixtures/ is exactly what the builder makes for the reference date (determinism, no drift)."""

from __future__ import annotations

from pathlib import Path

from mailtls.lab.scenarios import FIXTURE_DATE, SCENARIO_NAMES, build_fixtures

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HAND_WRITTEN = {"README.md"}


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name not in HAND_WRITTEN
    }


def test_committed_fixtures_equal_a_fresh_build(tmp_path: Path) -> None:
    build_fixtures(tmp_path, now=FIXTURE_DATE)
    fresh, committed = _files(tmp_path), _files(FIXTURES)
    assert sorted(committed) == sorted(fresh), "files differ: regenerate (see fixtures/README.md)"
    drifted = [name for name in fresh if fresh[name] != committed[name]]
    assert not drifted, f"regenerate fixtures/ (see fixtures/README.md): {drifted[:5]}"


def test_one_directory_and_provenance_line_per_scenario() -> None:
    directories = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert directories == set(SCENARIO_NAMES)
    provenance = (FIXTURES / "PROVENANCE.md").read_text(encoding="utf-8")
    lines = [line for line in provenance.splitlines() if line.startswith("- **")]
    assert [line.split("**")[1] for line in lines] == list(SCENARIO_NAMES)
    assert (FIXTURES / "README.md").is_file()
