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


async def upgrade_to(path, version):
    """A database at `version` of the bundled schema, to fill as an older threadbridge left it."""
    connection = await _connect(path)
    try:
        await upgrade(connection, bundled_migrations()[:version])
    finally:
        await connection.close()


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
    await upgrade_to(path, 7)
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


def snapshot(path):
    """Every row of every table, and the schema's foreign key problems."""
    with sqlite3.connect(path) as db:
        names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = {
            name: db.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall() for name in names
        }
        return rows, db.execute("PRAGMA foreign_key_check").fetchall()


async def test_web_comment_ids_keep_their_rows_and_references_through_the_rebuild(tmp_path):
    """0011 rebuilds the comments table: every row and id stays, every reference to a comment
    still holds and still cascades, and a web comment's id is still unique within its post."""
    path = tmp_path / "rebuilt.db"
    await upgrade_to(path, 10)
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            PRAGMA foreign_keys = ON;
            INSERT INTO posts (id, source, external_id, title, created_at)
                VALUES (1, 'feed', 'a', 'First', '2026-01-01'),
                       (2, 'feed', 'b', 'Second', '2026-01-01');
            INSERT INTO authors (id, source, external_id, name, first_seen_at)
                VALUES (1, 'discord', '42', 'alice', '2026-01-01'),
                       (2, 'web', 'bob@example.org', 'bob', '2026-01-01');
            INSERT INTO cases (id, guild_id, number, action, created_at)
                VALUES (1, 9, 1, 'hold', '2026-01-02');
            INSERT INTO comments (id, post_id, parent_id, author_id, author_name, body, status,
                                  source, external_id, discord_message_id, created_at,
                                  attachments, has_stickers, reply_to_message_id,
                                  status_case_id, status_at, thread_id)
                VALUES (1, 1, NULL, 1, 'alice', 'top', 'visible', 'discord', NULL, 6000,
                        '2026-01-02', '[{"url": "https://cdn.example/a.png"}]', 0, NULL,
                        NULL, NULL, 5000),
                       (2, 1, 1, 1, 'alice', 'reply', 'held', 'discord', NULL, 6001,
                        '2026-01-03', '[]', 1, 6000, 1, '2026-01-03', 5000),
                       (3, 1, NULL, 2, 'bob', 'from the site', 'visible', 'web', 'w1', NULL,
                        '2026-01-04', '[]', 0, NULL, NULL, NULL, NULL),
                       (4, 2, NULL, 2, 'bob', 'same id, other post', 'visible', 'web', 'w1',
                        NULL, '2026-01-05', '[]', 0, NULL, NULL, NULL, NULL);
            UPDATE cases SET comment_id = 2, post_id = 1;
            INSERT INTO comment_revisions (comment_id, body, replaced_at)
                VALUES (2, 'first words', '2026-01-03');
            INSERT INTO comment_reactions (comment_id, emoji, count) VALUES (1, '👍', 3);
            INSERT INTO comment_messages (message_id, comment_id, part) VALUES (7000, 3, 0);
            INSERT INTO web_comment_mirrors (comment_id, state, thread_id, updated_at)
                VALUES (3, 'posted', 5000, '2026-01-04');
            """
        )
    before, _ = snapshot(path)

    await upgrade_to(path, 11)

    after, dangling = snapshot(path)
    assert version(path) == 11
    assert after == before
    assert dangling == []
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        db.execute("PRAGMA foreign_keys = ON")
        indexes = {row[1] for row in db.execute("PRAGMA index_list(comments)")}
        assert "comments_web_id" in indexes and "comments_post_status" in indexes
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            db.execute(
                "INSERT INTO comments (post_id, author_id, author_name, body, source, "
                "external_id, created_at) VALUES (1, 2, 'bob', 'again', 'web', 'w1', 'x')"
            )
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            db.execute(
                "INSERT INTO comments (post_id, author_id, author_name, body, source, "
                "discord_message_id, created_at) VALUES (99, 1, 'alice', 'x', 'discord', 1, 'x')"
            )
        db.execute("DELETE FROM posts WHERE id = 1")  # its comments go, and what hangs on them
        assert db.execute("SELECT id FROM comments").fetchall() == [(4,)]
        for table in ("comment_revisions", "comment_reactions", "comment_messages"):
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        assert db.execute("SELECT comment_id, post_id FROM cases").fetchall() == [(None, None)]


async def test_a_migration_with_foreign_keys_off_must_leave_every_reference_whole(tmp_path):
    path = tmp_path / "dangling.db"
    migrations = [
        Migration(
            1,
            "tables",
            "-- two\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n"
            "CREATE TABLE b (a_id INTEGER REFERENCES a (id));\n"
            "INSERT INTO a VALUES (1);\nINSERT INTO b VALUES (1);",
        ),
        Migration(
            2,
            "loses_a_row",
            "-- rebuild a, forgetting its row\n"
            "-- threadbridge: foreign keys off\n"
            "CREATE TABLE a_new (id INTEGER PRIMARY KEY);\nDROP TABLE a;\n"
            "ALTER TABLE a_new RENAME TO a;",
        ),
    ]
    connection = await _connect(path)
    try:
        with pytest.raises(MigrationError, match=r"loses_a_row failed.*1 rows referring"):
            await upgrade(connection, migrations)
        # Foreign keys are back on for the connection's later work.
        async with connection.execute("PRAGMA foreign_keys") as cursor:
            assert tuple(await cursor.fetchone()) == (1,)
    finally:
        await connection.close()
    assert version(path) == 1
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT id FROM a").fetchall() == [(1,)]


async def test_references_broken_before_a_migration_do_not_stop_it(tmp_path):
    # Another program may have written with foreign keys off: not this migration's doing.
    path = tmp_path / "old_damage.db"
    first = Migration(
        1,
        "tables",
        "-- two\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n"
        "CREATE TABLE b (a_id INTEGER REFERENCES a (id));",
    )
    rebuild = Migration(
        2,
        "rebuild",
        "-- rebuild a\n-- threadbridge: foreign keys off\n"
        "CREATE TABLE a_new (id INTEGER PRIMARY KEY);\n"
        "INSERT INTO a_new SELECT id FROM a;\nDROP TABLE a;\n"
        "ALTER TABLE a_new RENAME TO a;",
    )
    connection = await _connect(path)
    try:
        await upgrade(connection, [first])
        await connection.execute("PRAGMA foreign_keys = OFF")
        await connection.execute("INSERT INTO b VALUES (7)")  # refers to nothing
        await connection.execute("PRAGMA foreign_keys = ON")
        assert [m.name for m in await upgrade(connection, [first, rebuild])] == ["rebuild"]
    finally:
        await connection.close()
    assert version(path) == 2
