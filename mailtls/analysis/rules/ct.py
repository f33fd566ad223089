"""Certificate Transparency (ios-trust-rules.md §1d): how many embedded SCTs Apple's policy
asks for, counted against Apple's log list when the system store carries it."""

from __future__ import annotations

from datetime import datetime

from mailtls.analysis import ctlogs
from mailtls.analysis.context import Context, Hit
from mailtls.analysis.registry import (
    APR_2021,
    OCT_2018,
    rule,
)
from mailtls.analysis.rules.common import (
    SECURITY,
    SYS,
    R,
    documented,
)
from mailtls.model import Severity

#: CT policy (``verify_embedded_sct_policy_v1``/``_v2``): embedded SCTs needed by lifetime.
CT_V1_BY_MONTHS: tuple[tuple[int | None, int], ...] = ((14, 2), (27, 3), (39, 4), (None, 5))
CT_V2_BY_DAYS: tuple[tuple[int | None, int], ...] = ((180, 2), (825, 3), (None, 4))


def _months_between(start: datetime, end: datetime) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def required_embedded_scts(not_before: datetime, not_after: datetime) -> int:
    """How many embedded SCTs Apple's CT policy wants for this lifetime (``ct_policy_counts``)."""
    if not_before < APR_2021:
        months = _months_between(not_before, not_after)
        for limit, count in CT_V1_BY_MONTHS:
            if limit is None or months <= limit:
                return count
    days = (not_after - not_before).total_seconds() / 86400
    for limit, count in CT_V2_BY_DAYS:
        if limit is None or days <= limit:
            return count
    return CT_V2_BY_DAYS[-1][1]


