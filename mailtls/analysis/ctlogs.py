"""Which embedded SCTs count under Apple's Certificate Transparency log list (pure, no I/O).

What Apple does, and what this module follows (``apple-oss-distributions/Security``):

* The log list shipped to devices is made from ``log_list.json`` by security_certificates'
  ``BuildTrustedCTLogsList.py``: logs whose state is ``pending`` or ``rejected`` are left
  out; ``readonly`` keeps the log with a "frozen" date, ``retired`` with an "expiry" date;
  ``usable`` and ``qualified`` are kept as they are; ``temporal_interval`` is copied.
  ``ConvertTrustedCTLogsArrayToDictionary`` (``OTATrustUtilities.m``) indexes the logs by
  ``log_id``, or by SHA-256 of ``key`` when an entry has no ``log_id``.
* ``getSCTValidatingLog`` (``trust/trustd/CertificateTransparency.m``) accepts an SCT when it
  decodes exactly, is version 1, its timestamp is not after the verification time, its log
  is in the list and ``isSCTValidForLogData`` holds (not after a read-only log froze; the
  leaf's notAfter in ``[start_inclusive, end_exclusive)``), and the log's key verifies its
  signature over the precertificate entry (``copy_precert_entry_from_chain``: SHA-256 of the
  issuer's SubjectPublicKeyInfo and the leaf's TBS without the SCT extension).
* ``find_validating_logs`` keeps the earliest SCT per log; nothing counts unless one SCT is
  from a log that is not retired. ``verify_tls_ct_policy`` then counts distinct logs: a
  retired log counts only if its SCT and the issuance time (the earliest SCT from a
  non-retired log) are both before the retirement. Log operators are not counted.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from mailtls.analysis import asn1, oids
from mailtls.analysis.certs import ParsedCertificate

#: States ``BuildTrustedCTLogsList.py`` keeps, and the two it drops.
KEPT_STATES = frozenset({"usable", "qualified", "readonly", "retired"})
DROPPED_STATES = frozenset({"pending", "rejected"})

#: Machine-readable reasons, with the sentence a report shows.
REASONS: dict[str, str] = {
    "counted": "counts for Apple's policy",
    "unreadable": "the SCT is malformed (Apple reads it strictly and skips it)",
    "unsupported_version": "the SCT is not version 1, the only version Apple reads",
    "sct_in_future": "the SCT's timestamp is after the moment of the check",
    "unknown_log": "its log is not in Apple's CT log list",
    "log_rejected": "its log is rejected in Apple's CT log list",
    "log_pending": "its log is pending in Apple's CT log list, not yet trusted",
    "log_list_entry_unusable": "its log's entry in Apple's list has an unknown state or bad dates",
    "after_readonly": "the SCT is dated after its log became read-only",
    "outside_temporal_interval": "the certificate's notAfter is outside its log's temporal interval",
    "no_issuer": "the issuer is not known, so the SCT's signature cannot be checked",
    "unsupported_signature": "the SCT's signature algorithm or its log's key is not supported",
    "bad_signature": "the SCT's signature does not verify with its log's key",
    "duplicate_log": "another SCT from the same log already counts (Apple counts each log once)",
    "no_current_log": "no SCT comes from a log that is not retired, so Apple counts none",
    "retired_before_sct": "its log was retired before the SCT's timestamp",
    "retired_before_issuance": "its log was retired before the certificate was issued (earliest SCT from a current log)",
}


class CtLog(NamedTuple):
    """One log of Apple's list, as the device's trusted-log entry would hold it."""

    log_id: str  # base64 of the 32-byte log id
    description: str
    operator: str
    state: str  # usable, qualified, readonly, retired, rejected, pending, or "" if unknown
    key: bytes  # DER SubjectPublicKeyInfo
    frozen: datetime | None  # readonly since
    retired: datetime | None  # retired since
    start_inclusive: datetime | None
    end_exclusive: datetime | None
    usable_entry: bool  # state and dates read as BuildTrustedCTLogsList.py wants them

    @property
    def trusted(self) -> bool:
        """In the device's trusted-log dictionary (pending and rejected logs are not)."""
        return self.usable_entry and self.state in KEPT_STATES


