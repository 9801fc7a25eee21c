#!/usr/bin/env python3
"""Set-up and everyday commands, needing nothing but Python 3.11+.

    python3 tasks.py run     create .venv if needed, install threadbridge, run the bot (same pid);
                             without a DISCORD_TOKEN configured, run the demo instead
    python3 tasks.py bot     the same, never the demo: without a token it stops (exit 2), as
                             a service should (deploy/threadbridge.service)
    python3 tasks.py demo    the demo: the whole loop against a local stand-in for Discord
    python3 tasks.py test    create .venv if needed, install with test tools, run lint, types, tests

Extra arguments after `test` go to pytest (e.g. `python3 tasks.py test -k store`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _fingerprint() -> str:
    # Reinstall when the project's dependencies change, not on every call.
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def _marker(extras: str) -> Path:
    return VENV / f".installed-{extras or 'base'}"


def environment_ready(extras: str = "") -> bool:
    """Whether .venv holds threadbridge installed for the current pyproject.toml."""
    wanted = _fingerprint()
    # An install with the test extras also serves `run`: no reinstall when switching.
    acceptable = ["test"] if extras == "test" else ["", "test"]
    return PYTHON.exists() and any(
        _marker(name).exists() and _marker(name).read_text() == wanted for name in acceptable
    )


def ensure_environment(extras: str = "") -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - tasks.py may be run by an older python3
        sys.exit(f"threadbridge needs Python 3.11 or newer, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if environment_ready(extras):
        return
    wanted = _fingerprint()
    target = f".[{extras}]" if extras else "."
    print(f"installing threadbridge{f' with {extras} extras' if extras else ''}", flush=True)
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", "--editable", target],
        cwd=ROOT,
        check=True,
    )
    _marker(extras).write_text(wanted)


DEMO_BANNER = """\
This is the threadbridge demo: it runs against a local stand-in for Discord, a made-up
community on this machine (nothing reaches Discord; no account needed).
To connect a real Discord server, follow "Setting up the Discord application" in README.md,
put DISCORD_TOKEN and the other settings in .env, and run `python3 tasks.py run` again.
"""


def _dotenv_value(path: Path, name: str) -> str | None:
    """The value a .env file gives `name` (any case), read as the bot's settings read it:
    `[export ]NAME=value`, quoted or with a ` #` comment after it; the last line wins."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, equals, value = line.partition("=")
        if not equals or key.strip().lower() != name:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] in "'\"" and value[0] in value[1:]:
            value = value[1 : value.index(value[0], 1)]
        elif value.startswith("#"):
            value = ""
        else:
            value = value.split(" #", 1)[0]
        found = value.strip()
    return found


def token_configured(directory: Path) -> bool:
    """Whether the bot would find a DISCORD_TOKEN: in the environment (which wins, whatever
    the case of its name), else in `directory`'s .env. An empty value is no token."""
    for key, value in os.environ.items():
        if key.lower() == "discord_token":
            return bool(value.strip())
    return bool(_dotenv_value(directory / ".env", "discord_token"))


def run(arguments: list[str]) -> int:
    if not token_configured(Path.cwd()):
        # A first look: the whole loop without a Discord account, said before anything else.
        print("No DISCORD_TOKEN is configured, so the demo starts instead.", flush=True)
        return demo(arguments)
    return bot(arguments)


def bot(arguments: list[str]) -> int:
    ensure_environment()
    command = [str(BIN / "threadbridge"), "run", *arguments]
    if os.name == "nt":
        return subprocess.call(command)
    # The bot takes over this process (same pid): Ctrl-C, a service manager's SIGTERM and a
    # closing terminal's SIGHUP reach it, not a wrapper that would die and leave it running.
    sys.stdout.flush()
    os.execv(command[0], command)


def demo(arguments: list[str]) -> int:
    print(DEMO_BANNER, flush=True)
    ensure_environment()
    # The demo runs from this folder, like discord_emulator: not installed with threadbridge.
    # -P: the working directory's own folders never stand in for the project's.
    command = [str(PYTHON), "-P", "-m", "demo", *arguments]
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    if os.name == "nt":
        return subprocess.call(command, env=environment)
    # As for `run`: Ctrl-C and SIGTERM reach the demo itself, which stops everything it started.
    sys.stdout.flush()
    os.execve(command[0], command, environment)


CHROMIUM = Path("/usr/bin/chromium")


def ensure_browser() -> None:
    """The web pages are tested in Debian's Chromium: install it when it is missing and this
    process may (root, with apt-get), else say what the browser tests will do without it."""
    if CHROMIUM.exists():
        return
    apt_get = shutil.which("apt-get")
    if apt_get is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print(
            f"{CHROMIUM} is missing: the browser tests will be skipped (failed under CI=true); "
            "install it with `apt-get install chromium`",
            flush=True,
        )
        return
    print("installing chromium for the browser tests (apt-get)", flush=True)
    quiet = {"stdout": subprocess.DEVNULL}
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([apt_get, "update", "-qq"], check=True, env=environment, **quiet)
    subprocess.run(
        [apt_get, "install", "-y", "-qq", "--no-install-recommends", "chromium"],
        check=True,
        env=environment,
        **quiet,
    )


def test(arguments: list[str]) -> int:
    ensure_environment("test")
    ensure_browser()
    steps = [
        ["ruff", "check", "."],
        ["mypy"],
        ["pytest", *arguments],
    ]
    for step in steps:
        print(f"$ {' '.join(step)}", flush=True)
        status = subprocess.call([str(BIN / step[0]), *step[1:]], cwd=ROOT)
        if status != 0:
            print(f"failed: {' '.join(step)} (exit {status})", flush=True)
            return status
    return 0


def main() -> int:
    commands = {"run": run, "bot": bot, "demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
