"""mailtls.remedy.guides / runbooks: one source of truth, honest bases, docs kept current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mailtls.model import Verdict
from mailtls.remedy import guides, runbooks

DOCS = Path(__file__).resolve().parents[2] / "docs"
REMEDY_IDS_USED_BY_FINDINGS = (
    "profile",
    "stale_exception",
    "reissue",
    "public_ca",
    "full_chain",
    "upgrade_tls",
)


def test_every_remedy_id_has_a_guide() -> None:
    for remedy_id in REMEDY_IDS_USED_BY_FINDINGS:
        guide = guides.guide_for(remedy_id)
        assert guide.id == remedy_id
        assert guide.steps and guide.title and guide.why and guide.applies_when


def test_every_remedy_the_engine_names_has_a_guide() -> None:
    import mailtls.analysis.rules  # noqa: F401  (registers the rules)
    from mailtls.analysis import registry

    used = {rule.remedy for rule in registry.RULES.values() if rule.remedy}
    assert used, "the engine registered no rules"
    assert used <= set(guides.GUIDES), used - set(guides.GUIDES)


def test_reported_and_inferred_steps_are_never_labelled_documented() -> None:
    labels = guides.BASIS_LABELS
    assert "not documented" in labels[guides.Basis.REPORTED]
    assert "not documented" in labels[guides.Basis.INFERRED]
    # the steps the brief calls out as reported, not documented
    stale = guides.guide_for("stale_exception")
    by_text = {s.text.split(" ")[0]: s.basis for s in stale.steps}
    assert by_text["Delete"] is guides.Basis.REPORTED
    assert by_text["Last"] is guides.Basis.REPORTED
    assert by_text["Restart"] is not guides.Basis.DOCUMENTED
    full_trust = [s for s in guides.guide_for("profile").steps if "switch on full trust" in s.text]
    assert full_trust[0].basis is guides.Basis.DOCUMENTED


def test_reported_steps_carry_a_citation() -> None:
    for guide in guides.GUIDES.values():
        for step in guide.steps:
            if step.basis in (guides.Basis.REPORTED, guides.Basis.SOURCE, guides.Basis.DOCUMENTED):
                assert step.citation, (guide.id, step.text)


@pytest.mark.parametrize("guide_id", list(guides.GUIDES))
def test_every_placeholder_has_a_default(guide_id: str) -> None:
    text = guides.render_text(guides.guide_for(guide_id))
    assert not re.search(r"\{[a-z_]+\}", text), text


def test_values_are_filled_in() -> None:
    text = guides.render_text(
        guides.guide_for("profile"), {"host": "mail.example.org", "root": "corp.pem"}
    )
    assert "mailtls check mail.example.org --ca-file corp.pem" in text
    assert "HOST" not in text


def test_profile_guide_has_the_iphone_path_in_order() -> None:
    text = guides.render_text(guides.guide_for("profile"))
    positions = [
        text.index(marker)
        for marker in (
            "AirDrop",
            "Settings > Profile Downloaded",
            "Certificate Trust Settings",
            "--ca-file",
        )
    ]
    assert positions == sorted(positions)


def test_every_runbook_branches_on_every_verdict() -> None:
    wanted = {v.value for v in Verdict} | {"unchecked"}
    for item in runbooks.RUNBOOKS:
        assert {b.verdict for b in item.branches} == wanted, item.slug
        assert any("mailtls check" in (s.command or "") for s in item.check)
        for branch in item.branches:
            for target in branch.follow:
                assert target in guides.GUIDES or runbooks.runbook(target)


def test_branch_for_maps_none_to_unchecked() -> None:
    item = runbooks.runbook("cannot-verify-server-identity")
    assert runbooks.branch_for(item, None).verdict == "unchecked"
    assert runbooks.branch_for(item, "needs_profile").follow == ("install-company-root",)


def test_the_required_runbooks_exist() -> None:
    slugs = {r.slug for r in runbooks.RUNBOOKS}
    assert {
        "cannot-verify-server-identity",
        "install-company-root",
        "warning-after-renewal",
    } <= slugs


def test_runbooks_show_the_guide_steps_word_for_word() -> None:
    text = runbooks.runbook_markdown(runbooks.runbook("warning-after-renewal"))
    for step in guides.guide_for("stale_exception").steps:
        assert guides.fill(step.text) in text
    assert "reported by users, not documented by Apple" in text


@pytest.mark.parametrize("relative", sorted(runbooks.rendered_docs()))
def test_generated_docs_are_current(relative: str) -> None:
    path = DOCS / relative
    assert path.exists(), f"{path} missing: run python3 -m mailtls.remedy.runbooks"
    assert path.read_text(encoding="utf-8") == runbooks.rendered_docs()[relative], (
        f"{path} is out of date: run python3 -m mailtls.remedy.runbooks"
    )


def test_docs_links_point_at_existing_files_and_anchors() -> None:
    rendered = runbooks.rendered_docs()
    for relative, text in rendered.items():
        for target in re.findall(r"\]\(([^)#]*)(?:#[^)]*)?\)", text):
            if not target or target.startswith("http"):
                continue
            resolved = (DOCS / relative).parent / target
            assert resolved.resolve().relative_to(DOCS.resolve())
            assert str(resolved.resolve().relative_to(DOCS.resolve())) in rendered, (
                relative,
                target,
            )
        for anchor_file, anchor in re.findall(r"\]\(([^)#]*)#([a-z-]+)\)", text):
            page = (
                rendered[relative]
                if not anchor_file
                else rendered[
                    str(
                        ((DOCS / relative).parent / anchor_file)
                        .resolve()
                        .relative_to(DOCS.resolve())
                    )
                ]
            )
            assert f'<a id="{anchor}">' in page, (relative, anchor_file, anchor)


def test_write_docs(tmp_path: Path) -> None:
    written = runbooks.write_docs(tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in written} == set(runbooks.rendered_docs())


def test_guides_for_remedy_lists_the_named_guide_first_then_alternatives() -> None:
    offered = guides.guides_for_remedy("reissue")
    assert [g.id for g in offered][:2] == ["reissue", "public_ca"]
    assert guides.guides_for_remedy(None) == ()
    assert guides.guides_for_remedy("no_such_remedy") == ()
    for guide in guides.GUIDES.values():
        assert set(guide.see_also) <= set(guides.GUIDES), guide.id
        assert guide.id not in guide.see_also
