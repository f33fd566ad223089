"""mailtls check: target files, shards, and bad input (one line, exit 3, no traceback)."""

from __future__ import annotations

import io
import json
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailtls.cli import main
from mailtls.commands.check import in_shard, read_target_file, select_shard
from mailtls.errors import InputFileError, UsageError
from mailtls.moments import parse_moment


def test_target_file_comments_blank_lines_and_bom(tmp_path: Path) -> None:
    f = tmp_path / "targets.txt"
    f.write_text(
        "\ufeff# customers\n\nmail.example.com\n  imaps://a.example  # the new one\n"
        "#user@x.example\nuser@b.example\t# note\n",
        encoding="utf-8",
    )
    assert read_target_file(str(f)) == ["mail.example.com", "imaps://a.example", "user@b.example"]


def test_target_file_from_stdin() -> None:
    assert read_target_file("-", io.StringIO("a.example\n# x\nb.example\n")) == [
        "a.example",
        "b.example",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), (b"\x00\x01ELF", "binary"), (b"\xff\xfe\xfa", "not UTF-8")],
)
def test_bad_target_files(tmp_path: Path, content: bytes | None, message: str) -> None:
    f = tmp_path / "t.txt"
    if content is not None:
        f.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        read_target_file(str(f))


def test_shards_are_deterministic_disjoint_and_complete() -> None:
    targets = [f"host{i}.example" for i in range(300)]
    shards = [select_shard(targets, f"{k}/4") for k in range(1, 5)]
    assert sorted(t for s in shards for t in s) == sorted(targets)
    assert sum(len(s) for s in shards) == len(targets)
    assert all(40 < len(s) < 110 for s in shards)  # a fair share, not all in one
    assert shards == [select_shard(targets, f"{k}/4") for k in range(1, 5)]
    # fixed values: sha256-based, so the same on every machine and Python version
    assert [in_shard("mail.example.com", k, 3) for k in (1, 2, 3)].count(True) == 1
    assert select_shard(targets, "1/1") == targets


@pytest.mark.parametrize("text", ["0/4", "5/4", "a/b", "1-4", "1/0"])
def test_bad_shard(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        select_shard(["x"], text)


def test_parse_at() -> None:
    assert parse_moment("2027-03-01") == datetime(2027, 3, 1, tzinfo=UTC)
    assert parse_moment("2027-03-01T12:00Z") == datetime(2027, 3, 1, 12, tzinfo=UTC)
    assert parse_moment("2027-03-01T14:00+02:00") == datetime(2027, 3, 1, 12, tzinfo=UTC)
    with pytest.raises(UsageError, match="--at 'next week'"):
        parse_moment("next week")


_BAD_AT = (
    "--at 'next week': not a date or time (use ISO 8601, e.g. 2027-03-01 or 2027-03-01T12:00Z)"
)


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--no-history", "--at", "next week", "mail.example.com"],
        ["inspect", "--at", "next week", "FILE"],
        ["lab", "--scenario", "good", "--at", "next week"],
    ],
)
def test_every_at_says_the_same_about_a_bad_date(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """check, inspect and lab share one --at parser (mailtls.moments) and its wording."""
    if "FILE" in argv:
        leaf = Path(__file__).parents[2] / "fixtures" / "aki-mismatch" / "chain.pem"
        argv = [str(leaf) if a == "FILE" else a for a in argv]
    assert main(argv) == 3
    assert _BAD_AT in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "--no-history"], "no targets"),
        (
            ["check", "--no-history", "--address", "not-an-ip", "mail.example.com"],
            "--address 'not-an-ip'",
        ),
        (["check", "--no-history", "--timeout", "0", "mail.example.com"], "--timeout"),
        (["check", "--no-history", "--concurrency", "0", "mail.example.com"], "--concurrency"),
        (["check", "--no-history", "--at", "tomorrow", "mail.example.com"], "--at 'tomorrow'"),
        (
            ["check", "--no-history", "--nameserver", "dns.example", "mail.example.com"],
            "--nameserver",
        ),
        (
            ["check", "--no-history", "--ca-file", "/nonexistent/root.pem", "mail.example.com"],
            "no such file",
        ),
        (["check", "--no-history", "--format", "xml", "mail.example.com"], "invalid choice"),
        (["check", "--no-history", "-f", "/nonexistent/list.txt"], "no such file"),
        (["check", "--no-history", "--shard", "9/4", "mail.example.com"], "--shard"),
        (["check", "--no-history", "--ios", "banana", "imaps://127.0.0.1:1"], "--ios"),
        (["check", "--no-history", "--ehlo", "x\r\nQUIT", "smtp://127.0.0.1:1"], "--ehlo"),
        (["check", "--no-history", "--ehlo", "exämple.com", "smtp://127.0.0.1:1"], "--ehlo"),
        (["check", "--history", "x", "--no-history", "mail.example.com"], "not allowed with"),
    ],
)
def test_bad_input_is_one_line_and_exit_3(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 3
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert message in lines[0]
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_only_bad_targets_exit_3_with_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        ["check", "--no-history", "--format", "json", "imapx://mail.example.com", "bad host!"]
    )
    captured = capsys.readouterr()
    assert rc == 3
    errors = captured.err.strip().splitlines()
    assert len(errors) == 2
    assert "imapx" in errors[0] and "unknown scheme" in errors[0]
    assert "Traceback" not in captured.err


