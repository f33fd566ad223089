"""Command line: ``mailtls COMMAND ...``. Each command lives in ``mailtls.commands.NAME``.

A command module defines ``register(subparsers) -> None`` (cheap: argparse only) and
``run(args) -> int`` (does the work, imports what it needs inside). ``main`` turns every
``MailtlsError`` into one line on stderr and the usage exit code; no traceback reaches a
person unless ``--debug`` is given.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Sequence

from mailtls import __version__
from mailtls.errors import MailtlsError, UsageError
from mailtls.exitcodes import ExitCode

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (and re): start-up
if TYPE_CHECKING:
    import argparse

#: Command modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "check",
    "inspect",
    "history",
    "demo",
    "lab",
    "tui",
    "profile",
    "ca",
    "csr",
    "deploy",
    "rules",
    "roots",
)


class ArgumentError(UsageError):
    """A command line argparse rejected; ``prog`` names the (sub)command."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


@functools.cache  # functools is loaded already (enum needs it): no start-up cost
def _parser_class() -> type[argparse.ArgumentParser]:
    """An ArgumentParser whose errors are :class:`ArgumentError` (argparse imported on first
    use: ``mailtls --version`` never needs it)."""
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            raise ArgumentError(self.prog, f"{message} (see '{self.prog} --help')")

        def _get_formatter(self) -> argparse.HelpFormatter:
            # argparse makes a formatter for every add_argument and asks
            # shutil.get_terminal_size each time (importing shutil, bz2, lzma, zlib:
            # ~3 ms of 'check --help' in a clean interpreter); the width is the same.
            # (typeshed's formatter protocol names only prog; HelpFormatter takes width.)
            return self.formatter_class(prog=self.prog, width=help_width())  # type: ignore[call-arg]

    return _Parser


@functools.cache
def help_width() -> int:
    """The width argparse would wrap help to (``shutil.get_terminal_size().columns - 2``:
    ``$COLUMNS`` when set and positive, else the terminal of ``sys.__stdout__``, else 80),
    found once and without importing shutil."""
    import os

    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns if columns > 0 else 80) - 2


def commands_needed(args: Sequence[str]) -> tuple[str, ...]:
    """The command modules a command line needs: start-up time is a benchmark target.

    ``mailtls check ...`` imports only ``mailtls.commands.check``; ``mailtls --version``
    imports none; a bare ``mailtls``, ``--help`` or an unknown word needs them all (to list
    them, or to say which ones exist).
    """
    for arg in args:
        if arg in COMMANDS:
            return (arg,)
        if arg in ("-h", "--help") or not arg.startswith("-"):
            break
        if arg == "--version":
            return ()
    return COMMANDS


def build_parser(commands: Sequence[str] = COMMANDS) -> argparse.ArgumentParser:
    parser_class = _parser_class()
    parser = parser_class(
        prog="mailtls",
        description=(
            "Why does the iPhone say 'Cannot Verify Server Identity'? mailtls probes a mail "
            "host the way iPhone Mail does, judges the certificate by Apple's rules, and "
            "guides the fix."
        ),
    )
    parser.add_argument("--version", action="version", version=f"mailtls {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=parser_class)
    for name in commands:
        importlib.import_module(f"mailtls.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list == ["--version"]:  # what argparse's version action prints, without argparse
        print(f"mailtls {__version__}")
        return ExitCode.OK
    debug = "--debug" in args_list
    try:
        parser = build_parser(commands_needed(args_list))
        args = parser.parse_args(args_list)
        if not getattr(args, "command", None):
            parser.print_help(sys.stderr)
            return ExitCode.USAGE
        module = importlib.import_module(f"mailtls.commands.{args.command}")
        return int(module.run(args))
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0) if isinstance(exc.code, int) else ExitCode.OK
    except KeyboardInterrupt:
        return _interrupted()
    except ArgumentError as exc:
        print(f"{exc.prog}: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except MailtlsError as exc:
        print(f"mailtls: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:
        if _caused_by_interrupt(exc):  # e.g. Ctrl-C inside a class's __set_name__
            return _interrupted()
        if debug:
            raise
        print(
            f"mailtls: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL


def _interrupted() -> int:
    print("mailtls: interrupted", file=sys.stderr)
    # Ctrl-C inside code run by exec() (dataclasses build their methods so) leaves CPython's
    # "unhandled KeyboardInterrupt" flag set, and `python -m` then ends by SIGINT instead of
    # exit 130; every exec() of a string starts by clearing that flag.
    exec("pass")
    return ExitCode.INTERRUPTED


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
