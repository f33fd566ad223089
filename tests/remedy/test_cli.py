"""The remedy commands, run in-process through mailtls.cli.main."""

from __future__ import annotations

import json
import plistlib
from pathlib import Path

import pytest
from cryptography import x509

from mailtls import pki
from mailtls.cli import main
from mailtls.exitcodes import ExitCode
from mailtls.remedy import files


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli") / "ca"
    assert main(["ca", "init", str(directory), "--cn", "Example Mail Root", "--ec"]) == 0
    return directory


def test_ca_init_writes_0600_key_and_refuses_a_second_time(
    ca_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert files.file_mode(ca_dir / "ca.key") == 0o600
    before = (ca_dir / "ca.pem").read_bytes()
    capsys.readouterr()
    assert main(["ca", "init", str(ca_dir), "--cn", "Other", "--ec"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "exists; use --force to replace it" in err
    assert err.count("\n") == 1
    assert (ca_dir / "ca.pem").read_bytes() == before


def test_profile_command_writes_a_profile_and_prints_the_iphone_steps(
    ca_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "root.mobileconfig"
    code = main(
        [
            "profile", str(ca_dir / "ca.pem"), "-o", str(target), "--name", "Example Mail",
            "--account-imap", "mail.example.test", "--account-smtp", "mail.example.test:465",
            "--user", "alice", "--email", "alice@example.test",
        ]
    )  # fmt: skip
    assert code == ExitCode.OK
    out = capsys.readouterr().out
    assert "Certificate Trust Settings" in out
    assert "Profile Downloaded" in out
    assert f"mailtls check mail.example.test --ca-file {ca_dir / 'ca.pem'}" in out
    profile = plistlib.loads(target.read_bytes())
    assert profile["PayloadDisplayName"] == "Example Mail"
    root, mail = profile["PayloadContent"]
    pem_root = x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes())
    assert root["PayloadContent"] == pki.cert_to_der(pem_root)
    assert mail["OutgoingMailServerPortNumber"] == 465
    # the same command again refuses, and --force gives identical bytes
    before = target.read_bytes()
    assert main(["profile", str(ca_dir / "ca.pem"), "-o", str(target), "--name", "X"]) == 3
    assert main(
        [
            "profile", str(ca_dir / "ca.pem"), "-o", str(target), "--name", "Example Mail",
            "--account-imap", "mail.example.test", "--account-smtp", "mail.example.test:465",
            "--user", "alice", "--email", "alice@example.test", "--force",
        ]
    ) == 0  # fmt: skip
    assert target.read_bytes() == before


def test_profile_refuses_a_leaf_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from .helpers import NOW

    leaf = pki.issue(
        pki.leaf_spec("mail.example.test"),
        pki.generate_key("ec", 256),
        not_before=NOW,
        not_after=NOW.replace(year=2100),
    )
    path = tmp_path / "leaf.pem"
    path.write_bytes(pki.cert_to_pem(leaf))
    assert main(["profile", str(path), "-o", str(tmp_path / "p.mobileconfig")]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "not a CA certificate" in err
    assert not (tmp_path / "p.mobileconfig").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--account-imap", "mail.example.test"], "needs both"),
        (["--account-smtp", "mail.example.test"], "needs both"),
        (["--account-imap", "m.example.test", "--account-pop3", "m.example.test"], "not allowed"),
        (["--account-imap", "m.example.test:99999", "--account-smtp", "m"], "port must be"),
    ],
)
def test_profile_account_errors(
    ca_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code = main(["profile", str(ca_dir / "ca.pem"), "-o", str(tmp_path / "p.mobileconfig"), *extra])
    assert code == ExitCode.USAGE
    assert message in capsys.readouterr().err


def test_ca_issue_needs_names(
    ca_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ca", "issue", "--ca-dir", str(ca_dir), "--out", str(tmp_path / "o")]) == 3
    assert "give the host names" in capsys.readouterr().err


def test_ca_issue_refuses_more_than_825_days(
    ca_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "ca",
            "issue",
            "m.example.test",
            "--ca-dir",
            str(ca_dir),
            "--out",
            str(tmp_path / "o"),
            "--days",
            "826",
        ]
    )
    assert code == 3
    assert "1 to 825 days" in capsys.readouterr().err


def test_ca_issue_names_from_a_bad_report(
    ca_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r.json"
    report.write_text("{not json")
    code = main(["ca", "issue", "--names-from", str(report), "--ca-dir", str(ca_dir)])
    assert code == 3
    assert "not a JSON report" in capsys.readouterr().err


@pytest.mark.usefixtures("engine")
def test_ca_issue_with_names_from_a_report(
    ca_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r.json"
    report.write_text(
        json.dumps(
            {
                "endpoints": [
                    {"scheme": "imaps", "host": "imap.example.test", "port": 993, "status": "ok"},
                    {
                        "scheme": "submission",
                        "host": "smtp.example.test",
                        "port": 587,
                        "status": "ok",
                    },
                    {
                        "scheme": "imaps",
                        "host": "mail.example.test",
                        "port": 993,
                        "status": "timeout",
                    },
                    {
                        "scheme": "imaps",
                        "host": "pop.example.test",
                        "port": 993,
                        "status": "dns_error",
                    },
                ],
            }
        )
    )
    out_dir = tmp_path / "server"
    code = main(
        [
            "ca",
            "issue",
            "--names-from",
            str(report),
            "--ca-dir",
            str(ca_dir),
            "--out",
            str(out_dir),
            "--ec",
        ]
    )
    assert code == 0, capsys.readouterr().err
    leaf = x509.load_pem_x509_certificate((out_dir / "server.pem").read_bytes())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [
        "imap.example.test",
        "smtp.example.test",
        "mail.example.test",
    ]
    assert files.file_mode(out_dir / "server.key") == 0o600
    assert "mailtls deploy --cert" in capsys.readouterr().out


@pytest.mark.usefixtures("engine")
def test_profile_checks_the_server_certificate_for_the_account_hosts(
    ca_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mailtls.remedy.ca import issue_server_cert

    server = issue_server_cert(
        ca_dir, ["mail.example.test"], out_directory=tmp_path / "s", key_type="ec"
    )
    base = ["profile", str(ca_dir / "ca.pem"), "--server-cert", str(server.fullchain)]
    good = [*base, "-o", str(tmp_path / "good.mobileconfig"), "--account-imap", "mail.example.test",
            "--account-smtp", "mail.example.test"]  # fmt: skip
    assert main(good) == 0
    assert "is trusted for mail.example.test" in capsys.readouterr().err
    bad = [*base, "-o", str(tmp_path / "bad.mobileconfig"), "--account-imap", "mail.example.test",
           "--account-smtp", "smtp.example.test"]  # fmt: skip
    assert main(bad) == ExitCode.USAGE
    assert "not trusted for smtp.example.test" in capsys.readouterr().err
    assert not (tmp_path / "bad.mobileconfig").exists()


@pytest.mark.usefixtures("engine")
def test_ca_issue_reads_the_report_from_stdin(
    ca_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    report = {"endpoints": [{"host": "imap.example.test", "status": "ok"}]}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(report)))
    out_dir = tmp_path / "piped"
    assert (
        main(
            [
                "ca",
                "issue",
                "--names-from",
                "-",
                "--ca-dir",
                str(ca_dir),
                "--out",
                str(out_dir),
                "--ec",
            ]
        )
        == 0
    )
    assert "Issued for: imap.example.test" in capsys.readouterr().out
