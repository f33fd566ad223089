"""The screens reach the app through a small protocol, never by importing it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mailtls.tui.app import MailtlsApp
from mailtls.tui.protocol import AppServices, CheckRequest, services

TUI = Path(__file__).resolve().parents[2] / "mailtls" / "tui"


def test_the_app_is_what_the_screens_need() -> None:
    app = MailtlsApp()
    needed: AppServices = app  # mypy checks the structure; isinstance the members
    assert services(needed) is app
    with pytest.raises(TypeError):
        services(object())


def test_the_request_is_the_apps() -> None:
    assert MailtlsApp(targets=["mail.example.test"]).request == CheckRequest(("mail.example.test",))


@pytest.mark.parametrize("folder", ["screens", "wizards"])
def test_no_screen_or_wizard_imports_the_app(folder: str) -> None:
    offenders = []
    for path in sorted((TUI / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            offenders += [f"{path.name}: {n}" for n in names if n == "mailtls.tui.app"]
    assert not offenders
