"""Help: the keys, what the verdicts mean, and where to go next."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from mailtls.model import Verdict

HELP_TEXT = f"""\
Keys (also shown in the footer; Ctrl+P lists every command):
  Enter   open the highlighted endpoint (chain) or problem (finding)
  Tab     move between lists and buttons     Esc  back
  c       chain view of the endpoint         f    explain a problem
  w       open the guided fix of a problem   r    re-check the same target
  e       export the report (JSON or text)   n    check another host
  b       before/after, after a re-check     ?    this help
  q       quit (Ctrl+Q and Ctrl+C always quit)
In a guided fix: Ctrl+S writes the files (or checks them), Ctrl+R closes it and
re-checks (with the new root, if it made one), Esc closes it. Nothing is replaced
unless "Replace existing files" is ticked; private keys are written 0600.

Verdicts (each endpoint = one way the iPhone reaches the server):
  {Verdict.TRUSTED.label:<13}  Mail connects without a warning.
  {Verdict.PROMPT.label:<13}  Mail shows "Cannot Verify Server Identity"; "Trust" stores an
                 exception for this exact certificate only.
  {Verdict.NEEDS_PROFILE.label:<13}  The chain is fine but ends in a private root: install it with a
                 profile and switch on full trust (Settings > General > About >
                 Certificate Trust Settings).
  {Verdict.FATAL.label:<13}  Mail cannot connect, whatever the user taps.
  NOT OFFERED / TIMED OUT / ...  the port could not be checked; the words say why.

Read the first sentence of the overview to the user; open a problem for what the
iPhone shows, why iOS does it (with Apple's source) and the fix.
"""


class HelpScreen(ModalScreen[None]):
    """Keys and verdicts; Esc or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,f1", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("mailtls help", classes="dialog-title")
            with VerticalScroll(id="help-text"):
                yield Static(HELP_TEXT, markup=False)
            yield Button("Close (Esc)", id="help-close")

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
