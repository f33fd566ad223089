"""CT (reported, not evaluated), distrust tables, expiry notice, transport findings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailtls import pki
from mailtls.analysis import rules, transport_findings
from mailtls.analysis.registry import DEC_2016, OCT_2018
from mailtls.analysis.rules import required_embedded_scts
from mailtls.model import (
    Capabilities,
    Category,
    Endpoint,
    ProbeResult,
    ResultClass,
    Severity,
    Status,
)
from tests.analysis.factory import Lab, analyse, failing, fired

# ct_required_system -------------------------------------------------------------------


def test_ct_is_reported_not_invented_for_system_roots(lab: Lab) -> None:
    result = analyse(lab.chain(), "SYS", pki.cert_to_der(lab.root()))
    assert result.verdict == "trusted"
    ct = fired(result, "ct_required_system")[0]
    assert ct.severity is Severity.INFO and ct.result_class is None
    assert ct.evidence["embedded_scts"] == 0 and ct.evidence["required_embedded_scts"] == 3
    assert ct.evidence["evaluated"] is False


def test_ct_not_reported_for_private_roots_or_old_leaves(lab: Lab) -> None:
    assert not fired(analyse(lab.chain(), "USR", pki.cert_to_der(lab.root())), "ct_required_system")
    chain, root = lab.dated(OCT_2018 - timedelta(seconds=1), timedelta(days=300))
    assert not fired(
        analyse(chain, "SYS", root, at=OCT_2018 + timedelta(days=1)), "ct_required_system"
    )
    chain, root = lab.dated(OCT_2018, timedelta(days=300))
    assert fired(analyse(chain, "SYS", root, at=OCT_2018 + timedelta(days=1)), "ct_required_system")


@pytest.mark.parametrize(
    ("not_before", "days", "count"),
    [
        (datetime(2022, 1, 1, tzinfo=UTC), 180, 2),
        (datetime(2022, 1, 1, tzinfo=UTC), 181, 3),
        (datetime(2022, 1, 1, tzinfo=UTC), 826, 4),
        (datetime(2019, 1, 1, tzinfo=UTC), 365, 2),  # v1: < 15 months
        (datetime(2019, 1, 1, tzinfo=UTC), 800, 3),  # 26 months
        (datetime(2019, 1, 1, tzinfo=UTC), 1100, 4),
        (datetime(2019, 1, 1, tzinfo=UTC), 1300, 5),
    ],
)
def test_ct_policy_counts(not_before: datetime, days: int, count: int) -> None:
    assert required_embedded_scts(not_before, not_before + timedelta(days=days)) == count


# distrust / blocklist ------------------------------------------------------------------


def test_distrusted_root_with_cutoff_is_fatal(monkeypatch: pytest.MonkeyPatch, lab: Lab) -> None:
    root = pki.cert_to_der(lab.root())
    from mailtls.analysis.certs import parse_certificate

    digest = parse_certificate(root).sha256
    monkeypatch.setitem(rules.DISTRUSTED_ROOTS, digest, ("Test Distrusted Root", DEC_2016))
    result = analyse(lab.chain(), "SYS", root)
    assert result.verdict == "fatal"
    finding = failing(result)["distrust_wosign_startcom"]
    assert finding.check_key == "BlackListedKey" and finding.result_class is ResultClass.FATAL
    # the same chain under a user root is not subject to Apple's distrust
    assert analyse(lab.chain(), "USR", root).verdict == "trusted"
    # leaves issued before the cut-off keep working
    monkeypatch.setitem(
        rules.DISTRUSTED_ROOTS,
        digest,
        ("Test Distrusted Root", datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC)),
    )
    assert "distrust_wosign_startcom" not in failing(analyse(lab.chain(), "SYS", root))


def test_blocked_key_is_fatal_and_gray_listed_is_recoverable(
    monkeypatch: pytest.MonkeyPatch, lab: Lab
) -> None:
    import hashlib

    from mailtls.analysis.certs import parse_certificate

    leaf = lab.leaf()
    spki = hashlib.sha256(parse_certificate(pki.cert_to_der(leaf)).spki_der).hexdigest()
    root = pki.cert_to_der(lab.root())
    assert "blocked_certs_keys" not in failing(analyse(lab.chain(leaf), "USR", root))
    monkeypatch.setitem(rules.BLOCKED, spki, ("test key", "BlackListedKey", ResultClass.FATAL))
    assert analyse(lab.chain(leaf), "USR", root).verdict == "fatal"
    monkeypatch.setitem(rules.BLOCKED, spki, ("test key", "GrayListedKey", ResultClass.RECOVERABLE))
    result = analyse(lab.chain(leaf), "USR", root)
    assert (
        result.verdict == "prompt"
        and failing(result)["blocked_certs_keys"].check_key == "GrayListedKey"
    )


# expiry_soon --------------------------------------------------------------------------


def test_expiry_warning_within_30_days(lab: Lab) -> None:
    leaf = lab.leaf()
    chain, root = lab.chain(leaf), pki.cert_to_der(lab.root())
    na = leaf.not_valid_after_utc
    soon = analyse(chain, "USR", root, at=na - timedelta(days=30))
    notice = fired(soon, "expiry_soon")[0]
    assert notice.category is Category.NOTICE and notice.severity is Severity.WARNING
    assert soon.verdict == "trusted"
    assert not fired(
        analyse(chain, "USR", root, at=na - timedelta(days=30, seconds=1)), "expiry_soon"
    )


def test_at_moves_the_evaluation_not_the_wall_clock(lab: Lab) -> None:
    leaf = lab.leaf()
    chain, root = lab.chain(leaf), pki.cert_to_der(lab.root())
    later = analyse(chain, "USR", root, at=leaf.not_valid_after_utc + timedelta(days=1))
    assert later.verdict == "prompt" and "temporal_validity" in failing(later)


# transport ------------------------------------------------------------------------------


def _probe(scheme: str, **kw: object) -> ProbeResult:
    return ProbeResult(
        endpoint=Endpoint(scheme, "mail.example.test", 143),
        status=kw.pop("status", Status.OK),
        **kw,
    )  # type: ignore[arg-type]


def test_tls10_only_is_a_transport_warning() -> None:
    findings = transport_findings(
        _probe(
            "imaps", tls_version="TLSv1", accepted_tls_versions={"TLSv1": True, "TLSv1.2": False}
        )
    )
    assert [f.rule_id for f in findings] == ["tls10_11_deprecated"]
    assert findings[0].category is Category.TRANSPORT and findings[0].severity is Severity.WARNING
    assert findings[0].remedy == "upgrade_tls"
    modern = transport_findings(
        _probe(
            "imaps", tls_version="TLSv1.3", accepted_tls_versions={"TLSv1.3": True, "TLSv1": False}
        )
    )
    assert modern == []


def test_old_tls_accepted_besides_new_is_info() -> None:
    findings = transport_findings(
        _probe(
            "imaps", tls_version="TLSv1.3", accepted_tls_versions={"TLSv1.3": True, "TLSv1.1": True}
        )
    )
    assert findings[0].severity is Severity.INFO


def test_starttls_missing_auth_before_tls_and_injection() -> None:
    caps = Capabilities(starttls_offered=False, auth_before_tls=("PLAIN",), injected_plaintext=True)
    ids = [f.rule_id for f in transport_findings(_probe("imap", capabilities=caps))]
    assert ids == ["starttls_not_offered", "auth_before_starttls", "starttls_injection"]
    good = Capabilities(starttls_offered=True, login_disabled=True, plaintext_login_offered=True)
    assert transport_findings(_probe("imap", capabilities=good)) == []
    assert [f.rule_id for f in transport_findings(_probe("imap", status=Status.NO_TLS))] == [
        "starttls_not_offered"
    ]


def test_entrust_camerfirma_cutoff(monkeypatch: pytest.MonkeyPatch, lab: Lab) -> None:
    from mailtls.analysis.certs import parse_certificate

    root = pki.cert_to_der(lab.root())
    monkeypatch.setitem(
        rules.ENTRUST_CAMERFIRMA_ROOTS, parse_certificate(root).sha256, "Test Entrust Root"
    )
    issued_after = lab.dated(rules.ENTRUST_CAMERFIRMA_CUTOFF, timedelta(days=200))[0]
    result = analyse(
        issued_after, "SYS", root, at=rules.ENTRUST_CAMERFIRMA_CUTOFF + timedelta(days=1)
    )
    finding = failing(result)["distrust_entrust_camerfirma"]
    assert finding.check_key == "GrayListedKey" and result.verdict == "prompt"
    issued_before = lab.dated(
        rules.ENTRUST_CAMERFIRMA_CUTOFF - timedelta(seconds=1), timedelta(days=200)
    )[0]
    quiet = analyse(
        issued_before, "SYS", root, at=rules.ENTRUST_CAMERFIRMA_CUTOFF + timedelta(days=1)
    )
    assert "distrust_entrust_camerfirma" not in failing(quiet)
    assert "distrust_entrust_camerfirma" not in failing(
        analyse(issued_after, "USR", root, at=rules.ENTRUST_CAMERFIRMA_CUTOFF + timedelta(days=1))
    )


def test_entrust_table_holds_apples_fingerprints() -> None:
    assert len(rules.ENTRUST_CAMERFIRMA_ROOTS) == 8
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in rules.ENTRUST_CAMERFIRMA_ROOTS)


def test_embedded_scts_are_counted_and_listed(lab: Lab) -> None:
    import struct

    from cryptography import x509

    from mailtls.analysis import asn1

    def sct(log_byte: int, millis: int) -> bytes:
        body = (
            b"\x00"
            + bytes([log_byte]) * 32
            + struct.pack(">Q", millis)
            + b"\x00\x00"
            + b"\x04\x03"
            + b"\x00\x02\xaa\xbb"
        )
        return struct.pack(">H", len(body)) + body

    items = sct(1, 1_735_689_600_000) + sct(2, 1_735_689_600_000)
    tls_list = struct.pack(">H", len(items)) + items
    ext = x509.UnrecognizedExtension(
        x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"), asn1.encode(asn1.OCTET_STRING, tls_list)
    )
    leaf = lab.leaf(extra_extensions=[(ext, False)])
    result = analyse(lab.chain(leaf), "SYS", pki.cert_to_der(lab.root()))
    ct = fired(result, "ct_required_system")[0]
    assert ct.evidence["embedded_scts"] == 2
    assert ct.evidence["sct_logs"][0]["timestamp"] == datetime(2025, 1, 1, tzinfo=UTC)
    assert result.verdict == "trusted"
