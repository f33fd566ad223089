"""``mailtls rules`` and docs/rules.md, which is its generated output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailtls.analysis import RULES
from mailtls.analysis.ruledoc import rules_markdown
from mailtls.cli import main

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_docs_rules_md_is_generated_from_the_code() -> None:
    assert DOCS.read_text(encoding="utf-8") == rules_markdown(), (
        "docs/rules.md is stale: run `mailtls rules --format markdown > docs/rules.md`"
    )


def test_text_table_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    for rule_id in RULES:
        assert rule_id in out
    assert "SSLHostname" in out and "(not evaluated)" in out


def test_json_has_the_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "json"]) == 0
    data = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert data["validity_max_system"]["applies_to"] == ["SYS"]
    assert data["ios13_eku_serverauth"]["applies_to"] == ["SYS", "NONE"]
    assert data["weak_key_fatal"]["result_class"] == "fatal"
    assert data["tls10_11_deprecated"]["category"] == "transport"
    assert data["revocation"]["evaluated"] is False


def test_every_evaluated_rule_is_exercised_by_a_test() -> None:
    """No rule without a test beside it: its id must appear in some test of this directory."""
    text = "".join(
        p.read_text(encoding="utf-8")
        for p in Path(__file__).parent.glob("test_*.py")
        if p.name != Path(__file__).name
    )
    untested = [
        rule_id for rule_id, rule in RULES.items() if rule.evaluated and rule_id not in text
    ]
    assert not untested
