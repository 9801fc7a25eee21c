"""`python3 tasks.py run` as an operator and a service manager use it, and the systemd unit.

These run tasks.py from the repository, where `python3 tasks.py test` set up .venv; without a
ready .venv they are skipped rather than install one."""

import asyncio
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import tasks
from tests.test_cli import clean_environment, emulator_env

ROOT = Path(tasks.__file__).resolve().parent
UNIT = ROOT / "deploy" / "threadbridge.service"
INSTALLED_AT = "/opt/threadbridge"

pytestmark = [
    pytest.mark.skipif(
        not tasks.environment_ready(), reason=".venv is not set up: run python3 tasks.py test"
    ),
    pytest.mark.skipif(os.name == "nt", reason="tasks.py hands its process over on POSIX only"),
]


def tasks_run(*arguments, cwd, env=None, command="run"):
    return subprocess.run(
        [sys.executable, str(ROOT / "tasks.py"), command, *arguments],
        cwd=cwd,
        env={**clean_environment(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_passes_the_bots_exit_status_through(tmp_path):
    # With a token the real bot runs (without one, the demo: tests/demo), and says what else
    # is missing.
    result = tasks_run(cwd=tmp_path, env={"DISCORD_TOKEN": "a-token"})
    assert result.returncode == 2
    assert "GUILD_ID: missing" in result.stderr


def test_bot_never_starts_the_demo_without_a_token(tmp_path):
    # What the service unit runs: a missing token stops it (exit 2, not restarted).
    result = tasks_run(cwd=tmp_path, command="bot")
    assert result.returncode == 2
    assert "DISCORD_TOKEN: missing" in result.stderr
    assert "demo" not in result.stdout
    assert "Traceback" not in result.stderr


def command_line_of(pid):
    """The process's arguments, where the system shows them (Linux's /proc)."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    return cmdline.read_bytes().split(b"\0") if cmdline.exists() else None


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name
)
async def test_run_becomes_the_bot_and_stops_cleanly_on_a_signal(
    emulator, community, tmp_path, signum
):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "tasks.py"),
        "run",
        cwd=tmp_path,
        env=emulator_env(emulator, community, tmp_path / "run.db"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await emulator.wait_for_event("GUILD_CREATE", timeout=30)
        arguments = command_line_of(process.pid)
        if arguments is not None:
            # The process tasks.py started as is the bot now: no wrapper left to signal.
            assert not any(argument.endswith(b"tasks.py") for argument in arguments), arguments
            assert any(argument.endswith(b"threadbridge") for argument in arguments), arguments
    finally:
        # What systemd, Docker, a closing terminal or Ctrl-C send to the pid they started.
        process.send_signal(signum)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    output = stderr.decode()
    assert process.returncode == 0, output
    events = [json.loads(line)["event"] for line in output.splitlines()]
    assert events.count("database created") == 1
    assert "starting" in events and events[-1] == "stopped"


def unit_here(tmp_path):
    """The unit as this machine would install it: the project here, this Python."""
    text = UNIT.read_text().replace(INSTALLED_AT, str(ROOT))
    text = text.replace("ExecStart=/usr/bin/python3 ", f"ExecStart={sys.executable} ")
    path = tmp_path / "threadbridge.service"
    path.write_text(text)
    return path


def service_settings(path):
    settings = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings[key] = value
    return settings


def test_the_service_unit_runs_the_bot_and_stops_it_gently(tmp_path):
    settings = service_settings(unit_here(tmp_path))
    assert settings["User"] and settings["User"] != "root"
    assert settings["Restart"] == "on-failure"
    assert settings["KillSignal"] == "SIGTERM" and int(settings["TimeoutStopSec"]) > 0
    assert settings["WorkingDirectory"] == str(ROOT)
    # Its command line works: the same program, asked for its help.
    command = [*shlex.split(settings["ExecStart"]), "--help"]
    result = subprocess.run(
        command,
        cwd=settings["WorkingDirectory"],
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: threadbridge run" in result.stdout
    assert "deploy/threadbridge.service" in (ROOT / "README.md").read_text()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is missing")
def test_systemd_accepts_the_service_unit(tmp_path):
    path = unit_here(tmp_path)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert path.name not in result.stderr, result.stderr
