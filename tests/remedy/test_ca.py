"""mailtls.remedy.ca: a root iOS will list for full trust, server certificates it trusts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from mailtls import pki
from mailtls.errors import ArtefactError, InputFileError, UsageError
from mailtls.remedy import ca, files
from mailtls.remedy.profile import check_root_installable

from .helpers import NOW


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("ca") / "ca"
    ca.init_ca(directory, cn="Example Mail Root", org="Example Org", key_type="ec", now=NOW)
    return directory


def _load(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def test_ca_files_and_root_properties(ca_dir: Path) -> None:
    paths = ca.ca_paths(ca_dir)
    assert files.file_mode(paths.key) == 0o600
    assert files.file_mode(ca_dir) == 0o700
    [root] = _load(paths.cert)
    bc = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = root.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    assert root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert root.signature_hash_algorithm is not None
    assert root.signature_hash_algorithm.name == "sha256"
    assert isinstance(root.public_key(), ec.EllipticCurvePublicKey)
    assert check_root_installable(pki.cert_to_der(root), at=NOW) == []


def test_rsa_ca_is_3072_bits(tmp_path: Path) -> None:
    paths = ca.init_ca(tmp_path / "rsa", cn="R", now=NOW)
    key = _load(paths.cert)[0].public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 3072


def test_init_refuses_to_overwrite_without_force(ca_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ca"
    ca.init_ca(copy, cn="One", key_type="ec", now=NOW)
    before = (copy / "ca.pem").read_bytes()
    with pytest.raises(ArtefactError, match="exists; use --force"):
        ca.init_ca(copy, cn="Two", key_type="ec", now=NOW)
    assert (copy / "ca.pem").read_bytes() == before
    ca.init_ca(copy, cn="Two", key_type="ec", now=NOW, force=True)
    assert (copy / "ca.pem").read_bytes() != before
    assert files.file_mode(copy / "ca.key") == 0o600


def test_issue_writes_key_leaf_and_fullchain(ca_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "server"
    paths = ca.issue_server_cert(
        ca_dir,
        ["mail.example.test", "smtp.example.test", "127.0.0.1", "*.example.test"],
        out_directory=out,
        key_type="ec",
        now=NOW,
        verify=False,
    )
    assert files.file_mode(paths.key) == 0o600
    [leaf] = _load(paths.cert)
    chain = _load(paths.fullchain)
    root = _load(ca_dir / "ca.pem")[0]
    assert [c.fingerprint(hashes.SHA256()) for c in chain] == [
        leaf.fingerprint(hashes.SHA256()),
        root.fingerprint(hashes.SHA256()),
    ]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [
        "mail.example.test",
        "smtp.example.test",
        "*.example.test",
    ]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == timedelta(days=397)
    assert leaf.not_valid_before_utc <= NOW
    leaf.verify_directly_issued_by(root)


def test_issue_without_root_in_fullchain(ca_dir: Path, tmp_path: Path) -> None:
    paths = ca.issue_server_cert(
        ca_dir,
        ["mail.example.test"],
        out_directory=tmp_path,
        key_type="ec",
        now=NOW,
        root_in_fullchain=False,
        verify=False,
    )
    assert len(_load(paths.fullchain)) == 1


@pytest.mark.parametrize("days", [0, 826, 3650])
def test_lifetime_over_825_days_is_refused(ca_dir: Path, tmp_path: Path, days: int) -> None:
    with pytest.raises(UsageError, match="1 to 825 days"):
        ca.issue_server_cert(ca_dir, ["m.example.test"], out_directory=tmp_path, days=days, now=NOW)
    assert not list(tmp_path.iterdir())


def test_825_days_is_allowed(ca_dir: Path, tmp_path: Path) -> None:
    paths = ca.issue_server_cert(
        ca_dir,
        ["m.example.test"],
        out_directory=tmp_path,
        days=825,
        key_type="ec",
        now=NOW,
        verify=False,
    )
    [leaf] = _load(paths.cert)
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == timedelta(days=825)


def test_leaf_may_not_outlive_the_ca(tmp_path: Path) -> None:
    short = ca.init_ca(tmp_path / "short", cn="Short", key_type="ec", days=30, now=NOW)
    with pytest.raises(ArtefactError, match="the CA expires on"):
        ca.issue_server_cert(
            short.directory, ["m.example.test"], out_directory=tmp_path / "o", now=NOW
        )


def test_issue_refuses_overwrite_and_keeps_old_files(ca_dir: Path, tmp_path: Path) -> None:
    first = ca.issue_server_cert(
        ca_dir, ["m.example.test"], out_directory=tmp_path, key_type="ec", now=NOW, verify=False
    )
    key_before = first.key.read_bytes()
    with pytest.raises(ArtefactError, match=r"server\.key exists"):
        ca.issue_server_cert(
            ca_dir, ["m.example.test"], out_directory=tmp_path, key_type="ec", now=NOW
        )
    assert first.key.read_bytes() == key_before
    ca.issue_server_cert(
        ca_dir,
        ["m.example.test"],
        out_directory=tmp_path,
        key_type="ec",
        now=NOW,
        force=True,
        verify=False,
    )
    assert first.key.read_bytes() != key_before
    assert files.file_mode(first.key) == 0o600


def test_missing_or_mismatched_ca_is_a_clear_error(ca_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="mailtls ca init"):
        ca.issue_server_cert(
            tmp_path / "nothing", ["m.example.test"], out_directory=tmp_path, now=NOW
        )
    other = ca.init_ca(tmp_path / "other", cn="Other", key_type="ec", now=NOW)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "ca.pem").write_bytes((ca_dir / "ca.pem").read_bytes())
    (mixed / "ca.key").write_bytes(other.key.read_bytes())
    with pytest.raises(InputFileError, match="does not belong"):
        ca.issue_server_cert(mixed, ["m.example.test"], out_directory=tmp_path / "o", now=NOW)


def test_bad_names_are_refused_before_anything_is_written(ca_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="whole left-most label"):
        ca.issue_server_cert(
            ca_dir, ["ok.example.test", "m*.example.test"], out_directory=tmp_path, now=NOW
        )
    assert not list(tmp_path.iterdir())


@pytest.mark.usefixtures("engine")
def test_issued_chain_is_trusted_by_the_engine_for_every_name(ca_dir: Path, tmp_path: Path) -> None:
    from mailtls.model import Verdict
    from mailtls.remedy.verify import analyze_under_private_root

    names = ["mail.example.test", "127.0.0.1", "*.example.test"]
    paths = ca.issue_server_cert(ca_dir, names, out_directory=tmp_path, key_type="ec", now=NOW)
    chain = [pki.cert_to_der(c) for c in _load(paths.fullchain)]
    for host in ["mail.example.test", "127.0.0.1", "imap.example.test"]:
        analysis = analyze_under_private_root(chain, host, ca_dir / "ca.pem", at=NOW)
        assert analysis.verdict is Verdict.TRUSTED, (host, analysis.findings)
    # negative twin: a name not in the certificate is not trusted
    wrong = analyze_under_private_root(chain, "other.example.org", ca_dir / "ca.pem", at=NOW)
    assert wrong.verdict is not Verdict.TRUSTED


@pytest.mark.usefixtures("engine")
def test_require_trusted_refuses_a_chain_the_engine_does_not_trust(
    ca_dir: Path, tmp_path: Path
) -> None:
    from mailtls.remedy.verify import require_trusted

    paths = ca.issue_server_cert(
        ca_dir, ["mail.example.test"], out_directory=tmp_path, key_type="ec", now=NOW
    )
    chain = [pki.cert_to_der(c) for c in _load(paths.fullchain)]
    require_trusted(chain, ["mail.example.test"], ca_dir / "ca.pem", at=NOW)
    with pytest.raises(
        ArtefactError,
        match=r"not trusted for smtp\.example\.test .*ios13_san_only|not trusted for smtp",
    ):
        require_trusted(chain, ["smtp.example.test"], ca_dir / "ca.pem", at=NOW)
    with pytest.raises(ArtefactError, match="not trusted"):  # expired by then
        require_trusted(
            chain, ["mail.example.test"], ca_dir / "ca.pem", at=NOW + timedelta(days=400)
        )
