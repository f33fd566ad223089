"""mailtls.remedy.snippets: full chain + TLS 1.2 floor; the files are checked before deploy."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from mailtls import pki
from mailtls.cli import main
from mailtls.errors import InputFileError, UsageError
from mailtls.remedy.snippets import (
    FULL_CHAIN_WARNING,
    inspect_deployment,
    render_snippets,
    snippet,
    snippets,
)

from .helpers import NOW


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """root -> intermediate -> leaf, written as the files a CA would hand out."""
    directory = tmp_path_factory.mktemp("chain")
    window = {"not_before": NOW - timedelta(days=1), "not_after": NOW + timedelta(days=90)}
    root_key, inter_key, leaf_key = (pki.generate_key("ec", 256) for _ in range(3))
    root = pki.issue(pki.ca_spec("Root"), root_key, **window)
    inter = pki.issue(
        pki.ca_spec("Intermediate"), inter_key, issuer_cert=root, issuer_key=root_key, **window
    )
    leaf = pki.issue(
        pki.leaf_spec("mail.example.test"),
        leaf_key,
        issuer_cert=inter,
        issuer_key=inter_key,
        **window,
    )
    paths = {
        "cert": directory / "cert.pem",
        "fullchain": directory / "fullchain.pem",
        "reversed": directory / "reversed.pem",
        "key": directory / "privkey.pem",
        "other_key": directory / "other.pem",
        "root": directory / "root.pem",
    }
    paths["cert"].write_bytes(pki.cert_to_pem(leaf))
    paths["fullchain"].write_bytes(pki.cert_to_pem(leaf) + pki.cert_to_pem(inter))
    paths["reversed"].write_bytes(pki.cert_to_pem(inter) + pki.cert_to_pem(leaf))
    paths["key"].write_bytes(pki.key_to_pem(leaf_key))
    paths["key"].chmod(0o600)
    paths["other_key"].write_bytes(pki.key_to_pem(inter_key))
    paths["other_key"].chmod(0o600)
    paths["root"].write_bytes(pki.cert_to_pem(root))
    return paths


@pytest.mark.parametrize("server", ["dovecot", "postfix", "exim"])
def test_every_snippet_points_at_the_chain_and_sets_the_tls12_floor(
    server: str, tmp_path: Path
) -> None:
    item = snippet(server, tmp_path / "fullchain.pem", tmp_path / "privkey.pem")
    assert str(tmp_path / "fullchain.pem") in item.text
    assert str(tmp_path / "privkey.pem") in item.text
    assert "TLSv1.2" in item.text or "no_tlsv1_1" in item.text
    assert "TLS1.2" in item.text or server != "exim"


def test_render_calls_out_the_full_chain() -> None:
    text = render_snippets(snippets(["all"], "/etc/ssl/fullchain.pem", "/etc/ssl/key.pem"))
    assert text.startswith(FULL_CHAIN_WARNING)
    assert "never the certificate alone" in text
    assert text.count("## ") == 3


def test_unknown_server_and_unsafe_paths_are_refused() -> None:
    with pytest.raises(UsageError, match="unknown server"):
        snippet("sendmail", "/a", "/b")
    with pytest.raises(UsageError, match="spaces, commas"):
        snippet("postfix", "/etc/my certs/full.pem", "/b")


def test_full_chain_passes(chain: dict[str, Path]) -> None:
    check = inspect_deployment(chain["fullchain"], chain["key"])
    assert check.ok, check.problems
    assert check.certificates == 2


def test_leaf_without_intermediate_is_the_called_out_problem(chain: dict[str, Path]) -> None:
    check = inspect_deployment(chain["cert"], chain["key"])
    assert not check.ok
    assert "without the intermediate" in check.problems[0]


def test_leaf_issued_directly_by_a_given_root_needs_no_intermediate(tmp_path: Path) -> None:
    root_key, leaf_key = pki.generate_key("ec", 256), pki.generate_key("ec", 256)
    root = pki.issue(
        pki.ca_spec("Root"), root_key, not_before=NOW, not_after=NOW + timedelta(days=9)
    )
    leaf = pki.issue(pki.leaf_spec("m.example.test"), leaf_key, issuer_cert=root, issuer_key=root_key,
                     not_before=NOW, not_after=NOW + timedelta(days=9))  # fmt: skip
    (tmp_path / "leaf.pem").write_bytes(pki.cert_to_pem(leaf))
    assert not inspect_deployment(tmp_path / "leaf.pem").ok
    assert inspect_deployment(tmp_path / "leaf.pem", roots=[pki.cert_to_der(root)]).ok


def test_wrong_order_and_wrong_key(chain: dict[str, Path]) -> None:
    problems = " ".join(inspect_deployment(chain["reversed"], chain["key"]).problems)
    assert "put the server certificate first" in problems
    assert "is not the key" in problems
    assert "is not the key" in " ".join(
        inspect_deployment(chain["fullchain"], chain["other_key"]).problems
    )


def test_unreadable_files_are_one_line_errors(chain: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        inspect_deployment(tmp_path / "missing.pem")
    with pytest.raises(InputFileError, match="not an unencrypted PEM private key"):
        inspect_deployment(chain["fullchain"], chain["fullchain"])
    (tmp_path / "empty.pem").write_text("nothing here")
    with pytest.raises(InputFileError, match="no PEM certificates"):
        inspect_deployment(tmp_path / "empty.pem")


def test_deploy_command_exit_codes(
    chain: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # the root is installed on the iPhone (--ca-file): the chain is trusted at NOW
    trusted = ["deploy", "--cert", str(chain["fullchain"]), "--key", str(chain["key"]),
               "--ca-file", str(chain["root"]), "--at", NOW.isoformat()]  # fmt: skip
    assert main(trusted) == 0
    out = capsys.readouterr().out
    assert "smtpd_tls_chain_files" in out and "ssl_cert = <" in out and "tls_certificate" in out
    assert (
        main(
            [
                "deploy",
                "--cert",
                str(chain["cert"]),
                "--key",
                str(chain["key"]),
                "--server",
                "postfix",
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "PROBLEM:" in out and "without the intermediate" in out
    assert "ssl_cert" not in out


@pytest.mark.skipif(shutil.which("doveconf") is None, reason="Dovecot is not installed")
def test_dovecot_accepts_the_snippet(chain: dict[str, Path], tmp_path: Path) -> None:
    config = tmp_path / "dovecot.conf"
    config.write_text(
        snippet("dovecot", chain["fullchain"], chain["key"]).text
        + f"protocols = imap\nbase_dir = {tmp_path}/run\nlog_path = /dev/stderr\n"
    )

    def setting(name: str) -> str:
        result = subprocess.run(
            ["doveconf", "-c", str(config), "-h", name], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert setting("ssl_min_protocol") == "TLSv1.2"
    assert setting("ssl_cert") == f"<{chain['fullchain']}"


@pytest.mark.skipif(shutil.which("postconf") is None, reason="Postfix is not installed")
def test_postfix_knows_every_parameter_of_the_snippet(
    chain: dict[str, Path], tmp_path: Path
) -> None:
    text = snippet("postfix", chain["fullchain"], chain["key"]).text
    names = [
        line.split("=", 1)[0].strip()
        for line in text.splitlines()
        if line and not line.startswith("#") and "=" in line
    ]
    assert "smtpd_tls_chain_files" in names and "smtpd_tls_mandatory_protocols" in names
    result = subprocess.run(["postconf", "-d", *names], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "unknown parameter" not in result.stderr, result.stderr
    (tmp_path / "main.cf").write_text(text)
    (tmp_path / "master.cf").write_text("")
    result = subprocess.run(
        ["postconf", "-c", str(tmp_path), "-h", "smtpd_tls_chain_files"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout.strip() == f"{chain['key']}, {chain['fullchain']}"
