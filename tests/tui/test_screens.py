"""Overview, chain and finding screens, driven from a finished report (no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList, Static

from mailtls.model import Report, Verdict
from mailtls.report.words import overview_rank, verdict_label
from mailtls.tui import create_app
from mailtls.tui.app import MailtlsApp
from mailtls.tui.screens.chain import ChainScreen
from mailtls.tui.screens.export import ExportScreen
from mailtls.tui.screens.finding import FindingScreen
from mailtls.tui.screens.help import HelpScreen
from mailtls.tui.screens.overview import OverviewScreen
from tests.tui.conftest import drive
from tests.tui.reports import make_report


def _cell_text(table: DataTable[Any], row: int, column: int) -> str:
    return str(table.get_row_at(row)[column])


def test_overview_lists_endpoints_worst_first_with_words(wrong_host: Report) -> None:
    app = create_app(wrong_host)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, OverviewScreen)
        table = screen.query_one("#endpoints", DataTable)
        assert table.row_count == len(wrong_host.endpoints)
        verdicts = [_cell_text(table, row, 0) for row in range(table.row_count)]
        services = [_cell_text(table, row, 1) for row in range(table.row_count)]
        # wrong-host prompts on both SMTP ports: first; the refused POP3 port: last, in words
        assert verdicts[:2] == ["PROMPT", "PROMPT"]
        assert sorted(services[:2]) == ["SMTP 465 TLS", "SMTP 587 STARTTLS"]
        assert verdicts[-1] == "NOT OFFERED"
        assert services[-1] == "POP3 995 TLS"
        # the order is the documented rank, and every verdict is a word from the model
        ranks = [overview_rank(er) for er in screen.endpoints]
        assert ranks == sorted(ranks)
        assert verdicts == [verdict_label(er) for er in screen.endpoints]

    drive(app, scenario)


def test_overview_summary_sentence_names_port_and_both_names(wrong_host: Report) -> None:
    app = create_app(wrong_host)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, OverviewScreen)
        first = screen.sentences[0]
        assert first.startswith("The iPhone will warn on outgoing mail (ports 465, 587)")
        assert "server17.hoster.example" in first
        assert "mail.example.test" in first
        summary = str(screen.query_one("#summary", Static).render())
        assert first in summary

    drive(app, scenario)


def test_all_trusted_report_says_so() -> None:
    report = make_report({"imaps": "wildcard-ok"})
    app = create_app(report)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, OverviewScreen)
        verdict = report.endpoints[0].verdict
        if verdict is Verdict.TRUSTED:
            assert "works without a warning" in screen.sentences[0]
        else:  # without the root installed the lab chain prompts: the sentence says so
            assert screen.sentences[0].startswith("The iPhone will warn on incoming mail")

    drive(app, scenario)


def test_enter_on_endpoint_opens_chain_with_problem_fields(wrong_host: Report) -> None:
    app = create_app(wrong_host)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("enter")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, ChainScreen)
        assert screen.endpoint_report.endpoint.port in (465, 587)
        assert "san" in screen.problem_fields.get(0, [])
        san_row = screen.query_one("#cert0-san")
        assert "problem" in san_row.classes
        assert "server17.hoster.example" in str(san_row.query_one(".field-value", Static).render())
        validity = str(screen.query_one("#cert0-validity .field-value", Static).render())
        assert "days" in validity
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, OverviewScreen)

    drive(app, scenario)


def test_finding_view_explains_and_offers_fix(wrong_host: Report) -> None:
    app = create_app(wrong_host)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("f")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, FindingScreen)
        assert screen.finding.check_key == "SSLHostname"
        assert str(screen.query_one("#finding-summary", Static).render()) == screen.finding.summary
        where = str(screen.query_one("#finding-where", Static).render())
        assert "SMTP 587" in where and "SMTP 465" in where
        why = str(screen.query_one("#finding-why", Static).render())
        assert "SSLHostname" in why

    drive(app, scenario)


def test_chain_view_of_unreachable_endpoint_says_what_to_do(wrong_host: Report) -> None:
    app = create_app(wrong_host)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        overview = pilot.app.screen
        assert isinstance(overview, OverviewScreen)
        table = overview.query_one("#endpoints", DataTable)
        table.move_cursor(row=table.row_count - 1)
        await pilot.press("c")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, ChainScreen)
        text = str(screen.query_one("#chain-missing", Static).render())
        assert "No certificate was received" in text and "press r" in text

    drive(app, scenario)


def test_help_and_quit_always_work(wrong_host: Report) -> None:
    app = create_app(wrong_host)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(pilot.app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, OverviewScreen)
        await pilot.press("enter")  # into the chain view, then quit from there
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()

    drive(app, scenario)
    assert app.return_code == 0 or app.return_code is None
    assert not app.is_running


def test_export_writes_json_and_text(wrong_host: Report, tmp_path: Path) -> None:
    import json

    app = create_app(wrong_host, output_dir=tmp_path)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ExportScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, ExportScreen)
        await pilot.press("e")
        await pilot.pause()
        await pilot.click("#kind-text")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()

    drive(app, scenario, size=(120, 40))
    data = json.loads((tmp_path / "mailtls-mail.example.test.json").read_text())
    assert len(data["endpoints"]) == 4
    text = (tmp_path / "mailtls-mail.example.test.txt").read_text()
    assert "server17.hoster.example" in text


def test_export_refuses_silent_overwrite_and_reports_bad_folder(
    wrong_host: Report, tmp_path: Path
) -> None:
    existing = tmp_path / "mailtls-mail.example.test.json"
    existing.write_text("keep me")
    app = create_app(wrong_host, output_dir=tmp_path)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, ExportScreen)
        assert "exists" in str(screen.query_one("#export-error", Static).render())
        assert existing.read_text() == "keep me"
        screen.query_one("#export-path").value = str(tmp_path / "no" / "such" / "dir" / "r.json")  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Could not write" in str(screen.query_one("#export-error", Static).render())

    drive(app, scenario)


def test_command_palette_lists_mailtls_actions(wrong_host: Report) -> None:
    app = create_app(wrong_host)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        assert isinstance(pilot.app, MailtlsApp)
        titles = [c.title for c in pilot.app.get_system_commands(pilot.app.screen)]
        for wanted in ("Re-check", "New check", "Export report", "Help", "Quit"):
            assert wanted in titles

    drive(app, scenario)


def test_finding_across_endpoints_is_listed_and_opens(wrong_host: Report) -> None:
    app = create_app(wrong_host)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        overview = pilot.app.screen
        assert isinstance(overview, OverviewScreen)
        rows = [i for i, (owner, _) in enumerate(overview.findings) if owner is None]
        assert rows, "the service's consistency finding is in the list"
        table = overview.query_one("#findings", DataTable)
        assert _cell_text(table, rows[0], 1) == "the check"
        table.focus()
        table.move_cursor(row=rows[0])
        await pilot.press("enter")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, FindingScreen)
        assert screen.endpoint_report is None
        assert screen.finding.rule_id == wrong_host.findings[0].rule_id

    drive(app, scenario)


def test_a_bug_in_a_screen_ends_with_one_line_not_a_traceback(
    wrong_host: Report, capsys: pytest.CaptureFixture[str]
) -> None:
    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        try:  # what Textual does when a handler raises
            raise RuntimeError("boom in a screen")
        except RuntimeError as exc:
            pilot.app._handle_exception(exc)
        await pilot.pause()

    with pytest.raises(RuntimeError, match="boom"):  # run_test re-raises it for pytest
        drive(create_app(wrong_host), scenario)
    err = capsys.readouterr().err
    assert "mailtls: internal error in the terminal UI: RuntimeError: boom" in " ".join(err.split())
    assert "Traceback" not in err

    with pytest.raises(RuntimeError, match="boom"):
        drive(create_app(wrong_host, debug=True), scenario)
    assert "Traceback" in capsys.readouterr().err  # mailtls --debug tui keeps it


def test_chain_view_lists_the_endpoint_problems_and_opens_one(wrong_host: Report) -> None:
    app = create_app(wrong_host)

    async def scenario(pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("enter")
        await pilot.pause()
        chain = pilot.app.screen
        assert isinstance(chain, ChainScreen)
        options = chain.query_one("#chain-findings", OptionList)
        assert options.option_count == len(chain.findings) >= 2
        options.focus()
        options.highlighted = 1
        await pilot.press("enter")
        await pilot.pause()
        finding = pilot.app.screen
        assert isinstance(finding, FindingScreen)
        assert finding.finding == chain.findings[1]
        assert finding.endpoint_report is chain.endpoint_report

    drive(app, scenario, size=(120, 40))


def test_overview_names_the_trust_store_and_its_hint() -> None:
    from dataclasses import replace

    report = make_report({"imaps": "wildcard-ok"})
    plain = create_app(report)

    async def without(pilot: Pilot[Any], messages: list[Message]) -> None:
        assert "Judged with" not in str(pilot.app.screen.query_one("#summary", Static).render())

    drive(plain, without)
    labelled = replace(
        report,
        options={
            "at": report.options["at"],
            "trust_store": "Apple trust store 2025072000 (156 roots)",
            "trust_store_hint": "Apple's trust store 2025072000 was imported 120 days ago; run `mailtls roots update`",
        },
    )

    async def named(pilot: Pilot[Any], messages: list[Message]) -> None:
        summary = str(pilot.app.screen.query_one("#summary", Static).render())
        assert "Judged with Apple trust store 2025072000 (156 roots)" in summary
        assert "imported 120 days ago" in summary

    drive(create_app(labelled), named)
