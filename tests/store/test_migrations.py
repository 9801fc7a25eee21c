import sqlite3

import pytest

from bot.store import Store, StoreError, read_schema_status, upgrade_database
from bot.store.database import _connect
from bot.store.migrations import (
    Migration,
    MigrationError,
    bundled_migrations,
    split_statements,
    upgrade,
)

EXPECTED_TABLES = {
    "meta",
    "posts",
    "mirrors",
    "authors",
    "comments",
    "comment_revisions",
    "cases",
    "digests",
    "feeds",
}


def tables(path):
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def version(path):
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


def dump(path):
    with sqlite3.connect(path) as db:
        return list(db.iterdump()), db.execute("PRAGMA user_version").fetchone()[0]


def test_bundled_migrations_are_numbered_and_explained():
    migrations = bundled_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert all(m.reason for m in migrations)


async def test_fresh_database_gets_the_whole_schema(tmp_path):
    path = tmp_path / "fresh.db"
    applied = await upgrade_database(path)
    assert [m.version for m in applied] == [m.version for m in bundled_migrations()]
    assert tables(path) >= EXPECTED_TABLES
    assert version(path) == bundled_migrations()[-1].version
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_rerun_is_a_no_op(tmp_path):
    path = tmp_path / "again.db"
    await upgrade_database(path)
    before = dump(path)
    assert await upgrade_database(path) == []
    assert dump(path) == before


async def test_failing_migration_rolls_back_completely(tmp_path):
    path = tmp_path / "broken.db"
    await upgrade_database(path)
    before = dump(path)
    latest = bundled_migrations()[-1].version
    broken = Migration(
        latest + 1,
        "half_done",
        "-- Adds a table, then fails.\n"
        "CREATE TABLE extra (id INTEGER PRIMARY KEY);\n"
        "INSERT INTO extra VALUES (1);\n"
        "INSERT INTO no_such_table VALUES (1);\n",
    )
    connection = await _connect(path)
    try:
        with pytest.raises(MigrationError, match="half_done failed and was rolled back"):
            await upgrade(connection, [*bundled_migrations(), broken])
    finally:
        await connection.close()
    assert dump(path) == before
    assert "extra" not in tables(path)


async def test_migrations_apply_in_order_each_with_its_version(tmp_path):
    path = tmp_path / "ordered.db"
    migrations = [
        Migration(1, "first", "-- one\nCREATE TABLE a (id INTEGER);"),
        Migration(2, "second", "-- two\nCREATE TABLE b (a_id INTEGER);\nINSERT INTO b VALUES (1);"),
        Migration(3, "third", "-- three\nINSERT INTO nowhere VALUES (1);"),
    ]
    connection = await _connect(path)
    try:
        with pytest.raises(MigrationError):
            await upgrade(connection, migrations)
    finally:
        await connection.close()
    assert version(path) == 2
    assert {"a", "b"} <= tables(path)


async def test_newer_database_is_refused(tmp_path):
    path = tmp_path / "future.db"
    await upgrade_database(path)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 999")
    with pytest.raises(StoreError, match="999"):
        await upgrade_database(path)
    with pytest.raises(StoreError, match="upgrade threadbridge"):
        async with Store.open(path):
            pass
    status = await read_schema_status(path)
    assert status.current == 999


async def test_open_says_what_it_created_and_applied(tmp_path):
    everything = tuple(bundled_migrations())
    async with Store.open(tmp_path / "new.db") as store:
        assert store.created and store.applied == everything
    async with Store.open(tmp_path / "new.db") as store:
        assert not store.created and store.applied == ()
    older = await _connect(tmp_path / "older.db")
    await upgrade(older, list(everything[:-1]))
    await older.close()
    async with Store.open(tmp_path / "older.db") as store:
        assert not store.created and store.applied == everything[-1:]


async def test_open_without_upgrade_refuses_an_old_database(tmp_path):
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()
    with pytest.raises(StoreError, match="db upgrade"):
        async with Store.open(path, upgrade=False):
            pass
    assert version(path) == 0


async def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("these are not the tables you are looking for" * 100)
    with pytest.raises(StoreError, match="not a usable SQLite database"):
        async with Store.open(path):
            pass


async def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="folder"):
        await upgrade_database(tmp_path / "no" / "such" / "x.db")


async def test_status_of_a_missing_database_changes_nothing(tmp_path):
    path = tmp_path / "absent.db"
    status = await read_schema_status(path)
    assert status.current == 0
    assert len(status.pending) == len(bundled_migrations())
    assert not path.exists()


def test_split_statements_keeps_triggers_whole():
    script = (
        "-- reason\n"
        "CREATE TABLE t (x INTEGER);\n"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
        "  UPDATE t SET x = x + 1;\n"
        "  DELETE FROM t WHERE x > 5;\n"
        "END;\n"
        "-- trailing comment\n"
    )
    statements = split_statements(script)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


def test_split_statements_refuses_an_unfinished_statement():
    with pytest.raises(MigrationError, match="incomplete"):
        split_statements("CREATE TABLE t (x INTEGER)")


async def test_discord_comments_get_the_thread_they_were_written_in(tmp_path):
    """0008: a stored Discord comment is in its post's current thread, unless it is older than
    that thread (written in a thread since lost: no thread); web comments are in none."""
    path = tmp_path / "threads.db"
    connection = await _connect(path)
    try:
        await upgrade(connection, bundled_migrations()[:7])
    finally:
        await connection.close()
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            INSERT INTO posts (id, source, external_id, title, created_at)
                VALUES (1, 'feed', 'a', 'Reposted', '2026-01-01'),
                       (2, 'feed', 'b', 'Never mirrored', '2026-01-01');
            INSERT INTO mirrors (post_id, state, thread_id, updated_at)
                VALUES (1, 'mirrored', 5000, '2026-01-01');
            INSERT INTO authors (id, source, external_id, name, first_seen_at)
                VALUES (1, 'discord', '42', 'alice', '2026-01-01');
            INSERT INTO comments (id, post_id, author_id, author_name, body, source,
                                  discord_message_id, external_id, created_at)
                VALUES (1, 1, 1, 'alice', 'in the current thread', 'discord', 6000, NULL, 'x'),
                       (2, 1, 1, 'alice', 'in the lost thread', 'discord', 4000, NULL, 'x'),
                       (3, 1, 1, 'alice', 'from the site', 'web', NULL, 'w1', 'x'),
                       (4, 2, 1, 'alice', 'no mirror', 'discord', 7000, NULL, 'x');
            """
        )
    await upgrade_database(path)
    with sqlite3.connect(path) as db:
        threads = dict(db.execute("SELECT id, thread_id FROM comments ORDER BY id"))
    assert threads == {1: 5000, 2: None, 3: None, 4: None}
