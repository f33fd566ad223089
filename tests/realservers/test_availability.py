"""When the rig cannot run: skip only on a developer's machine without root, never in CI."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.realservers import plugin


def test_not_root_skips_locally_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.delenv("CI", raising=False)
    reason = plugin.unavailable_action()
    assert reason is not None and "root" in reason


def test_not_root_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="root"):
        plugin.unavailable_action()


def test_root_without_the_servers_fails_and_names_the_install_script(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(plugin, "MASTER", "/nonexistent/postfix/master")
    with pytest.raises(pytest.fail.Exception, match="install-test-deps"):
        plugin.unavailable_action()


def test_available_here_when_root_with_both_servers_installed() -> None:
    if os.geteuid() != 0:
        pytest.skip("not root")
    assert plugin.unavailable_action() is None
