"""Rule metadata, the evaluation context rules read, and the dates/thresholds they use.

Every rule is a :class:`Rule` in :data:`RULES` (ids from ios-trust-rules.md). A rule that can
be decided from the chain has a small check function registered with :func:`rule`; it returns a
list of :class:`Hit` values that the engine turns into :class:`mailtls.model.Finding`. Rules that
cannot be decided offline are registered too (``evaluated=False``) so the generated rule table
in docs/rules.md says what mailtls does *not* check, and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field
from datetime import UTC, datetime, timedelta
from typing import Any

from mailtls.analysis.certs import ParsedCertificate
from mailtls.analysis.path import BuiltPath, Ending, Node
from mailtls.analysis.stores import TrustStore
from mailtls.model import AnchorKind, Category, ResultClass, Severity
from mailtls.records import record

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

_ANCHOR = Ending.ANCHOR  # a module global: enum member lookups are slow in Python 3.11

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


# --------------------------------------------------------------------------- context


class HostnameResult:
    """The SSLHostname check's outcome (a plain class with slots: see :class:`Context`)."""

    __slots__ = ("cause", "evidence", "matched")

    def __init__(
        self, matched: bool, cause: str | None, evidence: dict[str, Any] | None = None
    ) -> None:
        self.matched = matched
        self.cause = cause  # rule id that explains a mismatch
        self.evidence: dict[str, Any] = {} if evidence is None else evidence

    def __repr__(self) -> str:
        return f"HostnameResult({self.matched!r}, {self.cause!r}, {self.evidence!r})"


class Context:
    """What every rule reads: the built path, the anchor kind, the host and the moment.

    ``nodes``, ``anchor``, ``leaf`` and ``anchored`` are read from ``path`` once, when the
    context is made (the rules read them hundreds of times per analysis). A plain class with
    slots, like :class:`Hit` and :class:`HostnameResult`: these are made for every analysis
    and never compared, and a dataclass costs ~1-2 ms each to define at import (issue 8).
    """

    __slots__ = (
        "_hostname",
        "anchor",
        "anchored",
        "at",
        "host",
        "ios",
        "leaf",
        "nodes",
        "path",
        "presented",
        "system",
    )

    def __init__(
        self,
        path: BuiltPath,
        host: str | None,
        at: datetime,
        ios: tuple[int, int],
        presented: tuple[ParsedCertificate, ...],
        system: TrustStore | None = None,
    ) -> None:
        self.path = path
        #: The system store the path was built with (Apple's CT log list, constraints).
        self.system = system
        self.host = host
        self.at = at
        self.ios = ios
        self.presented = presented
        self.nodes: tuple[Node, ...] = path.nodes
        self.anchor: AnchorKind = path.anchor
        self.leaf: ParsedCertificate = path.nodes[0].cert
        self.anchored = path.ending is _ANCHOR
        self._hostname: HostnameResult | None = None

    def __repr__(self) -> str:
        return f"Context(host={self.host!r}, at={self.at!r}, anchor={self.anchor!r})"

    def ios_at_least(self, major: int) -> bool:
        return self.ios[0] >= major

    def issuing_positions(self) -> range:
        """Path positions of certificates that issued another one (all but the leaf)."""
        return range(1, len(self.nodes))

    def is_self_signed_at(self, position: int) -> bool:
        return self.nodes[position].cert.info.self_signed

    def is_anchor_position(self, position: int) -> bool:
        return self.anchored and position == len(self.nodes) - 1

    @property
    def hostname(self) -> HostnameResult:
        """The SSLHostname check (computed on first use, once per context)."""
        result = self._hostname
        if result is None:
            result = self._hostname = _hostname_check()(self)
        return result


_EVALUATE_HOSTNAME: list[Callable[[Context], HostnameResult]] = []


def _hostname_check() -> Callable[[Context], HostnameResult]:
    """:func:`mailtls.analysis.hostname.evaluate_hostname` (imported on first use: it imports
    this module)."""
    if not _EVALUATE_HOSTNAME:
        from mailtls.analysis.hostname import evaluate_hostname

        _EVALUATE_HOSTNAME.append(evaluate_hostname)
    return _EVALUATE_HOSTNAME[0]


class Hit:
    """One firing of a rule: which certificate (path position), what and why.

    Not frozen (hits are made for every analysis; nothing changes one after the rule returns
    it) and a plain class with slots (see :class:`Context`).
    """

    __slots__ = (
        "check_key",
        "clear_result_class",
        "evidence",
        "fix",
        "position",
        "remedy",
        "result_class",
        "severity",
        "summary",
    )

    def __init__(
        self,
        position: int | None,
        summary: str,
        evidence: dict[str, Any] | None = None,
        check_key: str | None = None,  # when a rule reports more than one Apple key
        severity: Severity | None = None,
        result_class: ResultClass | None = None,
        remedy: str | None = None,
        fix: str | None = None,  # when the fix depends on what was found
        clear_result_class: bool = False,  # an informational hit of a trust rule
    ) -> None:
        self.position = position
        self.summary = summary
        self.evidence: dict[str, Any] = {} if evidence is None else evidence
        self.check_key = check_key
        self.severity = severity
        self.result_class = result_class
        self.remedy = remedy
        self.fix = fix
        self.clear_result_class = clear_result_class

    def __repr__(self) -> str:
        return f"Hit({self.position!r}, {self.summary!r}, {self.evidence!r})"


CheckFunction = Callable[[Context], list[Hit]]


@record
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
