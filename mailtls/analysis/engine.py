"""Judge a presented chain the way iOS does: path, anchor kind, rules, verdict, one sentence.

How results combine (ios-trust-rules.md §0): any fatal (F) failure makes the verdict
``fatal``; otherwise any recoverable (R) failure makes it ``prompt`` — unless the only
problem is a private root the iPhone does not have, that root is a self-signed CA with a
subject CN (so Certificate Trust Settings offers it), and the same chain evaluated with that
root installed (USR) passes every rule: then the verdict is ``needs_profile``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from mailtls.analysis import rules as _rules
from mailtls.analysis.certs import ParsedCertificate, describe_parsed, parse_certificate
from mailtls.analysis.context import Context, Hit
from mailtls.analysis.path import BuiltPath, Ending, Node, Source, build_path
from mailtls.analysis.registry import RULES, Rule, parse_ios_version
from mailtls.analysis.stores import TrustStore
from mailtls.errors import CertificateParseError, UsageError
from mailtls.model import (
    Analysis,
    AnchorKind,
    Category,
    CertificateInfo,
    Finding,
    PathElement,
    ResultClass,
    Severity,
    Verdict,
)

#: Enum members read for every analysis, as module globals (cheaper than enum lookups).
_TRUSTED, _PROMPT, _FATAL_VERDICT = Verdict.TRUSTED, Verdict.PROMPT, Verdict.FATAL
_TRUST, _INFO, _RECOVERABLE = Category.TRUST, Severity.INFO, ResultClass.RECOVERABLE
_PRESENTED, _USER, _SYSTEM = Source.PRESENTED, Source.USER, Source.SYSTEM
#: ``kind.value`` for every anchor kind (``.value`` is a Python-level property of enums).
_ANCHOR_VALUES = {kind: kind.value for kind in AnchorKind}
#: How a trusted chain's anchor is named in the summary.
_ANCHORED_AT = {
    AnchorKind.SYS: "a root the iPhone ships with",
    AnchorKind.USR: "a private root installed on the iPhone with full trust",
    AnchorKind.USR_LEAF: "a certificate installed on the iPhone as trusted",
}

_CATEGORY_ORDER = {Category.TRUST: 0, Category.DEPLOYMENT: 1, Category.NOTICE: 2}


def analyze_chain(
    chain: Sequence[bytes],
    host: str | None,
    *,
    at: datetime,
    system: TrustStore,
    user: TrustStore | None = None,
    ios_version: str | None = None,
    fetched: Sequence[bytes] = (),
) -> Analysis:
    """What an iPhone's Mail app does with ``chain`` (DER, as presented) for ``host`` at ``at``.

    ``fetched``: certificates obtained elsewhere (e.g. downloaded from the leaf's AIA
    caIssuers URL), used as issuers after the presented ones.
    """
    if not chain:
        raise UsageError("no certificates to analyse")
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    ios, ios_label = _ios(ios_version)
    host = host.strip() if host else None

    parsed: list[ParsedCertificate | None] = []
    infos: list[CertificateInfo] = []
    unreadable: list[int] = []
    for index, der in enumerate(chain):
        try:
            cert = parse_certificate(der)
            parsed.append(cert)
            infos.append(describe_parsed(cert, index))
        except CertificateParseError as exc:
            parsed.append(None)
            unreadable.append(index)
            infos.append(_unreadable_info(der, index, str(exc)))
    readable = [c for c in parsed if c is not None]
    fetched_parsed = (
        [c for c in (_try_parse(d) for d in fetched) if c is not None] if fetched else []
    )

    if parsed[0] is None:
        return _unreadable_leaf(infos, host or "", at, ios_label, system)

    presented = tuple(readable)
    path = build_path(presented, at=at, user=user, system=system, fetched=fetched_parsed)
    ctx = Context(path=path, host=host, at=at, ios=ios, presented=presented, system=system)
    findings = _run_rules(ctx)
    if unreadable:
        findings.extend(_unreadable_findings([infos[i] for i in unreadable]))
    findings.sort(key=_finding_order)
    verdict = _verdict(findings)
    profile_root: ParsedCertificate | None = None
    # A root Apple's store removed or limits is never offered as one to install by profile.
    if verdict is _PROMPT and _root_is_installable(path) and _rules.store_end(ctx) is None:
        profile_root = path.last.cert
        trial_user = (user or TrustStore("profile", AnchorKind.USR)).with_certificates(
            [profile_root.der]
        )
        trial_path = build_path(
            presented, at=at, user=trial_user, system=system, fetched=fetched_parsed
        )
        trial = Context(
            path=trial_path, host=host, at=at, ios=ios, presented=presented, system=system
        )
        installed = trial_path.anchor in (AnchorKind.USR, AnchorKind.USR_LEAF)
        if installed and _verdict(_run_rules(trial)) is Verdict.TRUSTED:
            verdict = Verdict.NEEDS_PROFILE
            findings = [_needs_profile_finding(f, profile_root) for f in findings]
            findings.append(_profile_finding(ctx, profile_root))
            findings.sort(key=_finding_order)

    return Analysis(
        verdict=verdict,
        anchor_kind=path.anchor,
        host=host or "",
        evaluated_at=at,
        ios_version=ios_label,
        chain=tuple(infos),
        path=_path_elements(path, user, system),
        findings=tuple(findings),
        summary=_summary(verdict, findings, host, path, profile_root),
        user_sees=_user_sees(verdict, host),
        trust_store=system.label,
    )


_IOS: dict[str | None, tuple[tuple[int, int], str]] = {}


def _ios(text: str | None) -> tuple[tuple[int, int], str]:
    """(major, minor) and the label of the iOS version asked for (parsed once per text)."""
    known = _IOS.get(text)
    if known is None:
        try:
            ios = parse_ios_version(text)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        known = (ios, f"{ios[0]}.{ios[1]}" if ios[1] else str(ios[0]))
        if len(_IOS) < 64:
            _IOS[text] = known
    return known


# --------------------------------------------------------------------------- rules -> findings


_ACTIVE: dict[AnchorKind, tuple[Rule, ...]] = {}


def _active_rules(kind: AnchorKind) -> tuple[Rule, ...]:
    """Rules with a check that apply to this anchor kind (computed once per kind)."""
    active = _ACTIVE.get(kind)
    if active is None:
        active = tuple(r for r in RULES.values() if r.check is not None and kind in r.applies_to)
        _ACTIVE[kind] = active
    return active


def _run_rules(ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    for rule_meta in _active_rules(ctx.anchor):
        check = rule_meta.check
        assert check is not None
        try:
            hits = check(ctx)
        except Exception as exc:  # one broken rule never loses the report
            findings.append(
                Finding(
                    rule_id=rule_meta.id,
                    title=rule_meta.title,
                    category=Category.NOTICE,
                    severity=Severity.WARNING,
                    summary=f"mailtls could not evaluate this rule ({type(exc).__name__}: {exc}); this is a bug in mailtls.",
                    citation=rule_meta.citation,
                )
            )
            continue
        if hits:
            findings.extend([_finding(rule_meta, ctx, hit) for hit in hits])
    return findings


def _finding(rule_meta: Rule, ctx: Context, hit: Hit) -> Finding:
    result_class = None if hit.clear_result_class else (hit.result_class or rule_meta.result_class)
    severity = hit.severity or rule_meta.severity
    evidence = dict(hit.evidence)
    cert_index = None
    if hit.position is not None:
        node = ctx.nodes[hit.position]
        cert_index = node.presented_index
        if node.source is not _PRESENTED:
            evidence.setdefault("certificate", node.cert.info.subject)
            evidence.setdefault("from", node.source.value)
        evidence.setdefault("path_position", hit.position)
    evidence.setdefault("anchor_kind", _ANCHOR_VALUES[ctx.anchor])
    return Finding(
        rule_id=rule_meta.id,
        title=rule_meta.title,
        category=rule_meta.category,
        severity=severity,
        summary=hit.summary,
        check_key=hit.check_key or rule_meta.check_key,
        result_class=result_class,
        cert_index=cert_index,
        evidence=evidence,
        user_sees=rule_meta.user_sees
        if result_class is not None or severity is not _INFO
        else "Nothing.",
        fix=hit.fix or rule_meta.fix,
        citation=rule_meta.citation,
        remedy=hit.remedy if hit.remedy is not None else rule_meta.remedy,
    )


def _is_failure(finding: Finding) -> bool:
    return finding.category is Category.TRUST and finding.result_class in (
        ResultClass.RECOVERABLE,
        ResultClass.FATAL,
        ResultClass.DENY,
    )


_NOT_OVERRIDABLE = (ResultClass.FATAL, ResultClass.DENY)


def _verdict(findings: Sequence[Finding]) -> Verdict:
    verdict = _TRUSTED
    for finding in findings:
        if finding.category is _TRUST:
            result_class = finding.result_class
            if result_class in _NOT_OVERRIDABLE:
                return _FATAL_VERDICT
            if result_class == _RECOVERABLE:
                verdict = _PROMPT
    return verdict


def _finding_order(finding: Finding) -> tuple[int, int, int]:
    return (
        -finding.severity.rank,
        _CATEGORY_ORDER.get(finding.category, 5),
        finding.cert_index if finding.cert_index is not None else 99,
    )


# --------------------------------------------------------------------------- needs_profile


def _root_is_installable(path: BuiltPath) -> bool:
    root = path.last.cert
    return path.ending is Ending.UNTRUSTED_ROOT and root.is_ca and bool(root.subject_cns)


def _needs_profile_finding(finding: Finding, root: ParsedCertificate) -> Finding:
    if finding.rule_id == "chain_anchor_required":
        return replace(
            finding,
            remedy="profile",
            fix=(
                f"Install the root '{root.info.subject_cn}' on the iPhone as a profile and enable full trust "
                "(Settings > General > About > Certificate Trust Settings), or deploy it by MDM."
            ),
        )
    return finding


def _profile_finding(ctx: Context, root: ParsedCertificate) -> Finding:
    meta = RULES["profile_root_needs_full_trust"]
    return Finding(
        rule_id=meta.id,
        title="Installing the private root fixes this",
        category=Category.TRUST,
        severity=Severity.INFO,
        summary=(
            f"With the root '{root.info.subject_cn}' installed and full trust enabled, the iPhone accepts this chain "
            "(every other rule passes)."
        ),
        check_key=None,
        result_class=None,
        cert_index=ctx.path.last.presented_index,
        evidence={
            "root_subject": root.info.subject,
            "root_sha256": root.sha256,
            "anchor_kind_after_install": "USR",
        },
        user_sees="After installing: nothing, Mail connects without a warning.",
        fix=meta.fix,
        citation=meta.citation,
        remedy="profile",
    )


# --------------------------------------------------------------------------- sentences


def _summary(
    verdict: Verdict,
    findings: Sequence[Finding],
    host: str | None,
    path: BuiltPath,
    root: ParsedCertificate | None,
) -> str:
    where = f" for {host}" if host else ""
    if verdict is _TRUSTED:
        kind = _ANCHORED_AT.get(path.anchor, "a trusted root")
        skipped = "" if host else " (the host name was not checked)"
        return f"The iPhone trusts this certificate{where}: it chains to {kind}, and Mail connects without a warning{skipped}."
    if verdict is Verdict.NEEDS_PROFILE and root is not None:
        return (
            f"The certificate{where} is fine but comes from the private root '{root.info.subject_cn}', which the iPhone "
            "does not know: install that root as a profile and enable full trust, and Mail connects without a warning."
        )
    failures = [f for f in findings if _is_failure(f)]
    if verdict is Verdict.FATAL:
        fatal = [f for f in failures if f.result_class is not ResultClass.RECOVERABLE]
        to = f" to {host}" if host else ""
        return f"Mail cannot connect{to} at all, and tapping Trust does not help: {_lower_first(fatal[0].summary)}"
    reasons = "; ".join(_lower_first(f.summary).rstrip(".") for f in failures[:3])
    more = f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
    return f"Mail will show 'Cannot Verify Server Identity'{where} because {reasons}{more}."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _user_sees(verdict: Verdict, host: str | None) -> str:
    shown = host or "the server"
    if verdict is _TRUSTED:
        return "Nothing: Mail connects without a warning."
    if verdict is Verdict.FATAL:
        return (
            f"Mail cannot connect to {shown}: the account reports that it cannot verify or reach the server, "
            "and no Trust button makes it work."
        )
    return (
        f'"Cannot Verify Server Identity — The identity of "{shown}" cannot be verified by Mail." with Cancel, '
        "Details and Continue; Details > Trust stores an exception for this exact certificate until it changes."
    )


# --------------------------------------------------------------------------- odds and ends


def _try_parse(der: bytes) -> ParsedCertificate | None:
    try:
        return parse_certificate(der)
    except CertificateParseError:
        return None


_ELEMENTS_LIMIT = 8192
#: PathElement values of issuing certificates by (source label, presented index, SHA-256),
#: which say everything one holds (the subject follows from the certificate): frozen values
#: of strings and ints, so the intermediate and root of every chain a CA issues are made
#: once. The leaf's is made each time (a new leaf is the usual case; no point keeping it).
_ELEMENTS: dict[tuple[str, int | None, str], PathElement] = {}


def _path_elements(
    path: BuiltPath, user: TrustStore | None, system: TrustStore
) -> tuple[PathElement, ...]:
    leaf = path.nodes[0]
    elements = [_path_element(leaf, _source_label(leaf.source, user, system))]
    for node in path.nodes[1:]:
        source = _source_label(node.source, user, system)
        key = (source, node.presented_index, node.cert.sha256)
        element = _ELEMENTS.get(key)
        if element is None:
            if len(_ELEMENTS) >= _ELEMENTS_LIMIT:
                _ELEMENTS.clear()
            element = _ELEMENTS[key] = _path_element(node, source)
        elements.append(element)
    return tuple(elements)


def _path_element(node: Node, source: str) -> PathElement:
    return PathElement(
        source=source,
        index=node.presented_index,
        sha256=node.cert.sha256,
        subject=node.cert.info.subject,
    )


def _source_label(source: Source, user: TrustStore | None, system: TrustStore) -> str:
    if source is _PRESENTED:
        return "presented"
    if source is _USER:
        return user.label if user else "user store"
    if source is _SYSTEM:
        return system.label
    return "fetched (AIA)"


def _unreadable_info(der: bytes, index: int, error: str) -> CertificateInfo:
    import hashlib

    return CertificateInfo(
        index=index,
        sha256=hashlib.sha256(der).hexdigest(),
        sha1=hashlib.sha1(der).hexdigest(),
        subject="",
        issuer="",
        serial="",
        not_before=None,
        not_after=None,
        san=(),
        key_type="unknown",
        key_size=None,
        signature_algorithm="unknown",
        signature_hash=None,
        basic_constraints=None,
        eku=None,
        key_usage=None,
        self_signed=False,
        parse_errors=(error,),
        der=bytes(der),
    )


def _unreadable_findings(infos: Sequence[CertificateInfo]) -> list[Finding]:
    """Certificates other than the server's that cannot be read: left out of the chain."""
    meta = RULES["certificate_unreadable"]
    return [
        Finding(
            rule_id=meta.id,
            title=meta.title,
            category=Category.DEPLOYMENT,
            severity=Severity.WARNING,
            summary=f"Certificate {info.index} is not a readable certificate ({info.parse_errors[0]}); it was left out of the chain.",
            cert_index=info.index,
            evidence={"error": info.parse_errors[0]},
            fix="Check the chain file for damaged or non-certificate blocks.",
            citation=meta.citation,
            remedy="full_chain",
        )
        for info in infos
    ]


def _unreadable_leaf(
    infos: list[CertificateInfo], host: str, at: datetime, ios_label: str, system: TrustStore
) -> Analysis:
    error = infos[0].parse_errors[0]
    meta = RULES["certificate_unreadable"]
    finding = Finding(
        rule_id=meta.id,
        title="Server certificate cannot be read",
        category=Category.TRUST,
        severity=meta.severity,
        summary=f"The server's certificate cannot be read at all ({error}).",
        check_key=None,
        result_class=meta.result_class,
        cert_index=0,
        evidence={"error": error},
        user_sees="Mail cannot connect.",
        fix="Install a valid certificate on the server.",
        citation=meta.citation,
        remedy="reissue",
    )
    return Analysis(
        verdict=Verdict.FATAL,
        anchor_kind=AnchorKind.NONE,
        host=host,
        evaluated_at=at,
        ios_version=ios_label,
        chain=tuple(infos),
        path=(),
        findings=(finding,),
        summary=f"Mail cannot connect: the server's certificate cannot be read ({error}).",
        user_sees="Mail cannot connect to the server.",
        trust_store=system.label,
    )
