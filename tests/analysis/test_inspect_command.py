"""``mailtls inspect`` in-process: files in, verdict out, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailtls import pki
from mailtls.cli import main
from tests.analysis.factory import Lab, ct_logged


@pytest.fixture
def files(tmp_path: Path, lab: Lab) -> dict[str, Path]:
    root = lab.root()
    paths = {
        "chain": tmp_path / "chain.pem",
        "leaf": tmp_path / "leaf.der",
        "inter": tmp_path / "inter.pem",
        "root": tmp_path / "root.pem",
        "roots": tmp_path / "system-roots.pem",
    }
    leaf, inter = lab.leaf(extra_extensions=ct_logged()), lab.inter()
    paths["chain"].write_bytes(b"junk\n" + pki.cert_to_pem(leaf) + pki.cert_to_pem(inter))
    paths["leaf"].write_bytes(pki.cert_to_der(leaf))
    paths["inter"].write_bytes(pki.cert_to_pem(inter))
    paths["root"].write_bytes(pki.cert_to_pem(root))
    paths["roots"].write_bytes(pki.cert_to_pem(root))
    return paths


AT = ["--at", "2025-03-01T12:00Z"]


def test_trusted_with_ca_file(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "inspect",
            str(files["chain"]),
            "--host",
            "mail.example.test",
            "--ca-file",
            str(files["root"]),
            *AT,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "\nTRUSTED: The iPhone trusts this certificate for mail.example.test" in out
    assert "roots on the iPhone" in out and "Path the iPhone builds (root kind USR)" in out


def test_several_files_are_concatenated_in_order(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "inspect",
            str(files["leaf"]),
            str(files["inter"]),
            str(files["root"]),
            "--host",
            "mail.example.test",
            *AT,
            "--format",
            "json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["verdict"] == "needs_profile" and data["anchor_kind"] == "NONE"
    assert [c["index"] for c in data["chain"]] == [0, 1, 2]
    assert data["chain"][0]["san"] == ["DNS:mail.example.test"]
    assert {"chain", "findings", "verdict", "path", "summary", "user_sees", "trust_store"} <= set(
        data
    )
    assert any(
        f["rule_id"] == "chain_anchor_required" and f["check_key"] == "AnchorTrusted"
        for f in data["findings"]
    )
    assert data["evaluated_at"] == "2025-03-01T12:00:00Z"


def test_system_roots_replace_certifi(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "inspect",
            str(files["chain"]),
            "--host",
            "mail.example.test",
            "--system-roots",
            str(files["roots"]),
            *AT,
            "--format",
            "json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["anchor_kind"] == "SYS" and str(files["roots"]) in data["trust_store"]
    assert data["verdict"] == "trusted"  # the leaf embeds SCTs from 4 logs


def test_system_roots_require_certificate_transparency(
    tmp_path: Path, lab: Lab, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A private chain judged with --system-roots has no SCTs: the iPhone would refuse it."""
    chain = tmp_path / "no-scts.pem"
    chain.write_bytes(pki.cert_to_pem(lab.leaf()) + pki.cert_to_pem(lab.inter()))
    code = main(
        [
            "inspect",
            str(chain),
            "--host",
            "mail.example.test",
            "--system-roots",
            str(files["roots"]),
            *AT,
            "--format",
            "json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["verdict"] == "prompt"
    failing = [f for f in data["findings"] if f["severity"] in ("error", "fatal")]
    assert [(f["rule_id"], f["check_key"]) for f in failing] == [
        ("ct_required_system", "SystemTrustedCTRequired")
    ]
    assert "--ca-file" in failing[0]["fix"]


def test_wrong_host_prompts(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "inspect",
            str(files["chain"]),
            "--host",
            "imap.example.test",
            "--ca-file",
            str(files["root"]),
            *AT,
        ]
    )
    out = capsys.readouterr().out
    assert (
        code == 1
        and "PROMPT:" in out
        and "[hostname_match, SSLHostname, recoverable, certificate 0]" in out
    )


def test_missing_host_says_the_name_check_was_skipped(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["inspect", str(files["chain"]), "--ca-file", str(files["root"]), *AT])
    out = capsys.readouterr().out
    assert code == 0 and "name check was skipped" in out


def test_at_in_the_future_shows_expiry(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "inspect",
            str(files["chain"]),
            "--host",
            "mail.example.test",
            "--ca-file",
            str(files["root"]),
            "--at",
            "2026-03-01",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1 and "expired on 2026-02-02" in out


def test_ios_version_changes_the_rules(
    tmp_path: Path, lab: Lab, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    cn_only = tmp_path / "cn-only.pem"
    cn_only.write_bytes(
        pki.cert_to_pem(lab.leaf(cn="mail.example.test", san=None)) + pki.cert_to_pem(lab.inter())
    )
    args = [
        "inspect",
        str(cn_only),
        "--host",
        "mail.example.test",
        "--ca-file",
        str(files["root"]),
        *AT,
    ]
    assert main(args) == 1
    assert main([*args, "--ios", "12"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--at", "yesterday"], "--at 'yesterday'"),
        (["--ios", "banana"], "not an iOS version"),
        (["--ca-file", "/nonexistent/root.pem"], "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_3(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code = main(["inspect", str(files["chain"]), *extra])
    err = capsys.readouterr().err
    assert code == 3 and message in err and len(err.strip().splitlines()) == 1


def test_key_file_instead_of_chain(
    tmp_path: Path, lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "server.key"
    key.write_bytes(pki.key_to_pem(lab.keys.leaf))
    assert main(["inspect", str(key)]) == 3
    assert str(key) in capsys.readouterr().err


def test_json_chain_and_findings_follow_the_check_report_schema(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """inspect's chain/findings/verdict are the same shapes as an endpoint of `check`."""
    jsonschema = pytest.importorskip("jsonschema")
    schema_path = (
        Path(__file__).resolve().parents[2] / "docs" / "schema" / "check-report.schema.json"
    )
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    main(
        [
            "inspect",
            str(files["leaf"]),
            str(files["inter"]),
            str(files["root"]),
            "--host",
            "mail.example.test",
            *AT,
            "--format",
            "json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    defs = schema["$defs"]
    verdict_schema = defs["endpoint"]["properties"]["verdict"]
    for name, items in (("certificate", data["chain"]), ("finding", data["findings"])):
        for item in items:
            jsonschema.validate(item, {**defs[name], "$defs": defs})
    jsonschema.validate(data["verdict"], {**verdict_schema, "$defs": defs})
