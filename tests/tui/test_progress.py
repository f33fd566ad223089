"""Start screen, live progress and re-check: the worker's typed messages and the screens.

The check function is the factory's seam (same signature as ``mailtls.service.check``):
here it replays a finished report through the observer, so the test controls when each
endpoint finishes. The live-lab test (test_live.py) runs the real service.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from mailtls.errors import TargetError
from mailtls.model import Report
from mailtls.report.words import verdict_label
from mailtls.service import CheckObserver, CheckOptions
from mailtls.tui import create_app
from mailtls.tui.messages import (
    CheckFailed,
    CheckFinished,
    CheckStarted,
    EndpointDone,
    EndpointStarted,
    HostsFound,
)
from mailtls.tui.screens.overview import OverviewScreen
from mailtls.tui.screens.progress import ProgressScreen
from mailtls.tui.screens.start import StartScreen
from tests.tui.conftest import drive


class Replay:
    """Plays a finished report through the observer; can hold before the last endpoint."""

    def __init__(self, report: Report, hold: bool = False) -> None:
        self.report = report
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self.calls: list[tuple[tuple[str, ...], CheckOptions | None]] = []
        self.reached_hold = threading.Event()

    def __call__(
        self, targets: Sequence[str], options: CheckOptions | None, observer: CheckObserver
    ) -> Report:
        self.calls.append((tuple(targets), options))
        observer.on_hosts(self.report.hosts)
        for er in self.report.endpoints:
            observer.on_endpoint_started(er.endpoint)
        *first, last = self.report.endpoints
        for er in first:
            observer.on_endpoint_done(er)
        self.reached_hold.set()
        assert self.release.wait(10)
        observer.on_endpoint_done(last)
        return self.report


async def _wait_for(pilot: Pilot[Any], condition: Any, tries: int = 200) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not reached")


def test_start_screen_validates_and_starts_the_check(wrong_host: Report, tmp_path: Path) -> None:
    replay = Replay(wrong_host)
    app = create_app(check_function=replay)
    root = tmp_path / "root.pem"
    root.write_text("-----BEGIN CERTIFICATE-----\n")

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, StartScreen)
        await pilot.press("enter")  # empty target: error in the screen, nothing starts
        await pilot.pause()
        error = str(screen.query_one("#start-error", Static).render())
        assert "enter a host name" in error
        assert not replay.calls
        screen.query_one("#at", Input).value = "yesterday"
        screen.query_one("#target", Input).value = "mail.example.test"
        await pilot.press("enter")
        await pilot.pause()
        assert "Judge as of 'yesterday': not a date or time" in str(
            screen.query_one("#start-error", Static).render()
        )
        screen.query_one("#at", Input).value = "2026-11-01"
        screen.query_one("#ca-file", Input).value = str(root)
        screen.query_one("#address", Input).value = "mail.example.test"
        await pilot.press("enter")
        await pilot.pause()
        assert "is not an IP address" in str(screen.query_one("#start-error", Static).render())
        screen.query_one("#address", Input).value = "127.0.0.1"
        screen.query_one("#ios-version", Input).value = "17"
        await pilot.press("enter")
        await _wait_for(pilot, lambda: isinstance(pilot.app.screen, OverviewScreen))

    messages = drive(app, scenario)
    assert len(replay.calls) == 1
    targets, options = replay.calls[0]
    assert targets == ("mail.example.test",)
    assert options is not None
    assert options.at == datetime(2026, 11, 1, tzinfo=UTC)
    assert options.ca_files == (root,)
    assert options.address == ("127.0.0.1",)
    assert options.ios_version == "17"
    kinds = [
        type(m)
        for m in messages
        if isinstance(m, CheckStarted | HostsFound | EndpointStarted | EndpointDone | CheckFinished)
    ]
    assert kinds[0] is CheckStarted and kinds[1] is HostsFound
    assert kinds.count(EndpointStarted) == len(wrong_host.endpoints)
    assert kinds.count(EndpointDone) == len(wrong_host.endpoints)
    assert kinds[-1] is CheckFinished


def test_progress_shows_each_endpoint_with_state_then_verdict(wrong_host: Report) -> None:
    replay = Replay(wrong_host, hold=True)
    app = create_app(targets=["mail.example.test"], check_function=replay)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await _wait_for(pilot, replay.reached_hold.is_set)
        done_count = len(wrong_host.endpoints) - 1
        await _wait_for(
            pilot, lambda: sum(isinstance(m, EndpointDone) for m in messages) == done_count
        )
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, ProgressScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == len(wrong_host.endpoints)
        states = [str(table.get_row_at(r)[0]) for r in range(table.row_count)]
        verdicts = [str(table.get_row_at(r)[1]) for r in range(table.row_count)]
        # the held endpoint is still probing; the others have words for state and verdict
        assert states.count("probing…") == 1
        held = wrong_host.endpoints[-1]
        expected = [verdict_label(er) for er in wrong_host.endpoints[:-1]] + ["…"]
        assert verdicts == expected
        assert states[-1] == "probing…" and held.endpoint.port == 995
        assert "PROMPT" in verdicts
        replay.release.set()
        await _wait_for(pilot, lambda: isinstance(pilot.app.screen, OverviewScreen))

    drive(app, scenario)


def test_bad_target_error_shows_in_screen_with_what_to_do(wrong_host: Report) -> None:
    def failing(
        targets: Sequence[str], options: CheckOptions | None, observer: CheckObserver
    ) -> Report:
        raise TargetError("'imapx://host': unknown scheme imapx")

    app = create_app(targets=["imapx://host"], check_function=failing)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await _wait_for(pilot, lambda: any(isinstance(m, CheckFailed) for m in messages))
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, ProgressScreen)
        text = str(screen.query_one("#progress-error", Static).render())
        assert "unknown scheme imapx" in text and "Press n" in text
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(pilot.app.screen, StartScreen)

    drive(app, scenario)


def test_only_bad_targets_go_back_to_the_form_with_the_reason() -> None:
    """The real service: a target it cannot parse is a line in Report.errors."""
    app = create_app(targets=["imapx://mail.example.test"], options=CheckOptions(timeout=5))

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await _wait_for(pilot, lambda: any(isinstance(m, CheckFinished) for m in messages))
        await _wait_for(pilot, lambda: isinstance(pilot.app.screen, StartScreen))
        screen = pilot.app.screen
        assert isinstance(screen, StartScreen)
        text = str(screen.query_one("#start-error", Static).render())
        assert "Nothing was checked" in text and "imapx" in text
        assert screen.query_one("#target", Input).value == "imapx://mail.example.test"

    drive(app, scenario)


def test_internal_error_in_worker_never_escapes(wrong_host: Report) -> None:
    def broken(
        targets: Sequence[str], options: CheckOptions | None, observer: CheckObserver
    ) -> Report:
        raise ZeroDivisionError("boom")

    app = create_app(targets=["mail.example.test"], check_function=broken)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await _wait_for(pilot, lambda: any(isinstance(m, CheckFailed) for m in messages))
        await pilot.pause()
        failed = next(m for m in messages if isinstance(m, CheckFailed))
        assert "ZeroDivisionError" in failed.error and "bug" in failed.hint
        assert pilot.app.is_running

    drive(app, scenario)
    assert app.return_code in (None, 0)


def test_recheck_runs_the_same_check_and_offers_before_after(wrong_host: Report) -> None:
    replay = Replay(wrong_host)
    app = create_app(wrong_host, check_function=replay)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("r")
        await _wait_for(pilot, lambda: any(isinstance(m, CheckFinished) for m in messages))
        await _wait_for(pilot, lambda: isinstance(pilot.app.screen, OverviewScreen))
        screen = pilot.app.screen
        assert isinstance(screen, OverviewScreen)
        assert screen.previous is wrong_host
        await pilot.press("b")
        await pilot.pause()
        from mailtls.tui.wizards.recheck import ComparisonScreen

        comparison = pilot.app.screen
        assert isinstance(comparison, ComparisonScreen)
        assert {c.change for c in comparison.changes} == {"unchanged"}

    drive(app, scenario)
    assert replay.calls == [(("mail.example.test",), None)]


def test_quit_during_a_slow_check_is_immediate(wrong_host: Report) -> None:
    import time

    replay = Replay(wrong_host, hold=True)  # the last endpoint never answers until released
    app = create_app(targets=["mail.example.test"], check_function=replay)
    timings: dict[str, float] = {}

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await _wait_for(pilot, replay.reached_hold.is_set)
        timings["quit"] = time.monotonic()
        await pilot.press("q")

    try:
        drive(app, scenario)
        elapsed = time.monotonic() - timings["quit"]
    finally:
        replay.release.set()  # let the abandoned check thread end
    assert not app.is_running
    assert elapsed < 2.0, elapsed
