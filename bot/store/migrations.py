"""Applies the numbered SQL files of the `migrations` package, each in its own transaction."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import aiosqlite

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# A line of its own in a migration that rebuilds a table other tables refer to: SQLite's way
# (create the new table, copy, drop the old one, rename) needs foreign keys off while it runs.
_FOREIGN_KEYS_OFF = "-- threadbridge: foreign keys off"


class MigrationError(Exception):
    """A migration could not be applied, or the database is not one this code can use."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def foreign_keys_off(self) -> bool:
        """Whether it runs with foreign keys off; they are checked before it commits."""
        return any(line.strip() == _FOREIGN_KEYS_OFF for line in self.sql.splitlines())

    @property
    def reason(self) -> str:
        first = self.sql.lstrip().splitlines()[0] if self.sql.strip() else ""
        return first.removeprefix("--").strip()


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    current: int
    latest: int
    pending: tuple[Migration, ...]

    @property
    def up_to_date(self) -> bool:
        return self.current == self.latest


def _read(files: Traversable) -> list[Migration]:
    found: list[Migration] = []
    for entry in files.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    expected = list(range(1, len(found) + 1))
    if [migration.version for migration in found] != expected:
        versions = ", ".join(f"{migration.version:04d}" for migration in found)
        raise MigrationError(
            f"migrations must be numbered 0001, 0002, ... without gaps: {versions}"
        )
    return found


def bundled_migrations() -> list[Migration]:
    """The migrations shipped with this version of threadbridge (package data, not a cwd path)."""
    return _read(resources.files("migrations"))


def split_statements(sql: str) -> list[str]:
    """Split a script into statements; sqlite3.complete_statement knows about triggers' BEGIN/END.

    executescript() would commit first, so statements are run one by one inside our transaction.
    """
    statements: list[str] = []
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if _has_code(pending):
                statements.append(pending.strip())
            pending = ""
    if _has_code(pending):
        raise MigrationError(
            f"incomplete SQL statement at the end of the file: {pending.strip()!r}"
        )
    return statements


def _has_code(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in text.splitlines())


async def user_version(connection: aiosqlite.Connection) -> int:
    return await _pragma(connection, "user_version")


async def schema_status(
    connection: aiosqlite.Connection, migrations: list[Migration] | None = None
) -> SchemaStatus:
    migrations = bundled_migrations() if migrations is None else migrations
    current = await user_version(connection)
    latest = migrations[-1].version if migrations else 0
    pending = tuple(migration for migration in migrations if migration.version > current)
    return SchemaStatus(current=current, latest=latest, pending=pending)


async def upgrade(
    connection: aiosqlite.Connection, migrations: list[Migration] | None = None
) -> list[Migration]:
    """Apply every pending migration in order; return those applied.

    The connection must be in autocommit mode (isolation_level=None) so that BEGIN is ours.
    Each file and its user_version bump commit together, or not at all.
    """
    status = await schema_status(connection, migrations)
    if status.current > status.latest:
        raise MigrationError(
            f"the database is at schema version {status.current}, but this threadbridge only knows "
            f"versions up to {status.latest}: upgrade threadbridge, or use a backup made for this "
            "version"
        )
    applied: list[Migration] = []
    for migration in status.pending:
        foreign_keys = await _pragma(connection, "foreign_keys")
        if migration.foreign_keys_off:
            await connection.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction
        try:
            await _apply(connection, migration)
        finally:
            if migration.foreign_keys_off:
                await connection.execute(f"PRAGMA foreign_keys = {int(foreign_keys)}")
        applied.append(migration)
    return applied


async def _apply(connection: aiosqlite.Connection, migration: Migration) -> None:
    await connection.execute("BEGIN IMMEDIATE")
    try:
        # Rows that referred to nothing before it are not its doing: only new ones fail it.
        dangling = await _dangling_references(connection) if migration.foreign_keys_off else set()
        for statement in split_statements(migration.sql):
            await connection.execute(statement)
        if migration.foreign_keys_off:
            left = await _dangling_references(connection) - dangling
            if left:
                table, rowid, parent, _ = min(left, key=repr)
                raise MigrationError(
                    f"it would leave {len(left)} rows referring to rows that do not exist "
                    f"(e.g. {table} row {rowid}, in {parent})"
                )
        # PRAGMA takes no bound parameters; the version is an int we parsed ourselves.
        await connection.execute(f"PRAGMA user_version = {int(migration.version)}")
        await connection.execute("COMMIT")
    except (sqlite3.Error, MigrationError) as error:
        await connection.execute("ROLLBACK")
        raise MigrationError(
            f"migration {migration.version:04d}_{migration.name} failed and was rolled back: "
            f"{error}"
        ) from error


async def _dangling_references(connection: aiosqlite.Connection) -> set[tuple[str, int, str, int]]:
    async with connection.execute("PRAGMA foreign_key_check") as cursor:
        return {(row[0], row[1], row[2], row[3]) for row in await cursor.fetchall()}


async def _pragma(connection: aiosqlite.Connection, name: str) -> int:
    async with connection.execute(f"PRAGMA {name}") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0
