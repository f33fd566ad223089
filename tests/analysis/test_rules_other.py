"""CT (embedded SCTs counted), distrust tables, expiry notice, transport findings."""

from __future__ import annotations

import base64
import struct
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from mailtls import pki
from mailtls.analysis import asn1, rules, transport_findings
from mailtls.analysis.registry import DEC_2016, OCT_2018
from mailtls.analysis.rules import required_embedded_scts
from mailtls.model import (
    Analysis,
    Capabilities,
    Category,
    Endpoint,
    ProbeResult,
    ResultClass,
    Severity,
    Status,
)
from tests.analysis.factory import (
    AT,
    SCT_LIST_OID,
    T0,
    Lab,
    analyse,
    ct_logged,
    embedded_scts,
    failing,
    fired,
    sct,
)

# ct_required_system -------------------------------------------------------------------


def _sys(lab: Lab, chain: list[bytes], at: datetime = AT) -> Analysis:
    return analyse(chain, "SYS", pki.cert_to_der(lab.root()), at=at)


def test_ct_without_scts_fails_under_a_system_root(lab: Lab) -> None:
    result = _sys(lab, lab.chain())
    assert result.verdict == "prompt" and set(failing(result)) == {"ct_required_system"}
    ct = failing(result)["ct_required_system"]
    assert ct.check_key == "SystemTrustedCTRequired" and ct.result_class is ResultClass.RECOVERABLE
    assert ct.evidence["embedded_scts"] == 0 and ct.evidence["distinct_logs"] == 0
    assert ct.evidence["required_embedded_scts"] == 3  # 397 days: <= 825 d
    assert ct.evidence["verified"] is False
    assert "TLS handshake or an OCSP staple" in ct.summary


def test_ct_with_enough_scts_is_information_only(lab: Lab) -> None:
    result = _sys(lab, lab.chain(lab.leaf(extra_extensions=ct_logged(3))))
    assert result.verdict == "trusted" and not failing(result)
    ct = fired(result, "ct_required_system")[0]
    assert ct.severity is Severity.INFO and ct.result_class is None
    assert (ct.evidence["distinct_logs"], ct.evidence["required_embedded_scts"]) == (3, 3)


def test_ct_counts_distinct_logs_not_scts(lab: Lab) -> None:
    """Three SCTs, two from the same log: two logs < three required."""
    leaf = lab.leaf(extra_extensions=embedded_scts(1, 1, 2))
    ct = failing(_sys(lab, lab.chain(leaf)))["ct_required_system"]
    assert (ct.evidence["embedded_scts"], ct.evidence["distinct_logs"]) == (3, 2)


def test_ct_ignores_scts_of_an_unknown_version(lab: Lab) -> None:
    items = sct(1) + sct(2) + sct(3, version=1)
    ext = x509.UnrecognizedExtension(
        SCT_LIST_OID,
        asn1.encode(asn1.OCTET_STRING, struct.pack(">H", len(items)) + items),
    )
    leaf = lab.leaf(extra_extensions=[(ext, False)])
    ct = failing(_sys(lab, lab.chain(leaf)))["ct_required_system"]
    assert (ct.evidence["embedded_scts"], ct.evidence["distinct_logs"]) == (3, 2)


@pytest.mark.parametrize(
    ("days", "logs", "fails"),
    [
        (180, 1, True),  # <= 180 days: 2 logs
        (180, 2, False),
        (181, 2, True),  # 181..825 days: 3 logs
        (181, 3, False),
        (825, 3, False),
        (826, 3, True),  # > 825 days: 4 logs
        (826, 4, False),
    ],
)
def test_ct_count_follows_the_lifetime(lab: Lab, days: int, logs: int, fails: bool) -> None:
    """Apple's v2 policy (notBefore >= 2021-04-21) at each lifetime boundary."""
    chain, root = lab.dated(T0, timedelta(days=days), extra_extensions=ct_logged(logs))
    result = analyse(chain, "SYS", root, at=T0 + timedelta(days=10))
    ct = fired(result, "ct_required_system")[0]
    assert ct.evidence["distinct_logs"] == logs
    assert (ct.result_class is ResultClass.RECOVERABLE) is fails
    assert ("ct_required_system" in failing(result)) is fails


@pytest.mark.parametrize("kind", ["USR", "NONE"])
def test_ct_is_silent_for_private_and_untrusted_chains(lab: Lab, kind: str) -> None:
    root = pki.cert_to_der(lab.root())
    result = analyse(lab.chain(with_root=kind == "NONE"), kind, root)
    assert not fired(result, "ct_required_system")


def test_ct_is_silent_for_leaves_issued_before_october_2018(lab: Lab) -> None:
    at = OCT_2018 + timedelta(days=1)
    chain, root = lab.dated(OCT_2018 - timedelta(seconds=1), timedelta(days=300))
    assert not fired(analyse(chain, "SYS", root, at=at), "ct_required_system")
    chain, root = lab.dated(OCT_2018, timedelta(days=300))
    assert "ct_required_system" in failing(analyse(chain, "SYS", root, at=at))


def test_ct_is_silent_for_an_expired_or_not_yet_valid_leaf(lab: Lab) -> None:
    chain = lab.chain()  # valid 2025-01-01 + 397 days
    expired = _sys(lab, chain, at=T0 + timedelta(days=398))
    assert not fired(expired, "ct_required_system") and "temporal_validity" in failing(expired)
    early = _sys(lab, chain, at=T0 - timedelta(days=1))
    assert not fired(early, "ct_required_system")
    assert "ct_required_system" in failing(_sys(lab, chain, at=T0 + timedelta(days=397)))


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
    leaf = lab.leaf(extra_extensions=embedded_scts(1, 2, 3))
    result = analyse(lab.chain(leaf), "SYS", pki.cert_to_der(lab.root()))
    ct = fired(result, "ct_required_system")[0]
    assert ct.evidence["embedded_scts"] == 3
    assert ct.evidence["sct_logs"][0]["log_id"] == base64.b64encode(b"\x01" * 32).decode()
    assert ct.evidence["sct_logs"][0]["timestamp"] == datetime(2025, 1, 1, tzinfo=UTC)
    assert result.verdict == "trusted"
