"""Scenarios: validity periods (825 days, 398 days, the 2019 EKU boundary)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailtls.lab.scenarios.kit import (
    ANCHOR,
    CT,
    EKU_SERVER_AUTH,
    MAX_398,
    MAX_825,
    Kit,
    Made,
    leaf_spec,
    scenario,
)


@scenario(
    "validity-825-plus-1h",
    "Leaf lifetime exactly 825 days + 1 hour (the limit, passes)",
    verdicts={"NONE": "prompt", "USR": "trusted", "SYS": "prompt"},
    rules={"NONE": (ANCHOR,), "SYS": (MAX_398, CT)},
    absent={"NONE": (MAX_825,), "USR": (MAX_825,)},
)
def _validity_825_plus_1h(kit: Kit) -> Made:
    """Private chain; leaf notBefore now-30d, notAfter = notBefore + 825 d + 3600 s, the
    largest lifetime validity_max_other allows."""
    nb = kit.leaf_not_before
    return kit.private_chain(not_before=nb, not_after=nb + timedelta(days=825, seconds=3600))


@scenario(
    "validity-825-plus-1h-1s",
    "Leaf lifetime 825 days + 1 hour + 1 second (fails)",
    verdicts={"NONE": "prompt", "USR": "prompt", "SYS": "prompt"},
    rules={"NONE": (ANCHOR, MAX_825), "USR": (MAX_825,), "SYS": (MAX_825, MAX_398)},
)
def _validity_825_plus_1h_1s(kit: Kit) -> Made:
    """Private chain; leaf notBefore now-30d, notAfter = notBefore + 825 d + 3601 s."""
    nb = kit.leaf_not_before
    return kit.private_chain(not_before=nb, not_after=nb + timedelta(days=825, seconds=3601))


@scenario(
    "validity-398",
    "Leaf lifetime exactly 398 days (passes even under a system root)",
    verdicts={"USR": "trusted", "SYS": "prompt"},
    rules={"SYS": (CT,)},
    absent={"SYS": (MAX_398,)},
)
def _validity_398(kit: Kit) -> Made:
    """Private chain; leaf notBefore now-30d, notAfter = notBefore + 398 × 86 400 s (Apple's
    code compares the plain difference, so this passes)."""
    nb = kit.leaf_not_before
    return kit.private_chain(not_before=nb, not_after=nb + timedelta(days=398))


@scenario(
    "validity-398-plus-1s",
    "Leaf lifetime 398 days + 1 second (fails only under a system root)",
    verdicts={"USR": "trusted", "SYS": "prompt"},
    rules={"SYS": (MAX_398, CT)},
    absent={"USR": (MAX_398, MAX_825), "SYS": (MAX_825,)},
)
def _validity_398_plus_1s(kit: Kit) -> Made:
    """Private chain; leaf notBefore now-30d, notAfter = notBefore + 398 d + 1 s: the 398-day
    rule binds only preinstalled roots, a profile root gets 825 days."""
    nb = kit.leaf_not_before
    return kit.private_chain(not_before=nb, not_after=nb + timedelta(days=398, seconds=1))


# notBefore = 2019-06-30T23:00:00Z is CFAbsoluteTime 583628400 (ios-trust-rules.md §0).
_JULY_2019 = datetime(2019, 6, 30, 23, 0, 0, tzinfo=UTC)


@scenario(
    "legacy-2018-long-lived",
    "Leaf issued 2018-02-28, no lifetime or CT limit applies",
    verdicts={"NONE": "prompt", "USR": "trusted", "SYS": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"SYS": (CT, MAX_398, MAX_825), "USR": (MAX_825,)},
)
def _legacy_2018_long_lived(kit: Kit) -> Made:
    """Private chain; leaf notBefore 2018-02-28T00:00Z (before the 2018-03-01 system 825-day
    rule, the 2018-10-16 CT rule and the 2019 rules), notAfter now+180d, serverAuth: the
    only recent chain trusted under SYS without SCTs."""
    return kit.private_chain(
        not_before=datetime(2018, 2, 28, tzinfo=UTC), not_after=kit.now + timedelta(days=180)
    )


@scenario(
    "no-eku-2019-boundary",
    "No EKU, notBefore exactly 2019-06-30T23:00Z",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, MAX_825), "USR": (MAX_825,)},
    absent={"NONE": (EKU_SERVER_AUTH,), "USR": (EKU_SERVER_AUTH,)},
)
def _no_eku_2019_boundary(kit: Kit) -> Made:
    """Private chain; leaf without EKU, notBefore exactly 2019-06-30T23:00:00Z, notAfter
    now+180d: the EKU rule needs notBefore > that moment (silent), the 825-day rule
    notBefore >= it (fires)."""
    return kit.private_chain(
        leaf_spec(eku=None), not_before=_JULY_2019, not_after=kit.now + timedelta(days=180)
    )


@scenario(
    "no-eku-before-2019",
    "No EKU, notBefore one second before 2019-06-30T23:00Z",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (EKU_SERVER_AUTH, MAX_825), "USR": (MAX_825,)},
)
def _no_eku_before_2019(kit: Kit) -> Made:
    """Private chain; leaf without EKU, notBefore 2019-06-30T22:59:59Z, notAfter now+180d:
    neither the EKU nor the 825-day rule applies."""
    return kit.private_chain(
        leaf_spec(eku=None),
        not_before=_JULY_2019 - timedelta(seconds=1),
        not_after=kit.now + timedelta(days=180),
    )
