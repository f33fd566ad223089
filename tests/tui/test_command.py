"""``mailtls tui``: cheap to import, refuses to run without a terminal, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mailtls.cli import main
from mailtls.exitcodes import ExitCode


def test_importing_the_package_does_not_import_textual() -> None:
    code = (
        "import sys, mailtls.tui, mailtls.commands.tui; "
        "assert 'textual' not in sys.modules, sorted(m for m in sys.modules if 'textual' in m)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_without_a_terminal_it_says_so_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tui", "mail.example.test", "--no-history"]) == ExitCode.USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs a terminal" in err[0]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--timeout", "soon"], "--timeout"),
        (["--address", "mail.example.test"], "--address"),
        (["--at", "tomorrow"], "--at"),
        (["--ca-file", "/nonexistent/root.pem"], "--ca-file"),
    ],
)
def test_bad_option_is_one_line(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tui", "mail.example.test", "--no-history", *argv]) == ExitCode.USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0]
