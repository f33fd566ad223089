"""ct_required_system with Apple's CT log list: which embedded SCTs count, and why not.

Provenance: every certificate, log key and SCT is generated here (log keys are fresh EC and
RSA keys; SCTs are signed over the RFC 6962 precertificate entry with them); the log lists
are small synthetic schema-v5 documents, except one test that reads Apple's real
``log_list.json`` from the shared trust-store copy (its log ids, states and descriptions).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from mailtls import pki
from mailtls.analysis import asn1, ctlogs
from mailtls.analysis.certs import parse_certificate
from mailtls.analysis.engine import analyze_chain
from mailtls.analysis.stores import TrustStore
from mailtls.model import Analysis, AnchorKind, Finding, Severity
from tests.analysis.factory import AT, HOST, SCT_LIST_OID, T0, Lab, embedded_scts

REAL_LOG_LIST = Path("/work/shared/apple-trust-store/log_list.json")
SERIAL = 0x5C7
LIFETIME = timedelta(days=397)  # Apple's policy asks for 3 SCTs (181-825 days)
NOT_AFTER = T0 + LIFETIME


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Log:
    """A CT log of our own: its private key and the entry Apple's list would have for it."""

    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    description: str

    @property
    def spki(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def log_id(self) -> bytes:
        return hashlib.sha256(self.spki).digest()

    def entry(
        self, state: str = "usable", since: datetime = T0 - timedelta(days=400), **kw: Any
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "description": self.description,
            "key": base64.b64encode(self.spki).decode(),
            "log_id": base64.b64encode(self.log_id).decode(),
            "mmd": 86400,
            "state": {state: {"timestamp": _iso(since)}},
            "url": f"https://{self.description.lower().replace(' ', '-')}.example/",
        }
        out.update(kw)
        return out


@pytest.fixture(scope="module")
def logs() -> list[Log]:
    made: list[Log] = [
        Log(ec.generate_private_key(ec.SECP256R1()), f"Test Log {i}") for i in range(6)
    ]
    made.append(Log(rsa.generate_private_key(65537, 2048), "Test RSA Log"))
    return made


def log_list(*entries: dict[str, Any], operator: str = "Test Operator") -> dict[str, Any]:
    return {
        "$schema": "https://valid.apple.com/ct/log_list/schema_versions/log_list_schema_v5.json",
        "version": "999",
        "operators": [{"name": operator, "email": [], "logs": list(entries), "tiled_logs": []}],
    }


def _sct(log: Log, when: datetime, entry: bytes, *, log_id: bytes | None = None) -> bytes:
    """One SCT (RFC 6962 §3.2) signed by ``log`` over the precertificate ``entry``."""
    millis = struct.pack(">Q", int(when.timestamp() * 1000))
    signed = b"\x00\x00" + millis + b"\x00\x01" + entry + b"\x00\x00"
    if isinstance(log.key, rsa.RSAPrivateKey):
        signature, algorithms = (
            log.key.sign(signed, padding.PKCS1v15(), hashes.SHA256()),
            b"\x04\x01",
        )
    else:
        signature, algorithms = log.key.sign(signed, ec.ECDSA(hashes.SHA256())), b"\x04\x03"
    body = (
        b"\x00"
        + (log_id or log.log_id)
        + millis
        + b"\x00\x00"
        + algorithms
        + struct.pack(">H", len(signature))
        + signature
    )
    return struct.pack(">H", len(body)) + body


def sct_extension(items: Sequence[bytes]) -> list[tuple[x509.ExtensionType, bool]]:
    tls_list = struct.pack(">H", sum(map(len, items))) + b"".join(items)
    return [
        (x509.UnrecognizedExtension(SCT_LIST_OID, asn1.encode(asn1.OCTET_STRING, tls_list)), False)
    ]


def leaf_with_scts(
    lab: Lab,
    scts: Sequence[tuple[Log, datetime]],
    *,
    sign_over: bytes | None = None,
    not_before: datetime = T0,
    lifetime: timedelta = LIFETIME,
) -> x509.Certificate:
    """A leaf whose SCTs are signed over its own precertificate entry (or ``sign_over``)."""
    precert = lab.leaf(serial=SERIAL, not_before=not_before, lifetime=lifetime)
    issuer_key_hash = hashlib.sha256(
        lab.inter()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).digest()
    tbs = sign_over if sign_over is not None else precert.tbs_certificate_bytes
    entry = issuer_key_hash + len(tbs).to_bytes(3, "big") + tbs
    items = [_sct(log, when, entry) for log, when in scts]
    leaf = lab.leaf(
        serial=SERIAL,
        not_before=not_before,
        lifetime=lifetime,
        extra_extensions=sct_extension(items),
    )
    # the SCTs are only valid if removing the extension gives back the signed TBS
    assert leaf.tbs_precertificate_bytes == precert.tbs_certificate_bytes
    return leaf


def analyse(
    lab: Lab, leaf: x509.Certificate, ct_log_list: dict[str, Any] | None, at: datetime = AT
) -> Analysis:
    store = TrustStore(
        "test Apple store", AnchorKind.SYS, (pki.cert_to_der(lab.root()),), ct_log_list=ct_log_list
    )
    return analyze_chain(lab.chain(leaf), HOST, at=at, system=store)


def ct(result: Analysis) -> Finding:
    (finding,) = [f for f in result.findings if f.rule_id == "ct_required_system"]
    return finding


def reasons(finding: Finding) -> list[str]:
    return [s["reason"] for s in finding.evidence["sct_logs"]]


# --------------------------------------------------------------------------- counted


def test_three_scts_from_usable_logs_count_and_the_rule_is_silent(
    lab: Lab, logs: list[Log]
) -> None:
    leaf = leaf_with_scts(lab, [(logs[0], T0), (logs[1], T0), (logs[2], T0)])
    result = analyse(lab, leaf, log_list(*(log.entry() for log in logs[:3])))
    finding = ct(result)
    assert result.verdict == "trusted"
    assert finding.severity is Severity.INFO and finding.result_class is None
    assert finding.evidence["counted_scts"] == 3 and finding.evidence["required_embedded_scts"] == 3
    assert reasons(finding) == ["counted"] * 3
    first = finding.evidence["sct_logs"][0]
    assert first["counted"] is True and first["log"] == "Test Log 0"
    assert first["operator"] == "Test Operator" and first["log_state"] == "usable"
    assert first["log_id"] == base64.b64encode(logs[0].log_id).decode()
    assert finding.evidence["log_list"]["version"] == "999"
    assert finding.evidence["verified"] is True and finding.evidence["not_counted"] == {}


def test_an_rsa_log_and_qualified_and_readonly_logs_count(lab: Lab, logs: list[Log]) -> None:
    leaf = leaf_with_scts(lab, [(logs[6], T0), (logs[0], T0), (logs[1], T0)])
    entries = (
        logs[6].entry(),
        logs[0].entry("qualified"),
        logs[1].entry("readonly", since=T0 + timedelta(days=1)),
    )
    finding = ct(analyse(lab, leaf, log_list(*entries)))
    assert reasons(finding) == ["counted"] * 3 and finding.severity is Severity.INFO


def test_too_few_counted_fires_and_names_why(lab: Lab, logs: list[Log]) -> None:
    """Three SCTs, one from a log Apple does not list: 2 count, 3 needed."""
    leaf = leaf_with_scts(lab, [(logs[0], T0), (logs[1], T0), (logs[5], T0)])
    result = analyse(lab, leaf, log_list(logs[0].entry(), logs[1].entry()))
    finding = ct(result)
    assert result.verdict == "prompt" and finding.severity is Severity.ERROR
    assert finding.evidence["counted_scts"] == 2 and finding.evidence["embedded_scts"] == 3
    assert reasons(finding) == ["counted", "counted", "unknown_log"]
    assert finding.evidence["sct_logs"][2]["log"] is None
    assert finding.evidence["not_counted"] == {"unknown_log": 1}
    assert "1 did not count" in finding.summary and "not in Apple's CT log list" in finding.summary


@pytest.mark.parametrize(
    ("state", "reason"), [("rejected", "log_rejected"), ("pending", "log_pending")]
)
def test_rejected_and_pending_logs_never_count(
    lab: Lab, logs: list[Log], state: str, reason: str
) -> None:
    leaf = leaf_with_scts(lab, [(logs[0], T0), (logs[1], T0), (logs[2], T0)])
    entries = (
        logs[0].entry(),
        logs[1].entry(),
        logs[2].entry(state, since=T0 - timedelta(days=30)),
    )
    finding = ct(analyse(lab, leaf, log_list(*entries)))
    assert reasons(finding) == ["counted", "counted", reason]
    assert finding.evidence["sct_logs"][2]["log_state"] == state
    assert finding.severity is Severity.ERROR


# --------------------------------------------------------------------------- retired logs


def test_retired_after_the_sct_still_counts(lab: Lab, logs: list[Log]) -> None:
    leaf = leaf_with_scts(lab, [(logs[0], T0), (logs[1], T0), (logs[2], T0)])
    entries = (
        logs[0].entry(),
        logs[1].entry(),
        logs[2].entry("retired", since=T0 + timedelta(days=1)),
    )
    finding = ct(analyse(lab, leaf, log_list(*entries)))
    assert reasons(finding) == ["counted"] * 3 and finding.severity is Severity.INFO


def test_retired_before_the_sct_does_not_count(lab: Lab, logs: list[Log]) -> None:
    leaf = leaf_with_scts(lab, [(logs[0], T0), (logs[1], T0), (logs[2], T0)])
    entries = (
        logs[0].entry(),
        logs[1].entry(),
        logs[2].entry("retired", since=T0 - timedelta(days=1)),
    )
    finding = ct(analyse(lab, leaf, log_list(*entries)))
    assert reasons(finding) == ["counted", "counted", "retired_before_sct"]
    assert finding.severity is Severity.ERROR


def test_retired_log_needs_the_issuance_time_before_retirement(lab: Lab, logs: list[Log]) -> None:
    """The retired log's SCT predates its retirement, but the earliest SCT from a current
    log (Apple's issuance time) does not: verify_tls_ct_policy does not count it."""
    early, retired_at = T0 - timedelta(days=2), T0 - timedelta(days=1)
    leaf = leaf_with_scts(lab, [(logs[0], T0), (logs[1], T0), (logs[2], early)])
    entries = (logs[0].entry(), logs[1].entry(), logs[2].entry("retired", since=retired_at))
    finding = ct(analyse(lab, leaf, log_list(*entries)))
    assert reasons(finding) == ["counted", "counted", "retired_before_issuance"]
    assert finding.evidence["issuance_time"] == T0


def test_nothing_counts_without_an_sct_from_a_current_log(lab: Lab, logs: list[Log]) -> None:
    leaf = leaf_with_scts(lab, [(logs[0], T0), (logs[1], T0), (logs[2], T0)])
    later = T0 + timedelta(days=10)
    entries = [log.entry("retired", since=later) for log in logs[:3]]
    finding = ct(analyse(lab, leaf, log_list(*entries)))
    assert reasons(finding) == ["no_current_log"] * 3 and finding.evidence["counted_scts"] == 0


# --------------------------------------------------------------------------- time


def test_leaf_not_after_outside_the_temporal_interval(lab: Lab, logs: list[Log]) -> None:
    inside = {"start_inclusive": _iso(T0), "end_exclusive": _iso(NOT_AFTER + timedelta(seconds=1))}
    # end_exclusive: a leaf expiring exactly then belongs to the next shard
    at_end = {"start_inclusive": _iso(T0 - timedelta(days=365)), "end_exclusive": _iso(NOT_AFTER)}
    later = {
        "start_inclusive": _iso(NOT_AFTER + timedelta(days=1)),
        "end_exclusive": _iso(NOT_AFTER + timedelta(days=365)),
    }
    leaf = leaf_with_scts(lab, [(logs[0], T0), (logs[1], T0), (logs[2], T0)])
    entries = (
        logs[0].entry(temporal_interval=inside),
        logs[1].entry(temporal_interval=at_end),
        logs[2].entry(temporal_interval=later),
    )
    finding = ct(analyse(lab, leaf, log_list(*entries)))
    assert reasons(finding) == ["counted", "outside_temporal_interval", "outside_temporal_interval"]


def test_sct_dated_after_the_check_does_not_count(lab: Lab, logs: list[Log]) -> None:
    leaf = leaf_with_scts(lab, [(logs[0], T0), (logs[1], T0), (logs[2], AT + timedelta(seconds=1))])
    finding = ct(analyse(lab, leaf, log_list(*(log.entry() for log in logs[:3]))))
    assert reasons(finding) == ["counted", "counted", "sct_in_future"]


def test_sct_after_a_read_only_log_froze_does_not_count(lab: Lab, logs: list[Log]) -> None:
    leaf = leaf_with_scts(lab, [(logs[0], T0), (logs[1], T0), (logs[2], T0)])
    entries = (
        logs[0].entry(),
        logs[1].entry(),
        logs[2].entry("readonly", since=T0 - timedelta(hours=1)),
    )
    finding = ct(analyse(lab, leaf, log_list(*entries)))
    assert reasons(finding) == ["counted", "counted", "after_readonly"]


# --------------------------------------------------------------------------- per log, signatures


def test_two_scts_from_one_log_count_once(lab: Lab, logs: list[Log]) -> None:
    later = T0 + timedelta(minutes=5)
    leaf = leaf_with_scts(lab, [(logs[0], later), (logs[1], T0), (logs[0], T0)])
    finding = ct(analyse(lab, leaf, log_list(logs[0].entry(), logs[1].entry())))
    # Apple keeps each log's earliest SCT: the first one listed is the duplicate
    assert reasons(finding) == ["duplicate_log", "counted", "counted"]
    assert finding.evidence["counted_scts"] == 2 and finding.evidence["distinct_logs"] == 2
    assert finding.severity is Severity.ERROR


def test_operators_are_not_counted(lab: Lab, logs: list[Log]) -> None:
    """Three logs of one operator satisfy Apple's code (no per-operator cap in it)."""
    leaf = leaf_with_scts(lab, [(logs[0], T0), (logs[1], T0), (logs[2], T0)])
    finding = ct(analyse(lab, leaf, log_list(*(log.entry() for log in logs[:3]), operator="Solo")))
    assert finding.severity is Severity.INFO
    assert {s["operator"] for s in finding.evidence["sct_logs"]} == {"Solo"}


def test_a_signature_over_another_certificate_does_not_count(lab: Lab, logs: list[Log]) -> None:
    other = lab.leaf("other.example.test", serial=SERIAL).tbs_certificate_bytes
    leaf = leaf_with_scts(lab, [(logs[0], T0), (logs[1], T0)], sign_over=other)
    finding = ct(analyse(lab, leaf, log_list(logs[0].entry(), logs[1].entry())))
    assert reasons(finding) == ["bad_signature", "bad_signature"]


def test_unsigned_scts_count_without_a_log_list_but_not_with_one(lab: Lab, logs: list[Log]) -> None:
    """No log list (a PEM store, certifi): today's count of distinct logs and wording."""
    leaf = lab.leaf(extra_extensions=embedded_scts(1, 2, 3))
    old = ct(analyse(lab, leaf, None))
    assert old.severity is Severity.INFO and old.evidence["verified"] is False
    assert "counted_scts" not in old.evidence and "log_list" not in old.evidence
    assert old.evidence["distinct_logs"] == 3
    assert "Apple's log list were not checked" in old.summary
    new = ct(analyse(lab, leaf, log_list(logs[0].entry())))
    assert new.severity is Severity.ERROR and reasons(new) == ["unknown_log"] * 3


def test_malformed_and_v2_scts_are_reported(lab: Lab, logs: list[Log]) -> None:
    items = [b"\x00\x03abc", struct.pack(">H", 47) + b"\x01" + logs[0].log_id + bytes(14)]
    leaf = lab.leaf(extra_extensions=sct_extension(items))
    finding = ct(analyse(lab, leaf, log_list(logs[0].entry())))
    assert reasons(finding) == ["unreadable", "unsupported_version"]
    assert finding.evidence["embedded_scts"] == 2


# --------------------------------------------------------------------------- parsing


def test_log_list_parsing_ids_from_keys_and_cache(logs: list[Log]) -> None:
    entry = logs[0].entry()
    del entry["log_id"]
    data = log_list(entry, logs[1].entry("bogus"))
    parsed = ctlogs.log_list_for(data)
    assert ctlogs.log_list_for(data) is parsed
    assert ctlogs.log_list_for(json.loads(json.dumps(data))) is not parsed
    first = parsed.logs[base64.b64encode(logs[0].log_id).decode()]
    assert first.trusted and first.description == "Test Log 0"
    second = parsed.logs[base64.b64encode(logs[1].log_id).decode()]
    assert not second.usable_entry and not second.trusted


def test_precert_tbs_matches_cryptography(lab: Lab, logs: list[Log]) -> None:
    leaf = leaf_with_scts(lab, [(logs[0], T0)])
    parsed = parse_certificate(pki.cert_to_der(leaf))
    assert ctlogs.precert_tbs(parsed) == leaf.tbs_precertificate_bytes
    assert parsed.tbs != leaf.tbs_precertificate_bytes


@pytest.mark.skipif(not REAL_LOG_LIST.exists(), reason="shared Apple trust store copy absent")
def test_real_apple_log_list(lab: Lab) -> None:
    """Real log ids: a usable log's id with a signature we cannot make, a rejected log."""
    data = json.loads(REAL_LOG_LIST.read_text())
    all_logs = [
        (op["name"], log)
        for op in data["operators"]
        for log in op["logs"] + op.get("tiled_logs", [])
    ]

    def covers(log: dict[str, Any]) -> bool:
        interval = log.get("temporal_interval")
        if interval is None:
            return True
        start, end = (
            datetime.fromisoformat(interval[k].replace("Z", "+00:00"))
            for k in ("start_inclusive", "end_exclusive")
        )
        return bool(start <= NOT_AFTER < end)

    usable_logs = [(name, log) for name, log in all_logs if "usable" in log["state"]]
    usable = next((name, log) for name, log in usable_logs if covers(log))
    elsewhere = next((name, log) for name, log in usable_logs if not covers(log))
    rejected = next((name, log) for name, log in all_logs if "rejected" in log["state"])
    stand_in = Log(ec.generate_private_key(ec.SECP256R1()), "stand-in")
    precert = lab.leaf(serial=SERIAL)
    spki = (
        lab.inter()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    tbs = precert.tbs_certificate_bytes
    entry = hashlib.sha256(spki).digest() + len(tbs).to_bytes(3, "big") + tbs
    items = [
        _sct(stand_in, T0, entry, log_id=base64.b64decode(usable[1]["log_id"])),
        _sct(stand_in, T0, entry, log_id=base64.b64decode(rejected[1]["log_id"])),
        _sct(stand_in, T0, entry, log_id=base64.b64decode(elsewhere[1]["log_id"])),
    ]
    leaf = lab.leaf(serial=SERIAL, extra_extensions=sct_extension(items))
    finding = ct(analyse(lab, leaf, data, at=datetime(2025, 3, 1, tzinfo=UTC)))
    sct_logs = finding.evidence["sct_logs"]
    assert [s["reason"] for s in sct_logs] == [
        "bad_signature",
        "log_rejected",
        "outside_temporal_interval",
    ]
    assert sct_logs[0]["log"] == usable[1]["description"] and sct_logs[0]["operator"] == usable[0]
    assert sct_logs[1]["log"] == rejected[1]["description"]
    assert finding.evidence["log_list"]["version"] == str(data["version"])
    assert finding.severity is Severity.ERROR