class LogList(NamedTuple):
    version: str | None
    logs: dict[str, CtLog]  # by base64 log id


class SctVerdict(NamedTuple):
    """Whether one embedded SCT counts, and why (``reason`` is a key of :data:`REASONS`)."""

    position: int  # in the leaf's SCT list (the index of ``leaf.scts``)
    log_id: str  # base64, "" when unreadable
    timestamp: datetime | None
    counted: bool
    reason: str
    log: CtLog | None

    @property
    def detail(self) -> str:
        return REASONS[self.reason]


class CtEvaluation(NamedTuple):
    scts: tuple[SctVerdict, ...]
    counted_logs: int  # distinct logs whose SCTs count (Apple's once_or_current_qualified)
    issuance_time: datetime | None  # earliest SCT from a current log, or None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _log_entry(log: Mapping[str, Any], operator: str) -> CtLog | None:
    try:
        key = base64.b64decode(str(log.get("key", "")), validate=True)
    except ValueError:
        key = b""
    log_id = log.get("log_id")
    if not isinstance(log_id, str) or not log_id:
        if not key:
            return None  # neither id nor key: Apple skips the entry too
        log_id = base64.b64encode(hashlib.sha256(key).digest()).decode("ascii")
    state_map = log.get("state")
    states = [s for s in state_map if isinstance(s, str)] if isinstance(state_map, Mapping) else []
    state = states[0] if len(states) == 1 else ""
    ok = bool(key) and state in KEPT_STATES | DROPPED_STATES

    def since(name: str) -> datetime | None:
        nonlocal ok
        entry = state_map.get(name) if isinstance(state_map, Mapping) else None
        when = _time(entry.get("timestamp")) if isinstance(entry, Mapping) else None
        ok = ok and when is not None
        return when

    frozen = since("readonly") if state == "readonly" else None
    retired = since("retired") if state == "retired" else None
    start = end = None
    interval = log.get("temporal_interval")
    if interval is not None:
        start = _time(interval.get("start_inclusive")) if isinstance(interval, Mapping) else None
        end = _time(interval.get("end_exclusive")) if isinstance(interval, Mapping) else None
        ok = ok and start is not None and end is not None
    return CtLog(
        log_id=log_id,
        description=str(
            log.get("description") or log.get("url") or log.get("submission_url") or ""
        ),
        operator=operator,
        state=state,
        key=key,
        frozen=frozen,
        retired=retired,
        start_inclusive=start,
        end_exclusive=end,
        usable_entry=ok,
    )


def parse_log_list(data: Mapping[str, Any]) -> LogList:
    """Apple's ``log_list.json`` (schema v5: operators[].logs[] and tiled_logs[])."""
    logs: dict[str, CtLog] = {}
    operators = data.get("operators")
    for operator in operators if isinstance(operators, Sequence) else ():
        if not isinstance(operator, Mapping):
            continue
        name = str(operator.get("name", ""))
        for group in ("logs", "tiled_logs"):
            entries = operator.get(group)
            for entry in entries if isinstance(entries, Sequence) else ():
                if isinstance(entry, Mapping) and (log := _log_entry(entry, name)) is not None:
                    logs[log.log_id] = log
    version = data.get("version")
    return LogList(str(version) if version is not None else None, logs)


#: id(mapping) -> (mapping, parsed); holding the mapping keeps its id from being reused.
_PARSED: dict[int, tuple[Mapping[str, Any], LogList]] = {}


def log_list_for(data: Mapping[str, Any]) -> LogList:
    """:func:`parse_log_list`, once per log-list object (a store's list is parsed once)."""
    hit = _PARSED.get(id(data))
    if hit is not None and hit[0] is data:
        return hit[1]
    parsed = parse_log_list(data)
    if len(_PARSED) >= 8:  # a few stores per process at most; forget the oldest
        del _PARSED[next(iter(_PARSED))]
    _PARSED[id(data)] = (data, parsed)
    return parsed


