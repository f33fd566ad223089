"""The scenario catalogue: names, determinism, the certificates it promises, files it writes."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from mailtls.errors import ArtefactError, UsageError
from mailtls.lab import scenarios
from mailtls.lab.scenarios import (
    ANCHOR_KINDS,
    FIXTURE_DATE,
    REAL_SERVER_MATRIX,
    SCENARIO_NAMES,
    Scenario,
    build_scenario,
    write_scenario,
)

VERDICT_WORDS = {"trusted", "needs_profile", "prompt", "fatal"}
NOW = FIXTURE_DATE


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Scenario]:
    return {name: build_scenario(name, now=NOW) for name in SCENARIO_NAMES}


def certs(s: Scenario) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(s.chain_pem)


def leaf(s: Scenario) -> x509.Certificate:
    return certs(s)[0]


def lifetime(cert: x509.Certificate) -> timedelta:
    return cert.not_valid_after_utc - cert.not_valid_before_utc


def test_names_are_unique_and_kebab_case() -> None:
    assert len(set(SCENARIO_NAMES)) == len(SCENARIO_NAMES) >= 40
    for name in SCENARIO_NAMES:
        assert name == name.lower() and " " not in name and "_" not in name


def test_unknown_name_is_a_usage_error_listing_valid_names() -> None:
    with pytest.raises(UsageError) as err:
        build_scenario("no-such-scenario", now=NOW)
    message = str(err.value)
    assert "no-such-scenario" in message and "good-private" in message and "\n" not in message


def test_expectations_are_well_formed(catalogue: dict[str, Scenario]) -> None:
    for s in catalogue.values():
        assert s.title and "\n" not in s.title
        assert s.description and "\n" not in s.description
        assert s.expected_verdict, s.name
        assert set(s.expected_verdict) <= set(ANCHOR_KINDS)
        assert set(s.expected_verdict.values()) <= VERDICT_WORDS
        assert set(s.expected_rules) == set(s.expected_verdict)
        assert set(s.absent_rules) <= set(s.expected_verdict)
        assert set(s.expected_notices) <= set(s.expected_verdict)
        for kind, verdict in s.expected_verdict.items():
            fired = s.expected_rules[kind]
            # a failing verdict names at least one rule that explains it; a trusted one none
            assert bool(fired) == (verdict != "trusted"), (s.name, kind)
            assert not set(fired) & set(s.absent_rules.get(kind, ())), (s.name, kind)
        if "SYS" in s.expected_verdict and s.expected_verdict["SYS"] == "trusted":
            assert s.name == "legacy-2018-long-lived"  # only a pre-CT leaf escapes CT


def test_real_server_matrix_matches_issue_3(catalogue: dict[str, Scenario]) -> None:
    verdicts = [catalogue[name].expected_verdict[kind] for name, kind in REAL_SERVER_MATRIX]
    assert verdicts == ["needs_profile", "prompt", "prompt", "prompt", "prompt", "trusted"]


def test_three_or_four_demo_scenarios(catalogue: dict[str, Scenario]) -> None:
    demo = [s for s in catalogue.values() if s.demo]
    assert 3 <= len(demo) <= 4
    assert {s.name for s in demo} == set(scenarios.DEMO_SCENARIOS)
    # the demo shows real findings: at least one failing verdict without a root installed
    assert any(s.expected_verdict["NONE"] != "trusted" for s in demo)


def test_same_moment_gives_identical_bytes() -> None:
    later = datetime(2031, 5, 17, 13, 45, 7, tzinfo=UTC)
    for name in SCENARIO_NAMES:
        a, b = build_scenario(name, now=later), build_scenario(name, now=later)
        assert (a.chain_pem, a.key_pem, a.root_pem) == (b.chain_pem, b.key_pem, b.root_pem), name


def test_naive_now_means_utc() -> None:
    naive = build_scenario("good-private", now=datetime(2026, 11, 1))
    assert naive.chain_pem == build_scenario("good-private", now=NOW).chain_pem


def test_dates_follow_now() -> None:
    a = build_scenario("good-private", now=NOW)
    b = build_scenario("good-private", now=NOW + timedelta(days=100))
    assert leaf(b).not_valid_before_utc - leaf(a).not_valid_before_utc == timedelta(days=100)


def test_lab_root_is_shared_by_private_chains(catalogue: dict[str, Scenario]) -> None:
    root = catalogue["good-private"].root_pem
    for name in ("wrong-host", "missing-intermediate", "expired", "md5-leaf", "no-eku-after-2019"):
        assert catalogue[name].root_pem == root, name
    assert catalogue["sha1-root"].root_pem != root


def test_every_chain_is_leaf_first_and_signed_as_claimed(catalogue: dict[str, Scenario]) -> None:
    for s in catalogue.values():
        chain = certs(s)
        # (skip the slow RSA consistency check: these keys were validated when committed)
        key = serialization.load_pem_private_key(
            s.key_pem, None, unsafe_skip_rsa_key_validation=True
        )
        assert chain[0].public_key() == key.public_key(), s.name  # the server can serve it
        assert s.root_pem is not None, s.name
        root = x509.load_pem_x509_certificate(s.root_pem)
        pool = [*chain, root]
        for cert in chain:
            issuers = [c for c in pool if c.subject == cert.issuer]
            if s.name == "missing-intermediate":
                assert not issuers  # that is the point
                continue
            assert issuers, (s.name, cert.subject)
            # the signature really verifies with one of them (no accidental breakage)
            assert any(_verifies(cert, i) for i in issuers), (s.name, cert.subject)


def _verifies(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except Exception:
        pass
    # cryptography refuses SHA-1/MD5 in verify_directly_issued_by; check by hand
    from cryptography.hazmat.primitives.asymmetric import padding

    public = issuer.public_key()
    if not isinstance(public, rsa.RSAPublicKey) or cert.signature_hash_algorithm is None:
        return False
    try:
        public.verify(
            cert.signature,
            cert.tbs_certificate_bytes,
            padding.PKCS1v15(),
            cert.signature_hash_algorithm,
        )
        return True
    except Exception:
        return False


def test_chain_shapes(catalogue: dict[str, Scenario]) -> None:
    assert len(certs(catalogue["good-private"])) == 2
    assert len(certs(catalogue["good-private-with-root"])) == 3
    assert len(certs(catalogue["missing-intermediate"])) == 1
    order = [c.subject.rfc4514_string() for c in certs(catalogue["wrong-order"])]
    assert "Root" in order[1] and "Intermediate" in order[2]
    assert catalogue["self-signed-ca"].root_pem == catalogue["self-signed-ca"].chain_pem


def test_self_signed_ca_and_leaf(catalogue: dict[str, Scenario]) -> None:
    ca = leaf(catalogue["self-signed-ca"])
    plain = leaf(catalogue["self-signed-leaf"])
    for cert in (ca, plain):
        assert cert.subject == cert.issuer
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert plain.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_validity_boundaries_are_exact(catalogue: dict[str, Scenario]) -> None:
    assert lifetime(leaf(catalogue["good-private"])) == timedelta(days=397)
    assert lifetime(leaf(catalogue["validity-825-plus-1h"])) == timedelta(days=825, hours=1)
    assert lifetime(leaf(catalogue["validity-825-plus-1h-1s"])) == timedelta(days=825, seconds=3601)
    assert lifetime(leaf(catalogue["validity-398"])) == timedelta(days=398)
    assert lifetime(leaf(catalogue["validity-398-plus-1s"])) == timedelta(days=398, seconds=1)
    july_2019 = datetime(2019, 6, 30, 23, 0, tzinfo=UTC)
    assert leaf(catalogue["no-eku-2019-boundary"]).not_valid_before_utc == july_2019
    before = leaf(catalogue["no-eku-before-2019"]).not_valid_before_utc
    assert before == july_2019 - timedelta(seconds=1)


def test_time_scenarios_relative_to_now(catalogue: dict[str, Scenario]) -> None:
    assert leaf(catalogue["expired"]).not_valid_after_utc < NOW
    assert leaf(catalogue["not-yet-valid"]).not_valid_before_utc > NOW
    soon = leaf(catalogue["expiring-soon"]).not_valid_after_utc - NOW
    assert timedelta(0) < soon <= timedelta(days=30)
    good = leaf(catalogue["good-private"])
    assert good.not_valid_before_utc <= NOW <= good.not_valid_after_utc
    root = x509.load_pem_x509_certificate(catalogue["expired-root"].root_pem or b"")
    assert root.not_valid_after_utc < NOW


def test_signature_hashes_and_keys(catalogue: dict[str, Scenario]) -> None:
    def hash_name(cert: x509.Certificate) -> str | None:
        algorithm = cert.signature_hash_algorithm
        return algorithm.name if algorithm else None

    assert hash_name(leaf(catalogue["good-private"])) == "sha256"
    assert hash_name(leaf(catalogue["sha1-leaf"])) == "sha1"
    assert hash_name(leaf(catalogue["md5-leaf"])) == "md5"
    sha1_root = x509.load_pem_x509_certificate(catalogue["sha1-root"].root_pem or b"")
    assert hash_name(sha1_root) == "sha1"
    assert all(hash_name(c) == "sha256" for c in certs(catalogue["sha1-root"])[:2])

    def rsa_bits(cert: x509.Certificate) -> int:
        public = cert.public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        return public.key_size

    assert rsa_bits(leaf(catalogue["good-private"])) == 2048
    assert rsa_bits(leaf(catalogue["rsa1024-leaf"])) == 1024
    assert rsa_bits(leaf(catalogue["rsa512-leaf"])) == 512
    rsa1024_root = x509.load_pem_x509_certificate(catalogue["rsa1024-root"].root_pem or b"")
    assert rsa_bits(rsa1024_root) == 1024
    assert isinstance(leaf(catalogue["ed25519-leaf"]).public_key(), ed25519.Ed25519PublicKey)


def test_names_and_extensions(catalogue: dict[str, Scenario]) -> None:
    def san(s: str) -> list[str]:
        try:
            ext = leaf(catalogue[s]).extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            return []
        return [str(getattr(n, "value", n)) for n in ext.value]

    assert san("good-private") == ["mail.example.test"]
    assert san("wrong-host") == ["server17.hoster.example"]
    assert san("cn-only") == []
    assert san("san-trailing-dot") == ["mail.example.test."]
    assert san("ip-in-san") == ["127.0.0.1"]
    assert catalogue["ip-in-san"].host == "127.0.0.1"
    assert leaf(catalogue["empty-subject-noncritical-san"]).subject == x509.Name([])
    critical = leaf(catalogue["empty-subject-critical-san"]).extensions
    assert critical.get_extension_for_class(x509.SubjectAlternativeName).critical

    def eku(s: str) -> list[x509.ObjectIdentifier] | None:
        try:
            ext = leaf(catalogue[s]).extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        except x509.ExtensionNotFound:
            return None
        return list(ext.value)

    assert eku("good-private") == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert eku("no-eku-after-2019") is None
    assert eku("eku-clientauth-only") == [ExtendedKeyUsageOID.CLIENT_AUTH]
    unknown = [e for e in leaf(catalogue["unknown-critical-extension"]).extensions if e.critical]
    assert any(isinstance(e.value, x509.UnrecognizedExtension) for e in unknown)


def test_write_scenario_files_and_modes(tmp_path: Path) -> None:
    s = build_scenario("good-private", now=NOW)
    paths = write_scenario(s, tmp_path / "good")
    assert set(paths) == {"chain", "key", "root"}
    assert paths["chain"].read_bytes() == s.chain_pem
    assert paths["root"].read_bytes() == s.root_pem
    assert paths["key"].read_bytes() == s.key_pem
    assert stat.S_IMODE(paths["key"].stat().st_mode) == 0o600


def test_write_scenario_never_overwrites_without_force(tmp_path: Path) -> None:
    s = build_scenario("wrong-host", now=NOW)
    write_scenario(s, tmp_path)
    (tmp_path / "key.pem").write_bytes(b"keep me")
    with pytest.raises(ArtefactError, match="--force"):
        write_scenario(s, tmp_path)
    assert (tmp_path / "key.pem").read_bytes() == b"keep me"
    write_scenario(s, tmp_path, force=True)
    assert (tmp_path / "key.pem").read_bytes() == s.key_pem


def test_cli_build_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mailtls.commands.lab import catalogue_main

    assert catalogue_main(["list"]) == 0
    assert "good-private" in capsys.readouterr().out
    assert catalogue_main(["build", str(tmp_path), "--at", "2026-11-01"]) == 0
    assert (tmp_path / "self-signed-ca" / "chain.pem").is_file()
    assert "self-signed-ca" in (tmp_path / "PROVENANCE.md").read_text()
    assert catalogue_main(["build", str(tmp_path), "--at", "2026-11-01"]) == 3  # no --force
    assert "exists" in capsys.readouterr().err
    assert catalogue_main(["build", str(tmp_path), "--at", "yesterday"]) == 3
    assert "--at" in capsys.readouterr().err


def test_openssl_seclevel_flag_is_what_a_real_server_needs(
    catalogue: dict[str, Scenario], tmp_path: Path
) -> None:
    """Every chain loads into a real OpenSSL server context, at the level the flag says."""
    import ssl

    for s in catalogue.values():
        paths = write_scenario(s, tmp_path / s.name)
        if not s.openssl_loads:
            for ciphers in ("DEFAULT", "DEFAULT:@SECLEVEL=0"):
                refusing = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                refusing.set_ciphers(ciphers)
                with pytest.raises(ssl.SSLError):
                    refusing.load_cert_chain(paths["chain"], paths["key"])
            continue
        default = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            default.load_cert_chain(paths["chain"], paths["key"])
            loads_by_default = True
        except ssl.SSLError:
            loads_by_default = False
        assert loads_by_default == (s.openssl_seclevel is None), s.name
        lowered = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        lowered.set_ciphers("DEFAULT:@SECLEVEL=0")
        lowered.load_cert_chain(paths["chain"], paths["key"])


def test_titles_index_needs_no_build() -> None:
    assert list(scenarios.SCENARIO_TITLES) == list(SCENARIO_NAMES)
    assert (
        scenarios.SCENARIO_TITLES["good-private"] == build_scenario("good-private", now=NOW).title
    )
