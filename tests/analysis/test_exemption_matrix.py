"""ios-trust-rules.md §1g: the same leaf, judged as SYS, USR, USR-LEAF and NONE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailtls import pki
from tests.analysis.factory import Lab, analyse, ct_logged, failing

AT = datetime(2025, 2, 1, tzinfo=UTC)
ISSUED = datetime(2025, 1, 1, tzinfo=UTC)


def _judge(
    lab: Lab, kind: str, *, with_root: bool = False, scts: bool = True, **leaf: object
) -> tuple[str, set[str]]:
    """Verdict and failing rules; the leaf embeds SCTs (as from a public CA) unless ``scts``
    is false, so that only the CT row of the matrix depends on them."""
    if scts:
        leaf["extra_extensions"] = ct_logged()
    chain, root = lab.dated(ISSUED, **leaf)  # type: ignore[arg-type]
    if with_root:
        chain = [*chain, root]
    result = analyse(chain, kind, root, at=AT)
    return str(result.verdict), set(failing(result))


@pytest.mark.parametrize(
    ("kind", "verdict", "rules"),
    [
        ("SYS", "prompt", {"ios13_eku_serverauth", "validity_max_system"}),
        ("USR", "trusted", set()),
        ("NONE", "prompt", {"chain_anchor_required", "ios13_eku_serverauth"}),
    ],
)
def test_no_eku_500_day_leaf(lab: Lab, kind: str, verdict: str, rules: set[str]) -> None:
    """No EKU, 500 days: fails a public root twice, passes a profile root."""
    got_verdict, got_rules = _judge(lab, kind, lifetime=timedelta(days=500), eku=None)
    assert got_verdict == verdict
    assert rules <= got_rules and not (got_rules - rules - {"chain_missing_intermediate"})


def test_no_eku_500_day_leaf_with_root_sent_needs_profile(lab: Lab) -> None:
    """Unanchored it fails the EKU rule too, but installing the root fixes both."""
    verdict, rules = _judge(lab, "NONE", with_root=True, lifetime=timedelta(days=500), eku=None)
    assert verdict == "needs_profile" and rules == {"chain_anchor_required", "ios13_eku_serverauth"}


@pytest.mark.parametrize(
    ("kind", "verdict", "rules"),
    [
        ("SYS", "prompt", {"validity_max_other", "validity_max_system"}),
        ("USR", "prompt", {"validity_max_other"}),
    ],
)
def test_900_day_leaf(lab: Lab, kind: str, verdict: str, rules: set[str]) -> None:
    """900 days: the 825-day rule binds profile roots too (not only public roots)."""
    got_verdict, got_rules = _judge(lab, kind, lifetime=timedelta(days=900))
    assert (got_verdict, got_rules) == (verdict, rules)


def test_900_day_self_signed_leaf_trusted_directly(lab: Lab) -> None:
    leaf = pki.cert_to_der(
        lab.self_signed(not_before=ISSUED, lifetime=timedelta(days=900), eku=None)
    )
    assert str(analyse([leaf], "USR-LEAF", leaf, at=AT).verdict) == "trusted"
    untrusted = analyse([leaf], at=AT)
    assert {"validity_max_other", "ios13_eku_serverauth", "chain_anchor_required"} <= set(
        failing(untrusted)
    )


@pytest.mark.parametrize(
    ("kind", "verdict", "rules"),
    [
        ("SYS", "prompt", {"ct_required_system"}),
        ("USR", "trusted", set()),
        ("NONE", "needs_profile", {"chain_anchor_required"}),
    ],
)
def test_leaf_without_scts(lab: Lab, kind: str, verdict: str, rules: set[str]) -> None:
    """No embedded SCTs: only a system root requires Certificate Transparency."""
    got = _judge(lab, kind, with_root=kind == "NONE", scts=False, lifetime=timedelta(days=300))
    assert got == (verdict, rules)


def test_sha1_intermediate_and_small_key_bind_every_anchored_kind(lab: Lab, keys: object) -> None:
    for kind in ("SYS", "USR"):
        verdict, rules = _judge(lab, kind, lifetime=timedelta(days=300), hash="sha1")
        assert verdict == "prompt" and "ios13_sha2" in rules
