"""Command line: ``mailtls COMMAND ...``. Each command lives in ``mailtls.commands.NAME``.

A command module defines ``register(subparsers) -> None`` (cheap: argparse only) and
``run(args) -> int`` (does the work, imports what it needs inside). ``main`` turns every
``MailtlsError`` into one line on stderr and the usage exit code; no traceback reaches a
person unless ``--debug`` is given.
"""

from __future__ import annotations

import functools
import gc
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


#: Commands that call :func:`resume_gc` themselves once their start-up is over and whose
#: process may end without the interpreter's teardown (:func:`_exit_now`; not with --tui).
_LEAN_COMMANDS = ("check",)
_gc_paused = False
_exit_at_once = False  # set by _main when a lean command has finished


def resume_gc() -> None:
    """Let the garbage collector run again after a real process's start-up (issue 8).

    Start-up (the imports of a check: ssl, cryptography, the trust engine) creates
    tens of thousands of objects and no garbage, yet sets off ~45 young collections, about
    10 ms of a 0.25 s check. A real process pauses the collector until the command's
    start-up is over; what exists then is frozen (never walked again) and collection
    resumes for the work itself, so a fleet's memory stays bounded. A no-op in-process.
    """
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        gc.freeze()
        gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    global _gc_paused
    real_process = argv is None  # the console script, python -m mailtls; not in-process
    if real_process and gc.isenabled():
        gc.disable()
        _gc_paused = True
    try:
        code = _main(argv)
    finally:
        resume_gc()
    if real_process:
        # The interpreter's last garbage collection would walk every object the command
        # made, about 40 ms of a 0.3 s check (issue 8); frozen, they are left to the exit.
        gc.freeze()
        if _exit_at_once:
            _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End a finished ``check`` process without the interpreter's teardown (issue 8).

    By now the report is written, the history database closed and every thread joined; what
    is left is unloading ~200 modules one by one (a few ms of a 0.25 s check). The output
    streams are flushed first; a reader that went away is not an error here either.
    """
    import contextlib
    import os

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _main(argv: Sequence[str] | None) -> int:
    global _exit_at_once
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
        lean = args.command in _LEAN_COMMANDS and not getattr(args, "tui", False)
        if args.command not in _LEAN_COMMANDS:
            resume_gc()
        module = importlib.import_module(f"mailtls.commands.{args.command}")
        code = int(module.run(args))
        _exit_at_once = lean
        return code
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0) if isinstance(exc.code, int) else ExitCode.OK
    except KeyboardInterrupt:
        print("mailtls: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except ArgumentError as exc:
        print(f"{exc.prog}: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except MailtlsError as exc:
        print(f"mailtls: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:
        if debug:
            raise
        print(
            f"mailtls: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL
