"""One rule for the database, whatever command opens it: created or migrated when needed, and
said so in one line on stderr; a database newer than the code, refused; the read-only side
(`serve`, `export --out`) never migrates."""

import sqlite3

import aiosqlite
import pytest

from bot.store import migrations
from tests.test_cli import threadbridge
from tests.web.test_serve_command import free_port

LATEST = migrations.bundled_migrations()[-1].version

# Each command as an operator types it on a fresh clone, and what it writes to stdout then.
COMMANDS = {
    "status": (["status"], "posts: 0"),
    "export": (["export"], "[]"),
    "digest": (["digest"], "quiet week"),
}


def schema_of(path):
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


async def database_at(path, version):
    """A database as an older threadbridge left it: the first `version` migrations applied."""
    async with aiosqlite.connect(path, isolation_level=None) as db:
        await migrations.upgrade(db, migrations.bundled_migrations()[:version])


@pytest.mark.parametrize("name", COMMANDS)
def test_a_fresh_folder_gets_its_database_said_once(tmp_path, name):
    arguments, shown = COMMANDS[name]
    first = threadbridge(*arguments, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert shown in first.stdout.lower()
    plural = "" if LATEST == 1 else "s"
    assert first.stderr.splitlines() == [
        f"threadbridge: database threadbridge.db created at schema {LATEST} "
        f"({LATEST} migration{plural})"
    ]
    assert schema_of(tmp_path / "threadbridge.db") == LATEST
    again = threadbridge(*arguments, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""
    assert again.stdout == first.stdout


@pytest.mark.parametrize("name", COMMANDS)
async def test_an_older_database_is_upgraded_and_said_so(tmp_path, name):
    await database_at(tmp_path / "threadbridge.db", 1)
    result = threadbridge(*COMMANDS[name][0], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    count = LATEST - 1
    assert result.stderr.splitlines() == [
        f"threadbridge: database threadbridge.db upgraded from schema 1 to {LATEST} "
        f"({count} migration{'' if count == 1 else 's'})"
    ]
    assert schema_of(tmp_path / "threadbridge.db") == LATEST


@pytest.mark.parametrize("name", COMMANDS)
def test_a_newer_database_is_refused_and_left_alone(tmp_path, name):
    path = tmp_path / "threadbridge.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {LATEST + 1}")
    result = threadbridge(*COMMANDS[name][0], cwd=tmp_path)
    assert result.returncode == 1
    assert (
        f"schema version {LATEST + 1}" in result.stderr and "upgrade threadbridge" in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert schema_of(path) == LATEST + 1


async def test_readers_refuse_an_older_database_and_leave_it_as_it_is(tmp_path):
    path = tmp_path / "threadbridge.db"
    await database_at(path, 1)
    exported = threadbridge("export", "--out", str(tmp_path / "site"), cwd=tmp_path)
    served = threadbridge("serve", "--port", str(free_port()), cwd=tmp_path)
    for result in (exported, served):
        assert result.returncode == 1
        assert "run `threadbridge db upgrade`" in result.stderr
        assert "Traceback" not in result.stderr
    assert schema_of(path) == 1
