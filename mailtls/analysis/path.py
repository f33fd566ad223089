"""Build the certification path iOS would use (ios-trust-rules.md §1a).

Like trustd's ``SecPathBuilder``: the first presented certificate is the leaf; parents are
looked up by issuer name in the anchor sources first (user trust store, then system store,
``anchor_source_order``), then among the other certificates the server sent (any order,
extras and duplicates tolerated), then among certificates obtained elsewhere (AIA
downloads, ``aia_fetch``). A candidate counts only if its key really signed the child. A
path is complete at the first certificate that is an anchor; otherwise it ends in a
self-signed certificate that is not trusted, or where no issuer could be found. Of all
paths, the best one is kept: anchored, then valid at the evaluation time, then made of what
the server sent, then user store before system store, then shorter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from mailtls.analysis.certs import ParsedCertificate, verify_signature
from mailtls.analysis.stores import TrustStore
from mailtls.model import AnchorKind

_MAX_DEPTH = 10
_MAX_PATHS = 64


class Source(StrEnum):
    PRESENTED = "presented"
    USER = "user"
    SYSTEM = "system"
    FETCHED = "fetched"  # e.g. downloaded from the AIA caIssuers URL


class Ending(StrEnum):
    ANCHOR = "anchor"  # the last certificate is a trust anchor
    UNTRUSTED_ROOT = "untrusted_root"  # self-signed, but not an anchor -> AnchorTrusted
    MISSING_ISSUER = "missing_issuer"  # issuer not found -> MissingIntermediate


#: Enum members as module globals: ``Source.PRESENTED`` goes through the enum metaclass's
#: attribute lookup (~0.15 us in Python 3.11), and path building reads them often.
_PRESENTED, _USER, _SYSTEM, _FETCHED = Source.PRESENTED, Source.USER, Source.SYSTEM, Source.FETCHED
_ANCHOR, _UNTRUSTED_ROOT, _MISSING_ISSUER = (
    Ending.ANCHOR,
    Ending.UNTRUSTED_ROOT,
    Ending.MISSING_ISSUER,
)
_USR, _USR_LEAF, _NONE = AnchorKind.USR, AnchorKind.USR_LEAF, AnchorKind.NONE


class Node(NamedTuple):
    """One certificate of a path (a NamedTuple: paths are built for every analysis)."""

    cert: ParsedCertificate
    source: Source
    presented_index: int | None  # first index in the presented chain, when it came from there


class BuiltPath(NamedTuple):
    nodes: tuple[Node, ...]  # leaf first
    anchor: AnchorKind
    ending: Ending
    #: (child sha256, candidate presented index): certificates named as issuer whose key
    #: did not sign the child.
    signature_mismatches: tuple[tuple[str, int | None], ...] = ()

    @property
    def leaf(self) -> ParsedCertificate:
        return self.nodes[0].cert

    @property
    def last(self) -> Node:
        return self.nodes[-1]


def build_path(
    presented: Sequence[ParsedCertificate],
    *,
    at: datetime,
    user: TrustStore | None,
    system: TrustStore,
    fetched: Sequence[ParsedCertificate] = (),
) -> BuiltPath:
    """The best path from ``presented[0]`` towards an anchor."""
    search = _Search(presented, user, system, fetched)
    leaf = Node(presented[0], _PRESENTED, 0)
    search.walk([leaf], {leaf.cert.sha256})
    complete = search.complete
    # max() keeps the first of equal scores; with one path there is nothing to compare.
    best = complete[0] if len(complete) == 1 else max(complete, key=lambda p: _score(p, at))
    if not search.mismatches:
        return best
    return BuiltPath(best.nodes, best.anchor, best.ending, tuple(dict.fromkeys(search.mismatches)))


class _Search:
    """One depth-first search for paths (a plain class rather than nested functions: a
    recursive closure refers to itself, so every search would leave a reference cycle for
    the garbage collector)."""

    __slots__ = ("complete", "first_index", "mismatches", "others", "stores")

    def __init__(
        self,
        presented: Sequence[ParsedCertificate],
        user: TrustStore | None,
        system: TrustStore,
        fetched: Sequence[ParsedCertificate],
    ) -> None:
        #: The anchor stores in the order they are asked, each with the source it stands for.
        self.stores: list[tuple[TrustStore, Source]] = [
            (store, _USER if store.kind is _USR else _SYSTEM)
            for store in (user, system)
            if store is not None
        ]
        first_index: dict[str, int] = {}
        for i, cert in enumerate(presented):
            first_index.setdefault(cert.sha256, i)
        self.first_index = first_index
        others: list[Node] = []
        seen: set[str] = {presented[0].sha256}
        for cert in presented[1:]:
            if cert.sha256 not in seen:
                seen.add(cert.sha256)
                others.append(Node(cert, _PRESENTED, first_index[cert.sha256]))
        for cert in fetched:
            if cert.sha256 not in seen:
                seen.add(cert.sha256)
                others.append(Node(cert, _FETCHED, None))
        self.others = others
        self.complete: list[BuiltPath] = []
        #: (child sha256, candidate presented index) of named issuers that did not sign.
        self.mismatches: list[tuple[str, int | None]] = []

    def anchor_kind(self, cert: ParsedCertificate) -> AnchorKind | None:
        for store, _source in self.stores:
            if store.contains(cert):
                return store.kind
        return None

    def parents_of(self, node: Node, used: set[str]) -> list[Node]:
        child = node.cert
        found: list[Node] = []
        taken = set(used)
        first_index = self.first_index
        for store, source in self.stores:
            for candidate in store.issuers_for(child):
                if candidate.sha256 in taken or verify_signature(child, candidate) is False:
                    continue
                taken.add(candidate.sha256)
                index = first_index.get(candidate.sha256)
                found.append(Node(candidate, _PRESENTED if index is not None else source, index))
        issuer = child.issuer_der
        for other in self.others:
            if other.cert.subject_der != issuer or other.cert.sha256 in taken:
                continue
            if verify_signature(child, other.cert) is False:
                self.mismatches.append((child.sha256, other.presented_index))
                continue
            found.append(other)
        return found

    def walk(self, nodes: list[Node], used: set[str]) -> None:
        complete = self.complete
        if len(complete) >= _MAX_PATHS:
            return
        last = nodes[-1]
        kind = self.anchor_kind(last.cert)
        if kind is not None:
            if kind is _USR and len(nodes) == 1:
                kind = _USR_LEAF
            complete.append(BuiltPath(tuple(nodes), kind, _ANCHOR))
            return
        if last.cert.info.self_signed:
            complete.append(BuiltPath(tuple(nodes), _NONE, _UNTRUSTED_ROOT))
            return
        parents = self.parents_of(last, used) if len(nodes) < _MAX_DEPTH else []
        if not parents:
            complete.append(BuiltPath(tuple(nodes), _NONE, _MISSING_ISSUER))
            return
        for parent in parents:
            self.walk([*nodes, parent], used | {parent.cert.sha256})


def _score(path: BuiltPath, at: datetime) -> tuple[int, int, int, int, int, int]:
    def valid(node: Node) -> bool:
        info = node.cert.info
        return bool(info.not_before and info.not_after and info.not_before <= at <= info.not_after)

    return (
        path.ending is _ANCHOR,
        all(valid(n) for n in path.nodes),
        -sum(n.source is _FETCHED for n in path.nodes),
        path.anchor in (_USR, _USR_LEAF),
        path.ending is _UNTRUSTED_ROOT,
        -len(path.nodes),
    )
