"""mailtls.remedy.csr: key + CSR with every SAN; ACME commands stress the full chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mailtls.cli import main
from mailtls.errors import ArtefactError, UsageError
from mailtls.remedy import files
from mailtls.remedy.csr import acme_commands, csr_names, make_csr, render_acme_text


def _spki(key_or_cert: object) -> bytes:
    public = key_or_cert.public_key()  # type: ignore[attr-defined]
    return bytes(
        public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def test_csr_has_every_name_and_matches_its_key(tmp_path: Path) -> None:
    names = ["mail.example.com", "smtp.example.com", "*.example.com", "192.0.2.7"]
    paths = make_csr(names, out_directory=tmp_path / "out", key_type="ec")
    assert files.file_mode(paths.key) == 0o600
    csr = x509.load_pem_x509_csr(paths.csr.read_bytes())
    key = serialization.load_pem_private_key(paths.key.read_bytes(), password=None)
    assert csr.is_signature_valid
    assert sorted(csr_names(csr)) == sorted(names)
    assert _spki(csr) == _spki(key)
    assert paths.warnings and "192.0.2.7" in paths.warnings[0]


def test_csr_refuses_overwrite_and_bad_names(tmp_path: Path) -> None:
    make_csr(["mail.example.com"], out_directory=tmp_path, key_type="ec")
    before = (tmp_path / "server.key").read_bytes()
    with pytest.raises(ArtefactError, match="exists; use --force"):
        make_csr(["mail.example.com"], out_directory=tmp_path, key_type="ec")
    assert (tmp_path / "server.key").read_bytes() == before
    make_csr(["mail.example.com"], out_directory=tmp_path, key_type="ec", force=True)
    assert (tmp_path / "server.key").read_bytes() != before
    with pytest.raises(UsageError, match="empty label"):
        make_csr(["mail..example.com"], out_directory=tmp_path / "x", key_type="ec")
    assert not (tmp_path / "x").exists()


def test_acme_commands_fill_in_every_dns_name() -> None:
    commands = acme_commands(["mail.example.com", "smtp.example.com", "192.0.2.7"])
    text = " ".join(c.command for c in commands)
    assert "certbot certonly --csr server/server.csr" in text
    assert "-d mail.example.com -d smtp.example.com" in text
    assert "acme.sh --issue" in text and "--fullchain-file server/fullchain.pem" in text
    assert "-d 192.0.2.7" not in text


def test_guide_text_stresses_the_full_chain() -> None:
    text = render_acme_text(["mail.example.com"], csr_path="c.csr", key_path="k", out_directory="o")
    assert "FULL chain" in text and "fullchain.pem" in text and "never cert.pem alone" in text


def test_csr_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    assert main(["csr", "mail.example.com", "imap.example.com", "--out", str(out), "--ec"]) == 0
    printed = capsys.readouterr().out
    assert "certbot certonly" in printed and "acme.sh" in printed
    csr = x509.load_pem_x509_csr((out / "server.csr").read_bytes())
    assert csr_names(csr) == ("mail.example.com", "imap.example.com")
    assert main(["csr", "mail.example.com", "--out", str(out), "--ec"]) == 3
    assert "exists" in capsys.readouterr().err
