"""SVG snapshots of the key screens (last line of defence after the Pilot tests).

Deterministic: the report comes from fixed lab scenarios judged at their fixed moment
(tests/tui/reports.py), the title bar has no clock, and the terminal sizes are fixed.
Update deliberately with ``python3 -m pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the SVGs before committing.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from mailtls.model import Report
from mailtls.tui import create_app


def test_overview_80x24(snap_compare: Any, wrong_host: Report) -> None:
    assert snap_compare(create_app(wrong_host), terminal_size=(80, 24))


def test_chain_view_120x40(snap_compare: Any, wrong_host: Report) -> None:
    async def open_chain(pilot: Pilot[Any]) -> None:
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(create_app(wrong_host), terminal_size=(120, 40), run_before=open_chain)


def test_finding_view_80x24(snap_compare: Any, wrong_host: Report) -> None:
    async def open_finding(pilot: Pilot[Any]) -> None:
        await pilot.press("f")
        await pilot.pause()

    assert snap_compare(create_app(wrong_host), terminal_size=(80, 24), run_before=open_finding)