@rule(
    id="ct_required_system",
    title="Certificate Transparency: too few SCTs",
    checks="For a chain anchored at a (non-Apple) system root and a currently valid leaf with notBefore >= 2018-10-16, iOS requires CT qualification. mailtls counts the SCTs embedded in the leaf (distinct logs) against the number Apple's policy asks for by lifetime; fewer fails. With Apple's CT log list (Apple's trust store), an SCT counts only as trustd's getSCTValidatingLog and verify_tls_ct_policy decide: version 1, not dated after the check, its log in the list and not pending or rejected, not dated after a read-only log froze, the leaf's notAfter inside the log's temporal interval, its signature verified with the log's key over the precertificate entry, one SCT per log, at least one from a log that is not retired, and a retired log's SCT counting only if it and the issuance time are before the retirement; log operators are not counted. Without a log list (a PEM store, certifi) SCT signatures and logs are not checked. SCTs sent in the TLS handshake or an OCSP staple are not visible to mailtls.",
    check_key="SystemTrustedCTRequired",
    result_class=R,
    applies_to=(SYS,),
    since="certificates issued from 2018-10-16 (iOS 12.1.1)",
    citation=f"ios-trust-rules.md §1d ct_required_system and ct_policy_counts; support.apple.com/103214; SecPolicyCheckSystemTrustedCTRequired ({SECURITY} trust/trustd/SecPolicyServer.c), getSCTValidatingLog, isSCTValidForLogData, find_validating_logs, verify_tls_ct_policy, verify_embedded_sct_policy_v1/_v2 ({SECURITY} trust/trustd/CertificateTransparency.m); BuildTrustedCTLogsList.py (security_certificates)",
    fix="Use a certificate from a public CA that embeds SCTs (every public CA does today), or have the CA re-issue it with SCTs. If the root was given with --system-roots but is really your own private root, it is not preinstalled on iPhones: install it as a profile (mailtls profile ROOT.pem) and check with --ca-file ROOT.pem, where Certificate Transparency does not apply.",
    user_sees="The 'Cannot Verify Server Identity' sheet (Certificate Transparency validation required for this use).",
    severity=Severity.ERROR,
    remedy="public_ca",
    note="Counts embedded SCTs only: SCTs delivered in the TLS handshake or an OCSP staple are not seen, so a server that staples them could pass on an iPhone. SCT signatures and Apple's log list are checked only when the system store carries Apple's log_list.json; the CT kill switch, the 60-day staleness of the device's list and CT exceptions set by MDM are not modelled.",
)
def ct_required_system(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    leaf = ctx.leaf
    info = leaf.info
    if not ctx.ios_at_least(12) or info.not_before is None or info.not_after is None:
        return hits
    if info.not_before < OCT_2018 or not info.not_before <= ctx.at <= info.not_after:
        return hits
    required = required_embedded_scts(info.not_before, info.not_after)
    # an SCT of an unknown version has no readable log id ("") and counts for no log
    distinct_logs = len({log_id for log_id, _ in leaf.scts if log_id})
    log_list = ctx.system.ct_log_list if ctx.system is not None else None
    if log_list is not None:
        return _ct_with_log_list(ctx, ctlogs.log_list_for(log_list), required, distinct_logs)
    evidence = {
        "embedded_scts": leaf.sct_count,
        "distinct_logs": distinct_logs,
        "required_embedded_scts": required,
        "sct_logs": [{"log_id": log_id, "timestamp": when} for log_id, when in leaf.scts],
        "verified": False,
    }
    if distinct_logs >= required:
        hits.append(
            Hit(
                0,
                f"The certificate embeds SCTs from {distinct_logs} log(s); Apple's policy asks for {required} (SCT signatures and Apple's log list were not checked).",
                evidence,
                severity=Severity.INFO,
                clear_result_class=True,
            )
        )
        return hits
    hits.append(
        Hit(
            0,
            f"The certificate embeds SCTs from {distinct_logs} Certificate Transparency log(s), but under a preinstalled (system) root Apple's policy asks for {required} for its lifetime, so the iPhone does not trust it unless SCTs come in the TLS handshake or an OCSP staple, which mailtls cannot see.",
            evidence,
        )
    )
    return hits


def _ct_with_log_list(
    ctx: Context, logs: ctlogs.LogList, required: int, distinct_logs: int
) -> list[Hit]:
    """ct_required_system when the system store carries Apple's CT log list."""
    leaf, info = ctx.leaf, ctx.leaf.info
    assert info.not_after is not None
    issuer = ctx.nodes[1].cert if len(ctx.nodes) > 1 else None
    result = ctlogs.evaluate_embedded_scts(leaf, issuer, logs, ctx.at, info.not_after)
    not_counted: dict[str, int] = {}
    for v in result.scts:
        if not v.counted:
            not_counted[v.reason] = not_counted.get(v.reason, 0) + 1
    evidence = {
        "embedded_scts": leaf.sct_count,
        "distinct_logs": distinct_logs,
        "required_embedded_scts": required,
        "counted_scts": result.counted_logs,
        "sct_logs": [
            {
                "log_id": v.log_id,
                "timestamp": v.timestamp,
                "counted": v.counted,
                "reason": v.reason,
                "detail": v.detail,
                "log": v.log.description if v.log else None,
                "operator": v.log.operator if v.log else None,
                "log_state": v.log.state if v.log else None,
            }
            for v in result.scts
        ],
        "not_counted": not_counted,
        "issuance_time": result.issuance_time,
        "log_list": {
            "source": "Apple log_list.json",
            "version": logs.version,
            "logs": len(logs.logs),
        },
        "verified": True,
    }
    version = f" (version {logs.version})" if logs.version else ""
    why = "; ".join(
        f"{n} because {ctlogs.REASONS[reason]}" for reason, n in sorted(not_counted.items())
    )
    left_out = f" {sum(not_counted.values())} did not count: {why}." if not_counted else ""
    counted = result.counted_logs
    if counted >= required:
        return [
            Hit(
                0,
                f"{counted} of the certificate's {leaf.sct_count} embedded SCT(s) count under Apple's CT log list{version}, signatures verified; Apple's policy asks for {required}.{left_out}",
                evidence,
                severity=Severity.INFO,
                clear_result_class=True,
            )
        ]
    return [
        Hit(
            0,
            f"Of the certificate's {leaf.sct_count} embedded SCT(s), {counted} count under Apple's CT log list{version}, but under a preinstalled (system) root Apple's policy asks for {required} for its lifetime, so the iPhone does not trust it unless SCTs come in the TLS handshake or an OCSP staple, which mailtls cannot see.{left_out}",
            evidence,
        )
    ]


documented(
    "ct_policy_counts",
    "How many SCTs Apple's CT policy needs",
    "Embedded SCTs needed by lifetime: before 2021-04-21 by months (<15: 2, <=27: 3, <=39: 4, else 5); after by days (<=180: 2, <=825: 3, else 4).",
    "ios-trust-rules.md §1d ct_policy_counts; verify_embedded_sct_policy_v1/_v2",
    "Used by ct_required_system; with Apple's log list the count is of SCTs that count there (signatures verified), otherwise of distinct logs named.",
    applies_to=(SYS,),
)
