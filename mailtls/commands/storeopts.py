"""The trust-store options that ``check``, ``inspect``, ``tui`` and ``deploy`` share.

Apple's published store is the default once cached (docs/trust-store.md). ``check`` and
``tui`` go on the network anyway, so when nothing is cached they fetch it once (unless
``--offline`` or ``MAILTLS_OFFLINE=1``); ``inspect`` and ``deploy`` never fetch. Every
notice is one line on stderr; stdout stays data.
"""

from __future__ import annotations

import os
import sys

from mailtls.errors import UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (check --help)
if TYPE_CHECKING:
    import argparse
    from datetime import datetime
    from typing import IO, Any

OFFLINE_ENV = "MAILTLS_OFFLINE"


def add_arguments(parser: argparse.ArgumentParser, *, may_fetch: bool) -> None:
    parser.add_argument(
        "--roots-version",
        metavar="N",
        help="judge with this cached release of Apple's trust store (see `mailtls roots list-versions`)",
    )
    if may_fetch:
        parser.add_argument(
            "--offline",
            action="store_true",
            help=f"never fetch Apple's trust store (also {OFFLINE_ENV}=1)",
        )


def parse_version(text: str | None) -> int | None:
    if text is None:
        return None
    value = text.strip()
    if not (value.isdigit() and len(value) == 10):
        raise UsageError(
            f"--roots-version {text!r}: not a trust store version (10 digits, YYYYMMDDNN, e.g. 2025072000)"
        )
    return int(value)


def version_date(version: int) -> datetime:
    """The date in a store version number (YYYYMMDDNN)."""
    from datetime import UTC, datetime

    digits = f"{version:010d}"
    try:
        return datetime(int(digits[:4]), int(digits[4:6]), int(digits[6:8]), tzinfo=UTC)
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=UTC)


def choose_version(
    args: argparse.Namespace,
    *,
    may_fetch: bool,
    at: datetime | None = None,
    err: IO[str] | None = None,
) -> int | None:
    """Which cached release to judge with (None: the current one, or the stand-in); says
    on ``err`` what a user should know now (a fetch, a store later than ``at``, an ``--ios``
    release whose store is not cached). The hint of a stand-in or old store is the caller's
    to print once the run succeeds (:func:`print_hint`), so that bad input still gets its
    one line. A ``--roots-version`` that is not cached is a :class:`UsageError` here,
    before anything goes on the network."""
    stream = err if err is not None else sys.stderr
    if getattr(args, "system_roots", None):
        return None  # --system-roots replaces the store
    from mailtls import roots

    version = parse_version(getattr(args, "roots_version", None))
    if version is not None:
        chosen = roots.load(version)
        if chosen is None:
            cached = ", ".join(str(s.version) for s in roots.versions()) or "none"
            raise UsageError(
                f"--roots-version {version}: not cached (cached: {cached}); "
                "import it with `mailtls roots update --from PATH`"
            )
        _note_if_later(chosen.version, at, stream, chosen_by="--roots-version")
        return version
    ios = getattr(args, "ios", None)
    if ios:
        version = _version_for_ios(ios, roots.versions(), stream)
        if version is not None:
            _note_if_later(version, at, stream, chosen_by=f"--ios {ios}")
            return version
    if at is not None:
        version = _version_at(at, roots.versions())
        if version is not None:
            return version
    store = roots.load()
    if store is None and may_fetch and not offline(args):
        if not _backing_off():
            print("mailtls: Apple's trust store is not cached: fetching it once", file=stream)
        store, reason = roots.auto_fetch()
        if store is not None:
            print(f"mailtls: cached {store.label}", file=stream)
        elif reason:
            # The fix is the stand-in's hint, printed once with the report: one line, not two.
            print(f"mailtls: {_without_fix(reason)}", file=stream)
    if store is not None and at is not None and version_date(store.version) > at:
        print(
            f"mailtls: note: --at {at:%Y-%m-%d} is before Apple's trust store {store.version} "
            "in use (no cached release is that old): iPhones then had an older store",
            file=stream,
        )
    return None


def offline(args: argparse.Namespace) -> bool:
    """``--offline``, or MAILTLS_OFFLINE set to anything but empty, 0, false, no or off."""
    if getattr(args, "offline", False):
        return True
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def _note_if_later(version: int, at: datetime | None, stream: IO[str], *, chosen_by: str) -> None:
    """An explicitly chosen store from after ``--at`` is used, and said so (never silently)."""
    if at is not None and version_date(version) > at:
        print(
            f"mailtls: note: --at {at:%Y-%m-%d} is before Apple's trust store {version} "
            f"({chosen_by}): iPhones then had an older store",
            file=stream,
        )


def _backing_off() -> bool:
    """Is the automatic fetch in its day of back-off after a failure (so it will not fetch)?"""
    from datetime import UTC, datetime

    from mailtls.roots.cache import read_failure
    from mailtls.roots.download import BACKOFF

    failure = read_failure()
    return failure is not None and datetime.now(UTC) - failure[0] < BACKOFF


def _without_fix(reason: str) -> str:
    """``auto_fetch``'s reason without its trailing fix (the stand-in's hint says it)."""
    from mailtls.roots.download import _HINT

    for separator in ("; ", ": "):
        if reason.endswith(separator + _HINT):
            return reason[: -len(separator + _HINT)]
    return reason


def _version_at(at: datetime, cached: list[Any]) -> int | None:
    """The newest cached release not after ``at`` (None: use the current one)."""
    if len(cached) < 2:
        return None
    fitting = [s.version for s in cached if version_date(s.version) <= at]
    return max(fitting) if fitting else None


def _version_for_ios(ios: str, cached: list[Any], stream: IO[str]) -> int | None:
    """The cached release tied to iOS ``ios``; else None, said on ``stream`` when a store
    is cached (the current store is used then, and the rules still follow ``--ios``)."""
    from mailtls.roots.ios import store_version_for_ios

    wanted = store_version_for_ios(ios)
    if not cached:
        return None  # nothing cached: the stand-in's hint says what to do
    from mailtls.analysis.registry import parse_ios_version

    try:
        parse_ios_version(ios)
    except ValueError:
        return None  # not an iOS version: the command's own check says so, in one line
    if wanted is None:
        print(
            f"mailtls: note: no source ties iOS {ios} to a release of Apple's trust store: "
            "judging with the current one",
            file=stream,
        )
        return None
    if wanted not in {int(s.version) for s in cached}:
        print(
            f"mailtls: note: iOS {ios} had Apple's trust store {wanted}, which is not cached: "
            "judging with the current one (import it with `mailtls roots update --from PATH`)",
            file=stream,
        )
        return None
    return wanted


def print_hint(hint: str | None, err: IO[str] | None = None) -> None:
    """The one line saying how to replace a stand-in or old store, on stderr."""
    if hint:
        print(f"mailtls: {hint}", file=err if err is not None else sys.stderr)