def test_empty_shard_is_not_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = next(t for t in (f"h{i}.example" for i in range(50)) if not in_shard(t, 1, 2))
    assert main(["check", "--no-history", "--shard", "1/2", target]) == 0
    assert capsys.readouterr().out == ""


def test_targets_may_follow_options(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "check",
            "imaps://127.0.0.1:1",
            "--no-history",
            "--format",
            "json",
            "--timeout",
            "1",
            "pop3s://127.0.0.1:1",
        ]
    )
    document = json.loads(capsys.readouterr().out)
    assert rc == 2
    assert [e["url"] for e in document["endpoints"]] == [
        "imaps://127.0.0.1:1",
        "pop3s://127.0.0.1:1",
    ]


@pytest.mark.parametrize("flag", ["--ca-file", "--system-roots"])
def test_a_root_file_that_is_not_a_certificate(
    flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "root.pem"
    bad.write_text("this is not a certificate\n")
    assert main(["check", "--no-history", flag, str(bad), "imaps://127.0.0.1:1"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and str(bad) in captured.err


def test_a_bad_root_file_stops_the_check_at_once_while_a_probe_waits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The stores load beside the probes (issue 8): a bad root file must still end the check
    # with one line right away, not after a silent server's greeting timeout.
    bad = tmp_path / "root.pem"
    bad.write_text("this is not a certificate\n")
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never greets
        port = silent.getsockname()[1]
        started = time.monotonic()
        rc = main(
            [
                "check",
                "--no-history",
                "--timeout",
                "8",
                "--ca-file",
                str(bad),
                f"imap://127.0.0.1:{port}",
            ]
        )
        elapsed = time.monotonic() - started
    captured = capsys.readouterr()
    assert rc == 3 and captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and str(bad) in captured.err
    assert elapsed < 4, f"the bad root file was reported only after {elapsed:.1f} s"


@pytest.mark.parametrize(
    "name", ["client.example.com", "localhost", "[192.0.2.1]", "[IPv6:2001:db8::1]"]
)
def test_good_ehlo_names_are_accepted(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check", "--no-history", "--timeout", "1", "--ehlo", name, "smtp://127.0.0.1:1"]
    assert main(args) == 2  # checked (refused), not rejected
    assert "--ehlo" not in capsys.readouterr().err


def test_targets_from_stdin_and_files_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = tmp_path / "more.txt"
    listed.write_text("# more\npop3s://127.0.0.1:1\nimaps://127.0.0.1:1\n")
    monkeypatch.setattr(
        "sys.stdin", io.StringIO("imaps://127.0.0.1:1  # duplicate of the file's\n")
    )
    rc = main(
        [
            "check",
            "--no-history",
            "--format",
            "json",
            "--timeout",
            "1",
            "-f",
            "-",
            "-f",
            str(listed),
        ]
    )
    document = json.loads(capsys.readouterr().out)
    assert rc == 2
    assert document["targets"] == ["imaps://127.0.0.1:1", "pop3s://127.0.0.1:1"]
    assert len(document["endpoints"]) == 2
