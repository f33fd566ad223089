"""Render a recovery guide (:mod:`mailtls.remedy.guides`): the same data as the runbooks.

Each step shows who does it (the admin, or "On the iPhone"), the command with the admin's
values filled in, and how sure mailtls is (documented, seen in Apple's source, reported
by users, inferred) with the source: the honesty the issue asks for is in the data.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import Static

from mailtls.remedy.guides import BASIS_LABELS, Actor, Basis, Guide, fill, render_step

_BASIS_STYLES: dict[Basis, str] = {
    Basis.DOCUMENTED: "green",
    Basis.SOURCE: "green",
    Basis.REPORTED: "yellow",
    Basis.INFERRED: "bright_black",
}


def guide_text(guide: Guide, values: Mapping[str, str] | None = None) -> Text:
    text = Text()
    text.append(guide.title + "\n", style="bold")
    text.append(fill(guide.why, values) + "\n")
    for number, step in enumerate(guide.steps, 1):
        body, command = render_step(step, values)
        text.append(f"\n{number}. ", style="bold")
        if step.actor is Actor.IPHONE:
            text.append("On the iPhone: ", style="bold")
        text.append(body)
        if command:
            text.append("\n   $ ", style="bold")
            text.append(command, style="bold cyan")
        text.append(f"\n   [{BASIS_LABELS[step.basis]}", style=_BASIS_STYLES[step.basis])
        if step.citation:
            text.append(f"; {step.citation}", style="italic bright_black")
        text.append("]", style=_BASIS_STYLES[step.basis])
    return text


class GuideView(Static):
    """A guide with placeholders filled from ``values``; call :meth:`show` to refill."""

    DEFAULT_CSS = """
    GuideView {
        height: auto;
        padding: 0 0 1 0;
    }
    """

    def __init__(
        self,
        guide: Guide,
        values: Mapping[str, str] | None = None,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(guide_text(guide, values), id=id)
        self.guide = guide
        self.values: dict[str, str] = dict(values or {})

    def show(self, values: Mapping[str, str]) -> None:
        self.values.update(values)
        self.update(guide_text(self.guide, self.values))

    @property
    def plain(self) -> str:
        return guide_text(self.guide, self.values).plain
