"""Checkbox and radio button whose mark shows the state by shape, not only by colour.

Textual draws the same glyph for on and off and changes only its colour; these draw the
mark when on and a blank when off (the house rule: never colour alone).
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Checkbox, RadioButton


class MarkedCheckbox(Checkbox):
    """``[X]`` when ticked, ``[ ]`` when not."""

    MARK = "X"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.BUTTON_INNER = self.MARK if self.value else " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = self.MARK if self.value else " "
        super().watch_value()


class MarkedRadioButton(RadioButton):
    """``(●)`` when chosen, ``( )`` when not."""

    MARK = "●"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.BUTTON_INNER = self.MARK if self.value else " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = self.MARK if self.value else " "
        super().watch_value()
