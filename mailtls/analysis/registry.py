"""Rule metadata (:data:`RULES`), and the dates and iOS versions the rules use.

Every rule is a :class:`Rule` in :data:`RULES` (ids from ios-trust-rules.md). A rule that can
be decided from the chain has a small check function registered with :func:`rule`; it returns a
list of :class:`mailtls.analysis.context.Hit` values that the engine turns into :class:`mailtls.model.Finding`. Rules that
cannot be decided offline are registered too (``evaluated=False``) so the generated rule table
in docs/rules.md says what mailtls does *not* check, and why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mailtls.model import AnchorKind, Category, ResultClass, Severity

if TYPE_CHECKING:
    from mailtls.analysis.context import CheckFunction

# --------------------------------------------------------------------------- dates

_CF_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)


def cf_absolute_time(seconds: int) -> datetime:
    """Apple's CFAbsoluteTime constants (seconds since 2001-01-01T00:00:00Z) as UTC datetimes."""
    return _CF_EPOCH + timedelta(seconds=seconds)


DEC_2016 = cf_absolute_time(502243200)  # 2016-12-01T00:00Z, WoSign/StartCom cut-off
MAR_2018 = cf_absolute_time(541555200)  # 2018-03-01T00:00Z, 825 days for system roots
OCT_2018 = cf_absolute_time(561340800)  # 2018-10-16T00:00Z, CT required
#: 2019-06-30T23:00Z. Apple's comment says "1 July 2019 00:00:00 UTC"; the constant is an
#: hour earlier, and mailtls uses the constant, as iOS does.
JUL_2019 = cf_absolute_time(583628400)
SEP_2020 = cf_absolute_time(620611200)  # 2020-09-01T00:00Z, 398 days for system roots
APR_2021 = cf_absolute_time(640656000)  # 2021-04-21T00:00Z, CT policy v2

ALL_KINDS: tuple[AnchorKind, ...] = (
    AnchorKind.SYS,
    AnchorKind.USR,
    AnchorKind.USR_LEAF,
    AnchorKind.NONE,
)

CURRENT_IOS = "26"


def parse_ios_version(text: str | None) -> tuple[int, int]:
    """ "17", "17.4", "iOS 12.1.1" -> (major, minor); ``None`` -> current iOS."""
    raw = (text or CURRENT_IOS).strip().lower().removeprefix("ios").strip()
    if raw in ("current", "latest"):
        raw = CURRENT_IOS
    parts = raw.split(".")
    try:
        major = int(parts[0])
        minor = int(parts[1]) if len(parts) > 1 and parts[1] else 0
    except ValueError:
        raise ValueError(f"not an iOS version: {text!r} (use e.g. 17 or 16.4)") from None
    if not 7 <= major <= 99:
        raise ValueError(f"not an iOS version: {text!r} (use e.g. 17 or 16.4)")
    return major, minor


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    checks: str  # what is checked, in one or two sentences
    check_key: str | None
    result_class: ResultClass | None
    applies_to: tuple[AnchorKind, ...]
    since: str
    citation: str
    fix: str
    user_sees: str
    category: Category = Category.TRUST
    severity: Severity = Severity.ERROR
    remedy: str | None = "reissue"
    evaluated: bool = True
    note: str = ""  # e.g. why it is not evaluated, or how mailtls approximates it
    check: CheckFunction | None = field(default=None, compare=False, repr=False)


RULES: dict[str, Rule] = {}

PROMPT_SHEET = (
    'Mail shows "Cannot Verify Server Identity" (Cancel / Details / Continue); '
    "Details > Trust stores an exception for this exact certificate."
)
NO_TRUST_BUTTON = "Mail cannot connect; tapping Trust does not help (a fatal trust result)."


def register(rule: Rule) -> Rule:
    if rule.id in RULES:
        raise ValueError(f"duplicate rule id {rule.id}")
    RULES[rule.id] = rule
    return rule


def rule(**metadata: Any) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator: register the decorated function as the check of a rule."""

    def decorate(function: CheckFunction) -> CheckFunction:
        register(Rule(check=function, **metadata))
        return function

    return decorate


def order_rules(ids: Sequence[str]) -> None:
    """Put the rules named in ``ids`` first, in that order; the others follow as registered.

    The engine runs the rules in this order, and findings that tie on severity, category
    and certificate keep it (the verdict's sentence names the first three).
    """
    unknown = [i for i in ids if i not in RULES]
    if unknown:
        raise ValueError(f"no such rules: {', '.join(unknown)}")
    ordered = {i: RULES[i] for i in ids}
    ordered.update((i, r) for i, r in RULES.items() if i not in ordered)
    RULES.clear()
    RULES.update(ordered)
