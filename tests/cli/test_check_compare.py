"""mailtls check --compare BEFORE.json: before and after a fix, endpoint by endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailtls.cli import main
from mailtls.lab.servers import start_lab
from tests.service.conftest import FIXTURE_NOW, scenario

AT = FIXTURE_NOW.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_compare_shows_the_wrong_host_fixed_by_a_reissued_certificate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong, good = scenario("wrong-host"), scenario("good-private")
    assert good.root_pem is not None
    root = tmp_path / "root.pem"
    root.write_bytes(good.root_pem)
    before_file = tmp_path / "before.json"
    common = ["--address", "127.0.0.1", "--at", AT, "--no-history", "--ca-file", str(root)]
    ports = {"imaps": 0, "submission": 0}
    with start_lab(wrong.chain_pem, wrong.key_pem, schemes=tuple(ports)) as lab:
        ports = dict(lab.endpoints)
        urls = [lab.url(s, good.host) for s in ports]
        assert main(["check", *urls, *common, "--format", "json"]) == 1
        before_file.write_text(capsys.readouterr().out)
    before = json.loads(before_file.read_text())
    assert {e["verdict"] for e in before["endpoints"]} == {"prompt"}
    # the fix: the same ports now serve a certificate for the right name
    with start_lab(good.chain_pem, good.key_pem, ports=ports, schemes=tuple(ports)):
        rc = main(["check", *urls, *common, "--compare", str(before_file)])
    out = capsys.readouterr().out
    assert rc == 0
    table = out.split("Before and after:")[1]
    for url in urls:
        row = next(line for line in table.splitlines() if line.startswith(url))
        assert row.split()[2:5] == ["prompt", "trusted", "fixed"]
    assert "2 endpoint(s): 2 fixed. Every endpoint is trusted now." in table


def test_compare_goes_to_stderr_for_machine_formats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = scenario("good-private")
    before_file = tmp_path / "before.json"
    before_file.write_text(json.dumps({"endpoints": []}))
    with start_lab(good.chain_pem, good.key_pem, schemes=("imaps",)) as lab:
        url = lab.url("imaps", good.host)
        main(
            [
                "check",
                url,
                "--address",
                "127.0.0.1",
                "--at",
                AT,
                "--no-history",
                "--format",
                "json",
                "--compare",
                str(before_file),
            ]
        )
    captured = capsys.readouterr()
    json.loads(captured.out)  # stdout stays one JSON document
    assert "new" in captured.err.split("Before and after:")[1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("not json", "not JSON"),
        ('{"targets": []}', "not a 'mailtls check --format json' report"),
    ],
)
def test_a_bad_before_file_is_one_line_and_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "before.json"
    if content is not None:
        path.write_text(content)
    rc = main(["check", "imaps://mail.example.test:1", "--compare", str(path), "--no-history"])
    err = capsys.readouterr().err
    assert rc == 3
    assert message in err and len(err.strip().splitlines()) == 1
