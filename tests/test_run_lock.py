"""The run lock: one bot per database."""

import fcntl
import os

import pytest

from bot import run_lock
from bot.run_lock import RunLockError, lock_path, run_lock_held, take_run_lock
from tests.test_cli import threadbridge


def test_a_second_lock_on_the_same_database_is_refused_until_the_first_is_closed(tmp_path):
    database = tmp_path / "threadbridge.db"
    with take_run_lock(database) as held:
        assert held.path == tmp_path / "threadbridge.db.lock"
        with pytest.raises(RunLockError) as refused:
            take_run_lock(database)
        assert str(refused.value) == (
            f"another threadbridge (pid {os.getpid()}) is already running on {database}; "
            "stop it first (one bot per database)"
        )
    with take_run_lock(database):  # released on close
        pass


def test_the_lock_is_beside_the_database_a_link_points_to(tmp_path):
    (tmp_path / "data").mkdir()
    real = tmp_path / "data" / "threadbridge.db"
    link = tmp_path / "link.db"
    link.symlink_to(real)
    assert lock_path(link) == tmp_path / "data" / "threadbridge.db.lock"
    with take_run_lock(real), pytest.raises(RunLockError):
        take_run_lock(link)


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(RunLockError, match="the folder for the database does not exist"):
        take_run_lock(tmp_path / "nowhere" / "threadbridge.db")


def test_other_commands_run_while_a_bot_holds_the_lock(tmp_path):
    database = tmp_path / "threadbridge.db"
    env = {"DATABASE_PATH": str(database)}
    assert threadbridge("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    with take_run_lock(database):
        for command in (["db", "status"], ["status"], ["export"]):
            done = threadbridge(*command, cwd=tmp_path, env=env)
            assert done.returncode == 0, (command, done.stderr)


def test_the_probe_tells_whether_a_bot_holds_the_lock_and_takes_nothing(tmp_path):
    database = tmp_path / "threadbridge.db"
    assert not run_lock_held(database)
    assert not lock_path(database).exists()  # asking creates no file
    with take_run_lock(database):
        assert run_lock_held(database)
        assert run_lock_held(database)  # asking again changes nothing
    assert not run_lock_held(database)
    with take_run_lock(database):  # a probe left nothing behind
        pass


def test_a_bot_starting_during_a_probe_still_starts(tmp_path, monkeypatch):
    database = tmp_path / "threadbridge.db"
    take_run_lock(database).close()
    # A probe's shared lock, held until the starting bot pauses to try again.
    probe = os.open(lock_path(database), os.O_RDONLY)
    fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    pauses = []

    def probe_ends(seconds):
        pauses.append(seconds)
        os.close(probe)

    monkeypatch.setattr(run_lock.time, "sleep", probe_ends)
    with take_run_lock(database):
        assert len(pauses) == 1
