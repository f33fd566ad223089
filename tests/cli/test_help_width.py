"""Help is wrapped exactly as argparse would wrap it, without argparse's shutil import.

mailtls's parsers find the terminal width once (``cli.help_width``) instead of argparse
asking ``shutil.get_terminal_size`` for every argument (issue 8: start-up).
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterator

import pytest

from mailtls import cli


@pytest.fixture(autouse=True)
def _fresh_width() -> Iterator[None]:
    cli.help_width.cache_clear()  # found once per process: each test sets its own $COLUMNS
    yield
    cli.help_width.cache_clear()


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(argv) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("columns", ["40", "80", "123", "0", "wide"])
@pytest.mark.parametrize("argv", [["check", "--help"], ["--help"], ["history", "--help"]])
def test_help_is_wrapped_as_argparse_wraps_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    columns: str,
    argv: list[str],
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    ours = _help(argv, capsys)
    monkeypatch.setattr(
        cli._parser_class(), "_get_formatter", argparse.ArgumentParser._get_formatter
    )
    assert ours == _help(argv, capsys)
    assert ours.startswith("usage: mailtls")


def test_the_width_is_found_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert cli.help_width() == 98
    monkeypatch.setenv("COLUMNS", "50")
    assert cli.help_width() == 98  # cached for the process, like one parse
    cli.help_width.cache_clear()
    monkeypatch.delenv("COLUMNS")
    assert cli.help_width() == shutil.get_terminal_size().columns - 2  # what argparse asks
