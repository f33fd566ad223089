"""Fixtures for the TUI tests: finished reports (no network) and a way to drive the app."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot

from mailtls.model import Report
from mailtls.tui.app import MailtlsApp
from tests.tui.reports import wrong_host_report

Scenario = Callable[[Pilot[Any], list[Message]], Awaitable[None]]


def drive(app: MailtlsApp, scenario: Scenario, size: tuple[int, int] = (80, 24)) -> list[Message]:
    """Run ``app`` headless at ``size``, run ``scenario(pilot, messages)``, return messages."""
    messages: list[Message] = []

    async def main() -> None:
        async with app.run_test(size=size, message_hook=messages.append) as pilot:
            await pilot.pause()
            await scenario(pilot, messages)

    asyncio.run(main())
    return messages


@pytest.fixture(scope="session")
def wrong_host() -> Report:
    return wrong_host_report()
