"""What every rule reads (:class:`Context`) and what a rule returns (:class:`Hit`).

The ``SSLHostname`` outcome (:class:`HostnameResult`) is computed by
:func:`mailtls.analysis.hostname.evaluate_hostname`, which the names family hands to
:func:`set_hostname_check`: this module imports neither, so ``hostname`` can import it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from mailtls.analysis.certs import ParsedCertificate
from mailtls.analysis.path import BuiltPath, Ending, Node
from mailtls.analysis.stores import TrustStore
from mailtls.model import AnchorKind, ResultClass, Severity

_ANCHOR = Ending.ANCHOR


class HostnameResult:
    """The SSLHostname check's outcome."""

    __slots__ = ("cause", "evidence", "matched")

    def __init__(
        self, matched: bool, cause: str | None, evidence: dict[str, Any] | None = None
    ) -> None:
        self.matched = matched
        self.cause = cause  # rule id that explains a mismatch
        self.evidence: dict[str, Any] = {} if evidence is None else evidence

    def __repr__(self) -> str:
        return f"HostnameResult({self.matched!r}, {self.cause!r}, {self.evidence!r})"


_HOSTNAME_CHECK: list[Callable[[Context], HostnameResult]] = []


def set_hostname_check(check: Callable[[Context], HostnameResult]) -> None:
    """Install the function behind :attr:`Context.hostname` (the names family does)."""
    _HOSTNAME_CHECK[:] = [check]


class Context:
    """What every rule reads: the built path, the anchor kind, the host and the moment.

    ``nodes``, ``anchor``, ``leaf`` and ``anchored`` are read from ``path`` once, when the
    context is made, because the rules read them over and over. Plain classes with slots
    (this one, :class:`Hit`, :class:`HostnameResult`): they are made for every analysis and
    never compared.
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
            if not _HOSTNAME_CHECK:
                raise RuntimeError("import mailtls.analysis.rules first (it sets the check)")
            result = self._hostname = _HOSTNAME_CHECK[0](self)
        return result


class Hit:
    """One firing of a rule: which certificate (path position), what and why.

    Not frozen: nothing changes one after the rule returns it.
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
