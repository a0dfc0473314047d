"""`make test` on a machine without Chromium: it installs it as root, or says in one line what to do."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "system-deps.sh"


@pytest.fixture(autouse=True)
def _isolation() -> Iterator[None]:
    """Overrides the conftest fixture: a shell script needs no database."""
    yield


@pytest.fixture(autouse=True)
def _clean_side_channels() -> None:
    """Overrides the conftest fixture: no Redis nor SMTP either."""


def run_unprivileged(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The script goes in on stdin and runs from /: `nobody` may not be allowed into the checkout.
    command = ["bash", "-s"]
    if os.geteuid() == 0:  # CI runs as root: try the non-root path as `nobody`
        if shutil.which("runuser") is None:
            pytest.skip("runuser is needed to try the script without root")
        command = ["runuser", "-u", "nobody", "--", *command]
    return subprocess.run(
        command,
        input=SCRIPT.read_text(),
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_without_root_a_missing_browser_stops_at_once_with_one_line():
    env = {"PATH": os.environ["PATH"], "CHROMIUM": "/nonexistent/chromium"}
    result = run_unprivileged(env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "apt-get install -y" in lines[0]
    assert "chromium" in lines[0]


def test_nothing_to_do_when_everything_is_there(tmp_path):
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    redis = tmp_path / "redis-server"
    redis.write_text("#!/bin/sh\n")
    redis.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "CHROMIUM": str(browser)}
    result = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
