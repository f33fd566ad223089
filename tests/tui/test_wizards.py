"""Each recovery wizard, driven from the finding that needs it to the files it writes."""

from __future__ import annotations

import plistlib
import stat
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, RadioButton, Static

from mailtls.lab.scenarios import build_scenario
from mailtls.model import Report, Verdict
from mailtls.tui import create_app
from mailtls.tui.screens.finding import FindingScreen
from mailtls.tui.screens.overview import OverviewScreen
from mailtls.tui.widgets.toggles import MarkedCheckbox
from mailtls.tui.wizards.base import ArtefactsWritten, WizardFailed, WizardScreen
from mailtls.tui.wizards.guides import FullChainWizard, StaleExceptionWizard, spaced
from mailtls.tui.wizards.profile import ProfileWizard
from mailtls.tui.wizards.recheck import ComparisonScreen
from mailtls.tui.wizards.reissue import CsrWizard, ReissueWizard
from tests.tui.conftest import drive
from tests.tui.reports import AT, endpoint_report, make_report
from tests.tui.test_progress import Replay, _wait_for


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def open_finding(pilot: Pilot[Any], remedy: str) -> FindingScreen:
    """From the overview: focus the problem list, pick the first finding with ``remedy``."""
    overview = pilot.app.screen
    assert isinstance(overview, OverviewScreen)
    index = next(i for i, (_, f) in enumerate(overview.findings) if f.remedy == remedy)
    table = overview.query_one("#findings", DataTable)
    table.focus()
    table.move_cursor(row=index)
    await pilot.press("enter")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, FindingScreen)
    assert screen.finding.remedy == remedy
    return screen


async def run_wizard(pilot: Pilot[Any], messages: list[Message]) -> Message:
    before = len(messages)
    await pilot.press("ctrl+s")

    def finished() -> bool:
        return any(isinstance(m, ArtefactsWritten | WizardFailed) for m in messages[before:])

    await _wait_for(pilot, finished, tries=1000)
    await pilot.pause()
    return next(m for m in messages[before:] if isinstance(m, ArtefactsWritten | WizardFailed))


def test_profile_wizard_from_needs_profile_finding(tmp_path: Path) -> None:
    report = make_report({"imaps": "good-private-with-root"})
    # the re-check as a phone that trusts the root: what the real service returns then
    after = make_report([endpoint_report("imaps", "good-private-with-root", root_installed=True)])
    replay = Replay(after)
    app = create_app(report, output_dir=tmp_path, check_function=replay)
    root_pem = build_scenario("good-private-with-root", now=AT).root_pem
    assert root_pem is not None
    root_der = x509.load_pem_x509_certificate(root_pem).public_bytes(Encoding.DER)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await open_finding(pilot, "profile")
        await pilot.press("w")
        await pilot.pause()
        wizard = pilot.app.screen
        assert isinstance(wizard, ProfileWizard)
        # the root the server sent is offered first and chosen
        assert wizard.query_one("#root-sent-0", RadioButton).value
        written = await run_wizard(pilot, messages)
        assert isinstance(written, ArtefactsWritten), getattr(written, "error", "")
        guide = wizard.query_one("#wizard-guide").plain  # type: ignore[attr-defined]
        assert "Certificate Trust Settings" in guide
        assert str(written.paths[0]) in guide  # the steps name the file just written
        await pilot.press("ctrl+r")  # re-check as a phone that trusts this root
        await _wait_for(pilot, lambda: len(replay.calls) == 1)
        await _wait_for(pilot, lambda: isinstance(pilot.app.screen, OverviewScreen))
        await pilot.press("b")
        await pilot.pause()
        comparison = pilot.app.screen
        assert isinstance(comparison, ComparisonScreen)
        assert [c.change for c in comparison.changes] == ["better"]
        assert comparison.changes[0].after is not None
        assert comparison.changes[0].after.verdict is Verdict.TRUSTED

    drive(app, scenario, size=(100, 40))
    profiles = list(tmp_path.glob("*.mobileconfig"))
    assert len(profiles) == 1
    data = plistlib.loads(profiles[0].read_bytes())
    payload_types = [p["PayloadType"] for p in data["PayloadContent"]]
    assert payload_types == ["com.apple.security.root"]
    assert data["PayloadContent"][0]["PayloadContent"] == root_der
    root_copy = profiles[0].with_suffix(".pem")
    assert x509.load_pem_x509_certificate(root_copy.read_bytes()) == x509.load_pem_x509_certificate(
        root_pem
    )
    options = replay.calls[0][1]
    assert options is not None and options.ca_files == (root_copy,)