# --------------------------------------------------------------------------- SCTs


class _Sct(NamedTuple):
    version: int
    log_id: str
    millis: int
    extensions: bytes
    hash_alg: int
    sig_alg: int
    signature: bytes


def embedded_sct_list(cert: ParsedCertificate) -> list[bytes]:
    """The raw SCTs of the leaf's SCT-list extension, framed as ``certs._decode_scts`` reads
    them (so index i here is ``leaf.scts[i]``); each SCT is then read strictly."""
    for ext in cert.extensions:
        if ext.oid != oids.SCT_LIST:
            continue
        try:
            data = asn1.read_single(ext.value).content
        except (asn1.DerError, IndexError):
            return []
        offset, end = 2, min(len(data), 2 + int.from_bytes(data[:2], "big"))
        out = []
        while offset + 2 <= end:
            length = int.from_bytes(data[offset : offset + 2], "big")
            out.append(data[offset + 2 : offset + 2 + length])
            offset += 2 + length
        return out
    return []


def _read_sct(raw: bytes) -> _Sct | None:
    """As ``getSCTValidatingLog`` reads it: exact lengths, no bytes after the signature."""
    if len(raw) < 43:
        return None
    ext_len = int.from_bytes(raw[41:43], "big")
    p = 43 + ext_len
    if len(raw) < p + 4:
        return None
    sig_len = int.from_bytes(raw[p + 2 : p + 4], "big")
    if len(raw) - (p + 4) != sig_len:
        return None
    return _Sct(
        version=raw[0],
        log_id=base64.b64encode(raw[1:33]).decode("ascii"),
        millis=int.from_bytes(raw[33:41], "big"),
        extensions=raw[43:p],
        hash_alg=raw[p],
        sig_alg=raw[p + 1],
        signature=raw[p + 4 :],
    )


def precert_tbs(cert: ParsedCertificate) -> bytes | None:
    """The leaf's TBSCertificate with every SCT-list extension removed (RFC 6962 §3.2)."""
    try:
        fields = asn1.read_single(cert.tbs).children()
        out: list[bytes] = []
        for element in fields:
            if not element.is_context(3):
                out.append(element.raw)
                continue
            extensions = asn1.read_single(element.content).children()
            kept = [
                e.raw
                for e in extensions
                if asn1.decode_oid(e.children()[0].content) != oids.SCT_LIST
            ]
            out.append(asn1.encode(element.tag, asn1.encode_sequence(*kept)))
        return asn1.encode_sequence(*out)
    except (asn1.DerError, IndexError, ValueError):
        return None


