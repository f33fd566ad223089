"""The TUI against a live lab: the real service probes in-process servers on loopback.

Provenance: the lab (``mailtls.lab.servers.start_lab``) serves the catalogue's wrong-host
chain (leaf for server17.hoster.example, lab intermediate) on all 7 endpoint kinds; the
check is told the address (127.0.0.1), no discovery, and judges at the scenario's moment
with the lab root installed (``--ca-file``), so the only problem left is the host name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable

from mailtls.lab.scenarios import build_scenario
from mailtls.lab.servers import start_lab
from mailtls.model import Verdict
from mailtls.service import CheckOptions
from mailtls.tui import create_app
from mailtls.tui.messages import CheckFinished, EndpointDone, EndpointStarted
from mailtls.tui.screens.chain import ChainScreen
from mailtls.tui.screens.overview import OverviewScreen
from tests.tui.conftest import drive
from tests.tui.reports import AT
from tests.tui.test_progress import _wait_for


def test_live_lab_wrong_host_from_start_to_chain(tmp_path: Path) -> None:
    scenario = build_scenario("wrong-host", now=AT)
    assert scenario.root_pem is not None
    root = tmp_path / "root.pem"
    root.write_bytes(scenario.root_pem)
    with start_lab(scenario.chain_pem, scenario.key_pem, server_name=scenario.host) as lab:
        urls = lab.urls(scenario.host)
        options = CheckOptions(
            address=(lab.connect_address,),
            ca_files=(root,),
            at=AT,
            discover=False,
            timeout=20,
            check_versions=False,
        )
        app = create_app(targets=urls, options=options, output_dir=tmp_path)

        async def run(pilot: Pilot[Any], messages: list[Message]) -> None:
            await _wait_for(
                pilot, lambda: any(isinstance(m, CheckFinished) for m in messages), tries=1500
            )
            await _wait_for(pilot, lambda: isinstance(pilot.app.screen, OverviewScreen))
            screen = pilot.app.screen
            assert isinstance(screen, OverviewScreen)
            assert len(screen.endpoints) == 7
            assert {er.verdict for er in screen.endpoints} == {Verdict.PROMPT}
            assert "server17.hoster.example" in screen.sentences[0]
            assert "not mail.example.test" in screen.sentences[0]
            table = screen.query_one("#endpoints", DataTable)
            assert {str(table.get_row_at(r)[0]) for r in range(table.row_count)} == {"PROMPT"}
            await pilot.press("enter")
            await pilot.pause()
            chain = pilot.app.screen
            assert isinstance(chain, ChainScreen)
            assert "san" in chain.problem_fields[0]

        messages = drive(app, run, size=(120, 40))
    started = [m for m in messages if isinstance(m, EndpointStarted)]
    done = [m for m in messages if isinstance(m, EndpointDone)]
    assert len(started) == len(done) == 7
    assert {m.report.endpoint.address for m in done} == {lab.connect_address}


def test_live_fix_wrong_host_with_private_ca_then_recheck_is_trusted(tmp_path: Path) -> None:
    """The whole loop in the TUI: diagnose, reissue with a private CA, deploy, re-check."""
    from datetime import UTC, datetime

    from mailtls.tui.screens.finding import FindingScreen
    from mailtls.tui.wizards.base import ArtefactsWritten
    from mailtls.tui.wizards.recheck import ComparisonScreen
    from mailtls.tui.wizards.reissue import ReissueWizard
    from tests.tui.test_wizards import open_finding, run_wizard

    now = datetime.now(UTC)  # the wizard issues for "now"; the lab and the check agree
    scenario = build_scenario("wrong-host", now=now)
    schemes = ("imaps", "submission")
    first = start_lab(scenario.chain_pem, scenario.key_pem, schemes=schemes)
    labs = [first]
    try:
        urls = first.urls(scenario.host)
        options = CheckOptions(
            address=(first.connect_address,), discover=False, timeout=20, check_versions=False
        )
        app = create_app(targets=urls, options=options, output_dir=tmp_path)

        async def run(pilot: Pilot[Any], messages: list[Message]) -> None:
            await _wait_for(pilot, lambda: isinstance(pilot.app.screen, OverviewScreen), 1500)
            finding = await open_finding(pilot, "reissue")
            assert isinstance(finding, FindingScreen)
            await pilot.press("w")
            await pilot.pause()
            wizard = pilot.app.screen
            assert isinstance(wizard, ReissueWizard)
            written = await run_wizard(pilot, messages)
            assert isinstance(written, ArtefactsWritten), getattr(written, "error", "")
            # deploy: the "server" now sends the new full chain on the same ports
            first.stop()
            fullchain = (tmp_path / "server" / "fullchain.pem").read_bytes()
            key = (tmp_path / "server" / "server.key").read_bytes()
            labs.append(start_lab(fullchain, key, schemes=schemes, ports=dict(first.endpoints)))
            before = sum(isinstance(m, CheckFinished) for m in messages)
            await pilot.press("ctrl+r")  # re-check as a phone that trusts the new CA
            await _wait_for(
                pilot, lambda: sum(isinstance(m, CheckFinished) for m in messages) > before, 1500
            )
            await _wait_for(pilot, lambda: isinstance(pilot.app.screen, OverviewScreen))
            overview = pilot.app.screen
            assert isinstance(overview, OverviewScreen)
            assert {er.verdict for er in overview.endpoints} == {Verdict.TRUSTED}
            await pilot.press("b")
            await pilot.pause()
            comparison = pilot.app.screen
            assert isinstance(comparison, ComparisonScreen)
            assert [c.change for c in comparison.changes] == ["better", "better"]

        drive(app, run, size=(100, 40))
    finally:
        for lab in labs:
            lab.stop()