def test_profile_wizard_adds_the_account_with_the_checked_names(tmp_path: Path) -> None:
    report = make_report(
        {"imaps": "good-private-with-root", "submission": "good-private-with-root"}
    )
    app = create_app(report, output_dir=tmp_path)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await open_finding(pilot, "profile")
        await pilot.press("w")
        await pilot.pause()
        wizard = pilot.app.screen
        assert isinstance(wizard, ProfileWizard)
        assert wizard.value("profile-incoming") == "mail.example.test:993"
        assert wizard.value("profile-outgoing") == "mail.example.test:587"
        wizard.query_one("#profile-account", MarkedCheckbox).value = True
        wizard.query_one("#profile-user", Input).value = "jane"
        written = await run_wizard(pilot, messages)
        assert isinstance(written, ArtefactsWritten), getattr(written, "error", "")
        assert any("mail.example.test" in note for note in written.notes)

    drive(app, scenario, size=(100, 40))
    (profile,) = tmp_path.glob("*.mobileconfig")
    data = plistlib.loads(profile.read_bytes())
    mail = data["PayloadContent"][1]
    assert mail["PayloadType"] == "com.apple.mail.managed"
    assert mail["IncomingMailServerHostName"] == "mail.example.test"
    assert mail["IncomingMailServerPortNumber"] == 993
    assert mail["OutgoingMailServerPortNumber"] == 587
    assert mail["IncomingMailServerUsername"] == "jane"
    assert not any(
        "Password" in key and key != "OutgoingPasswordSameAsIncomingPassword" for key in mail
    )


def test_profile_wizard_refuses_a_leaf_with_the_reason(tmp_path: Path) -> None:
    report = make_report({"imaps": "good-private-with-root"})
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(
        build_scenario("wrong-host", now=AT).chain_pem.split(b"-----END CERTIFICATE-----")[0]
        + b"-----END CERTIFICATE-----\n"
    )
    app = create_app(report, output_dir=tmp_path)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await open_finding(pilot, "profile")
        await pilot.press("w")
        await pilot.pause()
        wizard = pilot.app.screen
        assert isinstance(wizard, ProfileWizard)
        wizard.query_one("#root-file-choice", RadioButton).value = True
        wizard.query_one("#profile-root-file", Input).value = str(leaf)
        result = await run_wizard(pilot, messages)
        assert isinstance(result, WizardFailed)
        shown = str(wizard.query_one("#wizard-error", Static).render())
        assert "CA" in shown  # the reason: not a CA certificate
        assert wizard.written == ()

    drive(app, scenario, size=(100, 40))
    assert not list(tmp_path.glob("*.mobileconfig"))