@functools.lru_cache(maxsize=256)
def _public_key(spki: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    try:
        return load_der_public_key(spki)
    except (ValueError, TypeError):
        return None


def _signature_ok(sct: _Sct, log: CtLog, entry: bytes) -> bool | None:
    """True/False: verified or not; None: algorithm or key unsupported (Apple: not valid)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    # oidForSigAlg: hash 2/4/5 = SHA-1/256/384, signature 1 = RSA, 3 = ECDSA
    algorithms: dict[int, hashes.HashAlgorithm] = {
        2: hashes.SHA1(),
        4: hashes.SHA256(),
        5: hashes.SHA384(),
    }
    hash_alg = algorithms.get(sct.hash_alg)
    key = _public_key(log.key)
    if hash_alg is None or sct.sig_alg not in (1, 3) or key is None:
        return None
    signed = (
        bytes([sct.version, 0])
        + sct.millis.to_bytes(8, "big")
        + b"\x00\x01"  # precert_entry
        + entry
        + len(sct.extensions).to_bytes(2, "big")
        + sct.extensions
    )
    try:
        if sct.sig_alg == 1 and isinstance(key, rsa.RSAPublicKey):
            key.verify(sct.signature, signed, padding.PKCS1v15(), hash_alg)
        elif sct.sig_alg == 3 and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sct.signature, signed, ec.ECDSA(hash_alg))
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _rejection(
    sct: _Sct, log: CtLog | None, vt: int, not_after: datetime, entry: bytes | None
) -> str:
    """Why ``getSCTValidatingLog`` rejects this SCT, in its order; "" when it accepts it."""
    if sct.version != 0:
        return "unsupported_version"
    if sct.millis > vt:
        return "sct_in_future"
    if log is None:
        return "unknown_log"
    if not log.usable_entry:
        return "log_list_entry_unusable"
    if log.state in DROPPED_STATES:
        return f"log_{log.state}"
    # TimestampToCFAbsoluteTime: Apple compares SCT times in whole seconds
    sct_time = datetime.fromtimestamp(sct.millis // 1000, UTC)
    if log.frozen is not None and sct_time > log.frozen:
        return "after_readonly"
    if (log.start_inclusive is not None and not_after < log.start_inclusive) or (
        log.end_exclusive is not None and not_after >= log.end_exclusive
    ):
        return "outside_temporal_interval"
    if entry is None:
        return "no_issuer"
    ok = _signature_ok(sct, log, entry)
    if ok is None:
        return "unsupported_signature"
    return "" if ok else "bad_signature"


def evaluate_embedded_scts(
    leaf: ParsedCertificate,
    issuer: ParsedCertificate | None,
    log_list: LogList,
    at: datetime,
    not_after: datetime,
) -> CtEvaluation:
    """Decide, for each embedded SCT, whether Apple counts it (see the module docstring)."""
    raw_scts = embedded_sct_list(leaf)
    entry: bytes | None = None
    if issuer is not None and (tbs := precert_tbs(leaf)) is not None:
        entry = hashlib.sha256(issuer.spki_der).digest() + len(tbs).to_bytes(3, "big") + tbs
    # TimestampFromCFAbsoluteTime: the verification time in whole seconds, as milliseconds
    vt = int(at.timestamp()) * 1000
    first: list[tuple[int, SctVerdict]] = []  # (millis, verdict) of SCTs Apple accepts
    verdicts: dict[int, SctVerdict] = {}
    for index, raw in enumerate(raw_scts):
        sct = _read_sct(raw)
        if sct is None:
            verdicts[index] = SctVerdict(index, "", None, False, "unreadable", None)
            continue
        try:
            when: datetime | None = datetime.fromtimestamp(sct.millis / 1000, UTC)
        except (OverflowError, ValueError, OSError):
            when = None
        log = log_list.logs.get(sct.log_id)
        reason = _rejection(sct, log, vt, not_after, entry)
        if reason:
            verdicts[index] = SctVerdict(index, sct.log_id, when, False, reason, log)
        else:
            first.append((sct.millis, SctVerdict(index, sct.log_id, when, True, "counted", log)))
    # addValidatingLog: one entry per log, its earliest SCT; later ones are duplicates
    by_log: dict[str, tuple[int, SctVerdict]] = {}
    for millis, v in sorted(first, key=lambda item: (item[0], item[1].position)):
        if v.log_id in by_log:
            verdicts[v.position] = v._replace(counted=False, reason="duplicate_log")
        else:
            by_log[v.log_id] = (millis, v)
    current = [(m, v) for m, v in by_log.values() if v.log is not None and v.log.retired is None]
    issuance: datetime | None = None
    if current:
        earliest = min(m for m, _ in current) // 1000
        issuance = min(at, datetime.fromtimestamp(earliest, UTC))
    counted = 0
    for millis, v in by_log.values():
        assert v.log is not None
        retired = v.log.retired
        sct_time = datetime.fromtimestamp(millis // 1000, UTC)
        if issuance is None:
            reason = "no_current_log"
        elif retired is None:
            reason = "counted"
        elif not sct_time < retired:
            reason = "retired_before_sct"
        elif not issuance < retired:
            reason = "retired_before_issuance"
        else:
            reason = "counted"
        counted += reason == "counted"
        verdicts[v.position] = v._replace(counted=reason == "counted", reason=reason)
    return CtEvaluation(
        tuple(verdicts[i] for i in sorted(verdicts)), counted, issuance if current else None
    )
