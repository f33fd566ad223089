"""Recovery wizards (issue 6), opened from the finding that needs them.

``WIZARDS`` maps a wizard id to its screen class; ``REMEDY_WIZARDS`` says which wizards a
``Finding.remedy`` offers, the first being the one ``w`` opens. Each wizard is a typed
``ModalScreen`` that dismisses with the files it wrote (or None), runs its blocking work
in a ``@work(thread=True)`` worker that posts typed messages, and takes its words and
steps from :mod:`mailtls.remedy` so the TUI and the runbooks say the same thing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailtls.model import Finding

if TYPE_CHECKING:
    from mailtls.tui.wizards.base import WizardScreen

#: Finding.remedy -> wizard ids, best first.
REMEDY_WIZARDS: dict[str, tuple[str, ...]] = {
    "profile": ("profile", "stale_exception"),
    "stale_exception": ("stale_exception",),
    "reissue": ("reissue", "public_ca", "stale_exception"),
    "public_ca": ("public_ca", "reissue", "stale_exception"),
    "full_chain": ("full_chain",),
    "upgrade_tls": ("upgrade_tls",),
}


def _registry() -> dict[str, type[WizardScreen]]:
    from mailtls.tui.wizards.guides import FullChainWizard, StaleExceptionWizard, UpgradeTlsWizard
    from mailtls.tui.wizards.profile import ProfileWizard
    from mailtls.tui.wizards.reissue import CsrWizard, ReissueWizard

    return {
        "profile": ProfileWizard,
        "stale_exception": StaleExceptionWizard,
        "reissue": ReissueWizard,
        "public_ca": CsrWizard,
        "full_chain": FullChainWizard,
        "upgrade_tls": UpgradeTlsWizard,
    }


WIZARDS: dict[str, type[WizardScreen]] = _registry()


def wizards_for(finding: Finding) -> list[str]:
    """Wizard ids that apply to a finding (those that exist), best first."""
    if finding.remedy is None:
        return []
    return [w for w in REMEDY_WIZARDS.get(finding.remedy, ()) if w in WIZARDS]