def test_reissue_wizard_from_hostname_finding_writes_ca_and_chain(
    wrong_host: Report, tmp_path: Path
) -> None:
    app = create_app(wrong_host, output_dir=tmp_path)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        finding = await open_finding(pilot, "reissue")
        assert finding.wizard_ids[0] == "reissue"
        await pilot.press("w")
        await pilot.pause()
        wizard = pilot.app.screen
        assert isinstance(wizard, ReissueWizard)
        assert wizard.value("reissue-names") == "mail.example.test"
        written = await run_wizard(pilot, messages)
        assert isinstance(written, ArtefactsWritten), getattr(written, "error", "")
        # again without "Replace existing files": refused, with what to do, nothing replaced
        key_before = (tmp_path / "server" / "server.key").read_bytes()
        again = await run_wizard(pilot, messages)
        assert isinstance(again, WizardFailed)
        assert "Replace existing files" in str(wizard.query_one("#wizard-error", Static).render())
        assert (tmp_path / "server" / "server.key").read_bytes() == key_before

    drive(app, scenario, size=(100, 40))
    assert _mode(tmp_path / "ca" / "ca.key") == 0o600
    assert _mode(tmp_path / "server" / "server.key") == 0o600
    chain = x509.load_pem_x509_certificates((tmp_path / "server" / "fullchain.pem").read_bytes())
    san = chain[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["mail.example.test"]
    ca = x509.load_pem_x509_certificate((tmp_path / "ca" / "ca.pem").read_bytes())
    assert chain[0].issuer == ca.subject


def test_csr_wizard_from_hostname_finding(wrong_host: Report, tmp_path: Path) -> None:
    app = create_app(wrong_host, output_dir=tmp_path)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await open_finding(pilot, "reissue")
        await pilot.click("#wizard-public_ca")
        await pilot.pause()
        wizard = pilot.app.screen
        assert isinstance(wizard, CsrWizard)
        wizard.query_one("#csr-names", Input).value = "mail.example.test smtp.example.test"
        written = await run_wizard(pilot, messages)
        assert isinstance(written, ArtefactsWritten), getattr(written, "error", "")
        notes = "\n".join(written.notes)
        assert "certbot" in notes and "fullchain.pem" in notes

    drive(app, scenario, size=(100, 40))
    assert _mode(tmp_path / "server" / "server.key") == 0o600
    csr = x509.load_pem_x509_csr((tmp_path / "server" / "server.csr").read_bytes())
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["mail.example.test", "smtp.example.test"]


def test_stale_exception_guide_shows_fingerprints_and_honest_basis(
    wrong_host: Report, tmp_path: Path
) -> None:
    app = create_app(wrong_host, output_dir=tmp_path)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        finding = await open_finding(pilot, "reissue")
        await pilot.click("#wizard-stale_exception")
        await pilot.pause()
        wizard = pilot.app.screen
        assert isinstance(wizard, StaleExceptionWizard)
        er = finding.endpoint_report
        assert er is not None and er.analysis is not None
        text = str(wizard.query_one("#stale-fingerprints", Static).render())
        assert spaced(er.analysis.chain[0].sha256) in text
        guide = wizard.query_one("#wizard-guide").plain  # type: ignore[attr-defined]
        assert "reported by users, not documented by Apple" in guide
        assert "Reset All Settings" in guide
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, FindingScreen)

    drive(app, scenario, size=(100, 40))
    assert list(tmp_path.iterdir()) == []  # a guide writes nothing


def test_deploy_wizard_catches_the_leaf_without_intermediate(tmp_path: Path) -> None:
    scenario = build_scenario("missing-intermediate", now=AT)
    cert, key = tmp_path / "cert.pem", tmp_path / "server.key"
    cert.write_bytes(scenario.chain_pem)
    key.write_bytes(scenario.key_pem)
    key.chmod(0o600)
    report = make_report({"imaps": "missing-intermediate"})
    app = create_app(report, output_dir=tmp_path)

    async def scenario_(pilot: Pilot[Any], messages: list[Message]) -> None:
        await open_finding(pilot, "full_chain")
        await pilot.press("w")
        await pilot.pause()
        wizard = pilot.app.screen
        assert isinstance(wizard, FullChainWizard)
        wizard.query_one("#deploy-cert", Input).value = str(cert)
        wizard.query_one("#deploy-key", Input).value = str(key)
        result = await run_wizard(pilot, messages)
        assert isinstance(result, ArtefactsWritten), getattr(result, "error", "")
        notes = "\n".join(result.notes)
        assert "PROBLEM" in notes and "without the intermediate" in notes
        assert f"ssl_cert = <{cert}" in notes  # Dovecot, pointing at the given file
        assert "ssl_min_protocol = TLSv1.2" in notes

    drive(app, scenario_, size=(100, 40))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cert.pem", "server.key"]


def test_every_remedy_of_the_engine_has_a_wizard() -> None:
    from mailtls.remedy.guides import GUIDES
    from mailtls.tui.wizards import REMEDY_WIZARDS, WIZARDS

    for remedy in GUIDES:
        if remedy == "recheck":
            continue  # the app's r key and the before/after screen
        assert remedy in REMEDY_WIZARDS, remedy
        assert all(w in WIZARDS for w in REMEDY_WIZARDS[remedy])
        assert issubclass(WIZARDS[REMEDY_WIZARDS[remedy][0]], WizardScreen)


def test_a_wizard_that_writes_files_must_say_how() -> None:
    """A wizard with an ACTION button but no prepare() is refused when it is defined."""
    import pytest

    from mailtls.tui.wizards.base import WizardScreen

    with pytest.raises(TypeError, match="no prepare"):

        class _Broken(WizardScreen):
            ACTION = "Write files"
