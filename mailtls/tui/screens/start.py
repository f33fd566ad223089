"""Start screen: what to check (host, e-mail address or URL) and the check's options.

Validates the form in place (one line naming what was wrong, under the form) and hands
a :class:`~mailtls.tui.protocol.CheckRequest` to the app; it never probes anything itself.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from mailtls.errors import UsageError
from mailtls.moments import parse_moment
from mailtls.service import CheckOptions
from mailtls.tui.protocol import AppServices, CheckRequest, services
from mailtls.tui.widgets.title_bar import TitleBar


def parse_at(text: str, label: str = "Judge as of") -> datetime | None:
    """The form's "Judge as of" (empty: now), read as ``mailtls check --at`` reads it."""
    return parse_moment(text, label) if text.strip() else None


def _ip(text: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        raise UsageError(f"IP address: {text!r} is not an IP address") from None


def parse_ca_file(text: str) -> Path | None:
    text = text.strip()
    if not text:
        return None
    path = Path(text).expanduser()
    if not path.is_file():
        raise UsageError(f"Company root: {text!r} does not exist or is not a file")
    return path


def build_request(
    target: str,
    address: str = "",
    ca_file: str = "",
    ios_version: str = "",
    at: str = "",
    base: CheckOptions | None = None,
) -> tuple[tuple[str, ...], CheckOptions]:
    """Turn the form's texts into targets and options; raises UsageError with one line."""
    targets = tuple(t for t in target.replace(",", " ").split() if t)
    if not targets:
        raise UsageError("enter a host name, an e-mail address or a URL to check")
    options = base or CheckOptions()
    addresses = tuple(_ip(a) for a in address.replace(",", " ").split() if a)
    ca_path = parse_ca_file(ca_file)
    options = replace(
        options,
        address=addresses,
        ca_files=(ca_path,) if ca_path else (),
        ios_version=ios_version.strip() or None,
        at=parse_at(at),
    )
    return targets, options


class StartScreen(Screen[None]):
    """Enter a target and options, then press Enter (or the Check button)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r,f5", "submit", "Check"),
        Binding("ctrl+q", "app.quit", "Quit"),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self, request: CheckRequest, error: str | None = None) -> None:
        super().__init__()
        self.request = request
        self.initial_error = error

    @property
    def mailtls_app(self) -> AppServices:
        return services(self.app)

    def compose(self) -> ComposeResult:
        options = self.request.options or CheckOptions()
        yield TitleBar()
        with VerticalScroll(id="start-form"):
            yield Static(
                "What does the iPhone's Mail app connect to? Enter the mail server name, "
                "the user's e-mail address, or a URL like imaps://mail.example.com:993.",
                id="start-intro",
            )
            yield Input(
                " ".join(self.request.targets),
                placeholder="mail.example.com  or  user@example.com",
                id="target",
            )
            with Horizontal(classes="option-row"):
                yield Label("IP address", classes="option-label")
                yield Input(
                    " ".join(options.address),
                    placeholder="connect here instead of DNS (optional)",
                    id="address",
                    compact=True,
                )
            with Horizontal(classes="option-row"):
                yield Label("Company root", classes="option-label")
                yield Input(
                    " ".join(str(p) for p in options.ca_files),
                    placeholder="PEM file of a root installed on the iPhone (optional)",
                    id="ca-file",
                    compact=True,
                )
            with Horizontal(classes="option-row"):
                yield Label("iOS version", classes="option-label")
                yield Input(
                    options.ios_version or "",
                    placeholder="e.g. 17 (optional; default: current)",
                    id="ios-version",
                    compact=True,
                )
            with Horizontal(classes="option-row"):
                yield Label("Judge as of", classes="option-label")
                yield Input(
                    options.at.strftime("%Y-%m-%dT%H:%M") if options.at else "",
                    placeholder="YYYY-MM-DD (optional; default: now)",
                    id="at",
                    compact=True,
                )
            yield Static(id="start-error", classes="error-box")
            yield Button("Check", id="check-button", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#target", Input).focus()
        if self.initial_error:
            self.show_error(f"Nothing was checked: {self.initial_error}")

    def show_error(self, message: str) -> None:
        box = self.query_one("#start-error", Static)
        box.update(f"{message}\nFix the field above and press Enter.")
        box.add_class("visible")

    def action_submit(self) -> None:
        def value(widget_id: str) -> str:
            return self.query_one(f"#{widget_id}", Input).value

        try:
            targets, options = build_request(
                value("target"),
                value("address"),
                value("ca-file"),
                value("ios-version"),
                value("at"),
                base=self.request.options,
            )
        except UsageError as exc:
            self.show_error(str(exc))
            return
        self.query_one("#start-error", Static).remove_class("visible")
        self.mailtls_app.start_check(CheckRequest(targets, options))

    def action_back(self) -> None:
        if self.mailtls_app.report is not None:
            self.mailtls_app.show_overview()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#check-button")
    def _pressed(self) -> None:
        self.action_submit()
