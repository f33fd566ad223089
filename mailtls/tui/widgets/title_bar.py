"""A one-line title bar: "mailtls · <screen title>".

Used instead of Textual's ``Header``, whose clock and deferred title updates add nothing
here and race with screens that are replaced quickly (progress -> overview).
"""

from __future__ import annotations

from textual.app import RenderResult
from textual.widget import Widget


class TitleBar(Widget):
    """Shows the app's title and the screen's title (``Screen.title``) on one line."""

    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        height: 1;
        width: 100%;
        background: $panel;
        color: $foreground;
        text-style: bold;
        padding: 0 1;
    }
    """

    def on_mount(self) -> None:
        self.watch(self.screen, "title", self._title_changed, init=False)

    def _title_changed(self, _: str | None) -> None:
        self.refresh()

    def render(self) -> RenderResult:
        title = self.screen.title or self.app.sub_title
        return f"{self.app.title} · {title}" if title else self.app.title
