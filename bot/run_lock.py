"""One bot per database: `threadbridge run` holds an OS lock on a file beside the database for
as long as it runs, so that a second bot on the same database refuses to start (two would
mirror every post twice and store every reply twice over).

The lock is the kernel's (flock): it is released when the process ends, however it ends (even by
SIGKILL), and needs no clean-up. The file stays, holding the pid of the bot that last ran.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

# `run_lock_held` holds a shared lock for microseconds: a bot starting then tries again, briefly.
PROBE_RETRIES = 10
PROBE_PAUSE_SECONDS = 0.01


class RunLockError(Exception):
    """The run lock cannot be taken: another bot holds it, or its file cannot be opened."""


def lock_path(database: Path) -> Path:
    """`<database>.lock`, beside the database file (a symlink's target, if it is one)."""
    target = database.resolve()
    return target.with_name(target.name + ".lock")


class RunLock:
    """Held from `take_run_lock` until closed, or until the process ends."""

    def __init__(self, path: Path, descriptor: int) -> None:
        self.path = path
        self._descriptor: int | None = descriptor

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the file releases its lock
            self._descriptor = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def take_run_lock(database: Path) -> RunLock:
    """Take the database's run lock at once, or raise RunLockError saying who holds it."""
    path = lock_path(database)
    if not path.parent.is_dir():
        raise RunLockError(f"the folder for the database does not exist: {path.parent}")
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise RunLockError(f"cannot open the lock file {path}: {error.strerror}") from error
    try:
        _lock_at_once(descriptor)
    except BlockingIOError:
        holder = _pid_in(descriptor)
        os.close(descriptor)
        who = f"another threadbridge (pid {holder})" if holder else "another threadbridge"
        raise RunLockError(
            f"{who} is already running on {database}; stop it first (one bot per database)"
        ) from None
    except OSError as error:
        os.close(descriptor)
        raise RunLockError(f"cannot lock {path}: {error.strerror}") from error
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
    return RunLock(path, descriptor)


def run_lock_held(database: Path) -> bool:
    """Whether a bot holds the database's run lock now. Asking takes a shared lock for an
    instant (never the file's creation): probes do not disturb each other, and a bot starting
    at that instant waits for it (see `_lock_at_once`)."""
    try:
        descriptor = os.open(lock_path(database), os.O_RDONLY)
    except OSError:
        return False  # no lock file: no bot ever ran on this database (or it cannot be read)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)  # and with it the shared lock, if it was taken
    return False


def _lock_at_once(descriptor: int) -> None:
    """Take the exclusive lock without waiting for a bot, but past a probe's instant."""
    for _ in range(PROBE_RETRIES):
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            time.sleep(PROBE_PAUSE_SECONDS)
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _pid_in(descriptor: int) -> str:
    text = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
    return text if text.isdigit() else ""
