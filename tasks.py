#!/usr/bin/env python3
"""Set-up and everyday commands, needing nothing but Python 3.11+.

    python3 tasks.py run     create .venv if needed, install threadbridge, run the bot (same pid)
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


def run(arguments: list[str]) -> int:
    ensure_environment()
    command = [str(BIN / "threadbridge"), "run", *arguments]
    if os.name == "nt":
        return subprocess.call(command)
    # The bot takes over this process (same pid): Ctrl-C, a service manager's SIGTERM and a
    # closing terminal's SIGHUP reach it, not a wrapper that would die and leave it running.
    sys.stdout.flush()
    os.execv(command[0], command)


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
    commands = {"run": run, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
