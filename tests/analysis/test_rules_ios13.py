"""The iOS 13 rules and how the code scopes them (ios-trust-rules.md §1c), boundaries included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from mailtls import pki
from mailtls.analysis.registry import JUL_2019, MAR_2018, SEP_2020
from tests.analysis.factory import Keys, Lab, analyse, ct_logged, der, failing

ONE_SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def test_constants_are_apples() -> None:
    assert datetime(2019, 6, 30, 23, 0, tzinfo=UTC) == JUL_2019
    assert datetime(2020, 9, 1, tzinfo=UTC) == SEP_2020
    assert datetime(2018, 3, 1, tzinfo=UTC) == MAR_2018


# ios13_key_size -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["NONE", "USR", "SYS"])
def test_rsa_1024_leaf_fails_key_size(lab: Lab, keys: Keys, kind: str) -> None:
    leaf = lab.leaf(key=keys.rsa1024, extra_extensions=ct_logged())
    result = analyse(lab.chain(leaf), kind, pki.cert_to_der(lab.root()))
    finding = failing(result)["ios13_key_size"]
    assert finding.check_key == "KeySize" and finding.evidence["minimum"] == 2048
    assert result.verdict == "prompt"
    unanchored = {"chain_anchor_required", "chain_missing_intermediate"}  # NONE: root not sent
    assert set(failing(result)) - unanchored == {"ios13_key_size"}


def test_rsa_1024_self_signed_leaf_trusted_directly_passes(lab: Lab, keys: Keys) -> None:
    leaf = pki.cert_to_der(lab.self_signed(key=keys.rsa1024))
    result = analyse([leaf], "USR-LEAF", leaf)
    assert result.verdict == "trusted" and "ios13_key_size" not in failing(result)


def test_small_root_counts(lab: Lab, keys: Keys) -> None:
    root = lab.root(key=keys.rsa1024)
    inter = lab.inter(root=root, root_key=keys.rsa1024)
    result = analyse(der(lab.leaf(issuer=inter), inter), "USR", pki.cert_to_der(root))
    assert failing(result)["ios13_key_size"].evidence["from"] == "user"


def test_ec_p256_passes_and_ed25519_fails_key_size(lab: Lab, keys: Keys) -> None:
    root = pki.cert_to_der(lab.root())
    assert "ios13_key_size" not in failing(analyse(lab.chain(lab.leaf(key=keys.ec)), "USR", root))
    ed = failing(analyse(lab.chain(lab.leaf(key=keys.ed25519)), "USR", root))
    assert ed["ios13_key_size"].evidence["key_type"] == "Ed25519"
    assert "weak_key_fatal" not in ed


def test_key_size_before_ios13_only_for_system_roots(lab: Lab, keys: Keys) -> None:
    chain, root = lab.chain(lab.leaf(key=keys.rsa1024)), pki.cert_to_der(lab.root())
    assert "ios13_key_size" not in failing(analyse(chain, "USR", root, ios="12"))
    assert "ios13_key_size" in failing(analyse(chain, "SYS", root, ios="12"))


# ios13_sha2 -----------------------------------------------------------------------


def test_sha1_leaf_fails(lab: Lab) -> None:
    result = analyse(lab.chain(lab.leaf(hash="sha1")), "USR", pki.cert_to_der(lab.root()))
    finding = failing(result)["ios13_sha2"]
    assert finding.check_key == "SignatureHashAlgorithms" and result.verdict == "prompt"
    assert "weak_signature_fatal" not in failing(result)


def test_sha1_self_signed_is_never_checked(lab: Lab, keys: Keys) -> None:
    leaf = pki.cert_to_der(lab.self_signed(hash="sha1"))
    assert "ios13_sha2" not in failing(analyse([leaf]))
    assert analyse([leaf], "USR-LEAF", leaf).verdict == "trusted"


def test_sha1_before_ios13_only_for_system_roots(lab: Lab) -> None:
    chain, root = lab.chain(lab.leaf(hash="sha1")), pki.cert_to_der(lab.root())
    assert analyse(chain, "USR", root, ios="12.4").verdict == "trusted"
    assert "ios13_sha2" in failing(analyse(chain, "SYS", root, ios="12.4"))


# leaf_eku_compatible / ios13_eku_serverauth -----------------------------------------


def test_email_only_eku_fails_even_under_a_user_root(lab: Lab) -> None:
    leaf = lab.leaf(eku=(ExtendedKeyUsageOID.EMAIL_PROTECTION,))
    result = analyse(lab.chain(leaf), "USR", pki.cert_to_der(lab.root()))
    assert failing(result)["leaf_eku_compatible"].check_key == "ExtendedKeyUsage"
    assert "ios13_eku_serverauth" not in failing(result)


def test_intermediate_eku_without_tls(lab: Lab) -> None:
    inter = lab.inter(eku=(ExtendedKeyUsageOID.CLIENT_AUTH,))
    result = analyse(der(lab.leaf(issuer=inter), inter), "USR", pki.cert_to_der(lab.root()))
    assert failing(result)["leaf_eku_compatible"].cert_index == 1


def test_no_eku_passes_compatibility_and_user_roots(lab: Lab) -> None:
    result = analyse(lab.chain(lab.leaf(eku=None)), "USR", pki.cert_to_der(lab.root()))
    assert result.verdict == "trusted"


@pytest.mark.parametrize(("offset", "fires"), [(timedelta(0), False), (ONE_SECOND, True)])
def test_eku_rule_for_untrusted_chains_starts_after_jul_2019(
    lab: Lab, offset: timedelta, fires: bool
) -> None:
    chain, root = lab.dated(JUL_2019 + offset, timedelta(days=300), eku=None)
    result = analyse([*chain, root], at=JUL_2019 + 10 * DAY)
    assert ("ios13_eku_serverauth" in failing(result)) is fires


def test_eku_rule_for_system_roots_has_no_date(lab: Lab) -> None:
    chain, root = lab.dated(datetime(2018, 1, 1, tzinfo=UTC), timedelta(days=300), eku=None)
    result = analyse(chain, "SYS", root, at=datetime(2018, 2, 1, tzinfo=UTC))
    assert failing(result)["ios13_eku_serverauth"].check_key == "ServerAuthEKU"


def test_any_eku_alone_fails_under_system_roots_only(lab: Lab) -> None:
    leaf = lab.leaf(eku=(ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,))
    chain, root = lab.chain(leaf), pki.cert_to_der(lab.root())
    assert "ios13_eku_serverauth" in failing(analyse(chain, "SYS", root))
    assert analyse(chain, "USR", root).verdict == "trusted"


def test_eku_rule_absent_before_ios13(lab: Lab) -> None:
    chain, root = lab.chain(lab.leaf(eku=None)), pki.cert_to_der(lab.root())
    assert "ios13_eku_serverauth" not in failing(analyse(chain, "SYS", root, ios="12"))


# validity_max_other ----------------------------------------------------------------

LIMIT_825 = timedelta(days=825, hours=1)


@pytest.mark.parametrize(
    ("lifetime", "fires"), [(LIMIT_825, False), (LIMIT_825 + ONE_SECOND, True)]
)
def test_825_days_plus_one_hour_under_a_user_root(
    lab: Lab, lifetime: timedelta, fires: bool
) -> None:
    chain, root = lab.dated(datetime(2025, 1, 1, tzinfo=UTC), lifetime)
    result = analyse(chain, "USR", root, at=datetime(2025, 2, 1, tzinfo=UTC))
    assert ("validity_max_other" in failing(result)) is fires
    if fires:
        assert failing(result)["validity_max_other"].check_key == "OtherTrustValidityPeriod"


def test_825_days_does_not_bind_a_trusted_leaf(lab: Lab) -> None:
    leaf = pki.cert_to_der(lab.self_signed(lifetime=timedelta(days=1000)))
    assert analyse([leaf], "USR-LEAF", leaf).verdict == "trusted"


@pytest.mark.parametrize(
    ("not_before", "ios", "fires"),
    [
        (JUL_2019, "26", True),  # notBefore >= the constant (current code)
        (JUL_2019, "15", False),  # older code: notBefore > the constant
        (JUL_2019 + ONE_SECOND, "15", True),
        (JUL_2019 - ONE_SECOND, "26", False),
        (JUL_2019 + ONE_SECOND, "12", False),  # the rule came with iOS 13
    ],
)
def test_825_day_rule_start(lab: Lab, not_before: datetime, ios: str, fires: bool) -> None:
    chain, root = lab.dated(not_before, timedelta(days=900))
    result = analyse(chain, "USR", root, at=not_before + DAY, ios=ios)
    assert ("validity_max_other" in failing(result)) is fires


# validity_max_system ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifetime", "fires"), [(timedelta(days=398), False), (timedelta(days=398, seconds=1), True)]
)
def test_398_days_exactly_under_a_system_root(lab: Lab, lifetime: timedelta, fires: bool) -> None:
    chain, root = lab.dated(datetime(2025, 1, 1, tzinfo=UTC), lifetime)
    result = analyse(chain, "SYS", root, at=datetime(2025, 2, 1, tzinfo=UTC))
    assert ("validity_max_system" in failing(result)) is fires
    if fires:
        finding = failing(result)["validity_max_system"]
        assert (
            finding.check_key == "SystemTrustValidityPeriod"
            and finding.evidence["max_seconds"] == 34_387_200
        )


def test_398_days_does_not_bind_user_roots_or_old_ios(lab: Lab) -> None:
    chain, root = lab.dated(datetime(2025, 1, 1, tzinfo=UTC), timedelta(days=500))
    at = datetime(2025, 2, 1, tzinfo=UTC)
    assert analyse(chain, "USR", root, at=at).verdict == "trusted"
    assert "validity_max_system" not in failing(analyse(chain, "SYS", root, at=at, ios="13"))
    assert "validity_max_system" in failing(analyse(chain, "SYS", root, at=at, ios="14"))


@pytest.mark.parametrize(
    ("not_before", "lifetime", "fires"),
    [
        (SEP_2020 - ONE_SECOND, LIMIT_825, False),  # before Sep 2020: 825 days + 1 h
        (SEP_2020 - ONE_SECOND, LIMIT_825 + ONE_SECOND, True),
        (MAR_2018, timedelta(days=826), True),
        (MAR_2018 - ONE_SECOND, timedelta(days=900), False),
    ],
)
def test_system_825_days_window(
    lab: Lab, not_before: datetime, lifetime: timedelta, fires: bool
) -> None:
    chain, root = lab.dated(not_before, lifetime)
    result = analyse(chain, "SYS", root, at=not_before + DAY)
    assert ("validity_max_system" in failing(result)) is fires


def test_legacy_check_keys_before_ios13(lab: Lab, keys: Keys) -> None:
    root = pki.cert_to_der(lab.root())
    small = failing(analyse(lab.chain(lab.leaf(key=keys.rsa1024)), "SYS", root, ios="12"))
    assert small["ios13_key_size"].check_key == "SystemTrustedWeakKey"
    sha1 = failing(analyse(lab.chain(lab.leaf(hash="sha1")), "SYS", root, ios="12"))
    assert sha1["ios13_sha2"].check_key == "SystemTrustedWeakHash"
    assert (
        failing(analyse(lab.chain(lab.leaf(hash="sha1")), "SYS", root, ios="current"))[
            "ios13_sha2"
        ].check_key
        == "SignatureHashAlgorithms"
    )
