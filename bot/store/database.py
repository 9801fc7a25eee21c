"""The store's connections and its single transaction helper."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.internals import run_on_connection_thread
from bot.store import migrations

BUSY_TIMEOUT_MS = 5_000
# The WAL is copied back into the database by a connection of its own, on its own thread, every
# half second after writes: the writer then never waits for a checkpoint to copy pages.
CHECKPOINT_SECONDS = 0.5
# A WAL starts over from its beginning only once all of it has been copied back, and under a
# steady stream the writer appends more while each background checkpoint copies: the WAL keeps
# growing (about 24 MB/s at 1,000 comments/s) until the stream pauses. Past this many pages
# (about 100 MB), the writer copies what it appended since the last background checkpoint right
# after its next commit (2-3 ms), and the write after starts the WAL afresh.
RESTART_WAL_PAGES = 25_000
# The writer's own automatic checkpoint, a backstop only: it copies everything not yet copied
# (up to half a second of writes, 15-20 ms at 1,000 comments/s), a stall for every reply then.
WRITER_CHECKPOINT_PAGES = 100_000
# Page cache per connection (SQLite's default is 2 MiB). Reads of a whole conversation want
# room. The writer mostly touches the newest end of each index and each post's latest entries:
# 8 MiB holds that for hundreds of busy threads (2 MiB did not: every insert re-read pages),
# and ingest ran as fast as with 32 MiB, which a cache fills with pages touched once.
READ_CACHE_MIB = 32
WRITE_CACHE_MIB = 8

# SQLite's primary result codes for a database that cannot take a write right now, whatever was
# asked of it: busy or locked by another connection, disk full, I/O error, unopenable file,
# read-only file, a WAL locking protocol failure.
_UNAVAILABLE = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_PROTOCOL,
    }
)

T = TypeVar("T")

_in_transaction: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "threadbridge_in_transaction", default=False
)


class StoreError(Exception):
    """The database cannot be used as asked (wrong version, unreadable file, ...)."""


def database_unavailable(error: BaseException) -> bool:
    """Whether SQLite refused for a reason of its own (disk full, the write lock held by another
    program past the busy timeout, an I/O error...) rather than because of what was written: the
    same write may succeed once the database is available again."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    # Extended result codes (e.g. SQLITE_IOERR_WRITE) carry the primary one in the low byte.
    return code is not None and (code & 0xFF) in _UNAVAILABLE


class _Reads:
    """The read helpers shared by the store and its read-only twin."""

    _reader: aiosqlite.Connection

    async def fetch_all(self, sql: str, parameters: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._reader.execute(sql, tuple(parameters)) as cursor:
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, parameters: Iterable[Any] = ()) -> sqlite3.Row | None:
        async with self._reader.execute(sql, tuple(parameters)) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
            return row

    async def fetch_value(self, sql: str, parameters: Iterable[Any] = ()) -> Any:
        row = await self.fetch_one(sql, parameters)
        return None if row is None else row[0]

    async def data_version(self) -> int:
        """A number that changes whenever another connection commits a change (SQLite's
        data_version, asked on the read connection): what the web side's caches are keyed on."""
        return int(await self.fetch_value("PRAGMA data_version"))


class Store(_Reads):
    """One write connection (every write through `transaction()` or `write_in_thread()`) and
    one read connection.

    Reads go through their own connection so that they never observe a transaction that another
    task has begun but not committed on the writer.
    """

    def __init__(
        self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection
    ) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        self._writes = 0  # transactions committed (or tried) since opening
        # Set by the background checkpoint: copy the last pages of the WAL after the next commit.
        self._finish_checkpoint = False
        # What opening it did: whether the file was new, and the migrations applied (in order).
        self.created = False
        self.applied: tuple[migrations.Migration, ...] = ()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, path: Path | str, *, upgrade: bool = True) -> AsyncIterator[Store]:
        """Open (creating if needed) the database; apply pending migrations unless told not to.
        The store's `created` and `applied` say what this did, for the caller to tell.

        Without `upgrade`, a database that is not exactly at the latest schema is refused.
        """
        path = Path(path)
        _require_folder(path)
        existed = _exists(path)
        writer = await _connect(path, cache_mib=WRITE_CACHE_MIB)
        try:
            applied = await _check_version(writer, upgrade=upgrade)
            reader = await _connect(path)
        except BaseException:
            await writer.close()
            raise
        store = cls(path, writer, reader)
        store.created = not existed
        store.applied = tuple(applied)
        try:
            checkpointer = await _connect(path, cache_mib=2)  # it copies the WAL, reads nothing
        except BaseException:
            await reader.close()
            await writer.close()
            raise
        checkpoints = asyncio.create_task(
            store._checkpoint_after_writes(checkpointer), name="checkpoints"
        )
        try:
            yield store
        finally:
            checkpoints.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checkpoints
            await checkpointer.close()
            await reader.close()
            await writer.close()

    async def _checkpoint_after_writes(self, checkpointer: aiosqlite.Connection) -> None:
        """Copy the WAL into the database now and then, on a connection of its own (PASSIVE: it
        never blocks the writer or readers). Closing the last connection checkpoints the rest."""
        done = 0
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            if self._writes == done:
                continue
            written = self._writes
            with contextlib.suppress(sqlite3.Error):  # tried again after the next writes
                self._finish_checkpoint = await _checkpoint(checkpointer) >= RESTART_WAL_PAGES
                done = written

    async def others_data_version(self) -> int:
        """A number that changes whenever another connection commits a change: another program
        (`threadbridge import`, a script) or another Store on the same file; this store's own
        writes leave it as it is (SQLite's data_version, asked on the writer, between its
        transactions)."""
        async with self._write_lock, self._writer.execute("PRAGMA data_version") as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception. Writes happen only here."""
        if _in_transaction.get():
            raise RuntimeError("transaction() does not nest: pass the connection down instead")
        async with self._write_lock:
            token = _in_transaction.set(True)
            self._writes += 1
            try:
                await self._begin()
                try:
                    yield self._writer
                except BaseException:
                    await self._writer.execute("ROLLBACK")
                    raise
                await self._writer.execute("COMMIT")
                if self._take_finish_checkpoint():
                    with contextlib.suppress(sqlite3.Error):  # committed all the same
                        await _checkpoint(self._writer)
            finally:
                _in_transaction.reset(token)

    def _take_finish_checkpoint(self) -> bool:
        finish, self._finish_checkpoint = self._finish_checkpoint, False
        return finish

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE. The writer's thread runs it even when the awaiting task is cancelled
        meanwhile: the transaction it then opens is rolled back before the cancellation goes on,
        or the connection would stay inside it and refuse every later write."""
        begin = asyncio.ensure_future(self._writer.execute("BEGIN IMMEDIATE"))
        try:
            await asyncio.shield(begin)
        except asyncio.CancelledError:
            await asyncio.wait([begin])
            if not begin.cancelled() and begin.exception() is None:
                await self._writer.execute("ROLLBACK")
            raise

    async def write_in_thread(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` inside one BEGIN IMMEDIATE transaction on the writer connection's own thread:
        one thread hop for a whole batch instead of one per statement (hot paths only).

        `work` gets the raw sqlite3 connection (rows are sqlite3.Row); it runs off the event
        loop but holds the writer (its thread and the write lock) until it returns, so it should
        do nothing but database work. Committed if it returns, rolled back if it raises (the
        exception is re-raised here). Like `transaction()`, it does not nest.

        The worker thread cannot be interrupted: if the awaiting task is cancelled, `work` still
        runs to its end (commit or rollback) before the write lock is released, and the
        cancellation is then re-raised.
        """
        if _in_transaction.get():
            raise RuntimeError("transaction() does not nest: pass the connection down instead")
        writer = self._writer

        async with self._write_lock:
            token = _in_transaction.set(True)
            self._writes += 1
            try:
                finish = self._take_finish_checkpoint()
                done: asyncio.Future[T] = asyncio.ensure_future(
                    run_on_connection_thread(
                        writer, lambda db: _run_in_transaction(db, work, finish_checkpoint=finish)
                    )
                )
                try:
                    return await asyncio.shield(done)
                except asyncio.CancelledError:
                    if not done.done():
                        await asyncio.wait([done])
                    raise
            finally:
                _in_transaction.reset(token)


class ReadStore(_Reads):
    """A read-only connection to the store: the web side reads through it, so that nothing it
    does can write, and several servers may read one database (or copies of it)."""

    def __init__(self, path: Path, reader: aiosqlite.Connection) -> None:
        self.path = path
        self._reader = reader

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, path: Path | str) -> AsyncIterator[ReadStore]:
        """Open an existing database at the latest schema; StoreError otherwise (a reader
        cannot create or migrate it)."""
        path = Path(path)
        if not _exists(path):
            raise StoreError(
                f"there is no database at {path}: run `threadbridge db upgrade` or the bot first"
            )
        reader = await _connect(path, read_only=True)
        try:
            await _check_version(reader, upgrade=False)
            yield cls(path, reader)
        finally:
            await reader.close()


async def _checkpoint(connection: aiosqlite.Connection) -> int:
    """A PASSIVE checkpoint (it never waits for the writer or readers): the WAL's size in
    pages, as it found it."""
    async with connection.execute("PRAGMA wal_checkpoint(PASSIVE)") as cursor:
        row = await cursor.fetchone()
    # (busy, pages in the WAL, pages copied back); -1 when the database is not in WAL mode.
    return int(row[1]) if row is not None else 0


def _run_in_transaction(
    connection: sqlite3.Connection,
    work: Callable[[sqlite3.Connection], T],
    *,
    finish_checkpoint: bool = False,
) -> T:
    connection.execute("BEGIN IMMEDIATE")
    try:
        result = work(connection)
    except BaseException:
        # SQLite may already have rolled back by itself (e.g. on SQLITE_FULL).
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    try:
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    if finish_checkpoint:
        with contextlib.suppress(sqlite3.Error):  # committed all the same; the next one tries
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    return result


async def _connect(
    path: Path, *, read_only: bool = False, cache_mib: int = READ_CACHE_MIB
) -> aiosqlite.Connection:
    # isolation_level=None: no implicit BEGIN, so transaction() and migrations own the boundaries.
    try:
        if read_only:
            location = f"{(await asyncio.to_thread(path.resolve)).as_uri()}?mode=ro"
            connection = await aiosqlite.connect(location, uri=True, isolation_level=None)
        else:
            connection = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as error:
        raise StoreError(f"cannot open the database {path}: {error}") from error
    connection.row_factory = sqlite3.Row
    try:
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if read_only:
            await connection.execute("PRAGMA query_only = ON")
        else:
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute(f"PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}")
        await connection.execute(f"PRAGMA cache_size = -{cache_mib * 1024}")
    except sqlite3.DatabaseError as error:
        await connection.close()
        raise StoreError(f"{path} is not a usable SQLite database: {error}") from error
    return connection


async def _check_version(
    connection: aiosqlite.Connection, *, upgrade: bool
) -> list[migrations.Migration]:
    """The migrations applied (with `upgrade`); StoreError if the schema cannot be used."""
    try:
        if upgrade:
            return await migrations.upgrade(connection)
        status = await migrations.schema_status(connection)
    except migrations.MigrationError as error:
        raise StoreError(str(error)) from error
    if status.current > status.latest:
        raise StoreError(
            f"the database is at schema version {status.current}, newer than this threadbridge "
            f"knows ({status.latest}): upgrade threadbridge"
        )
    if status.pending:
        raise StoreError(
            f"the database is at schema version {status.current}, {len(status.pending)} "
            "migration(s) behind: run `threadbridge db upgrade`"
        )
    return []


async def read_schema_status(path: Path) -> migrations.SchemaStatus:
    """Where the database at `path` stands against the bundled migrations, changing nothing."""
    if not _exists(path):
        return migrations.SchemaStatus(
            0, migrations.bundled_migrations()[-1].version, tuple(migrations.bundled_migrations())
        )
    connection = await _connect(path)
    try:
        return await migrations.schema_status(connection)
    finally:
        await connection.close()


async def upgrade_database(path: Path) -> list[migrations.Migration]:
    """Apply the pending migrations to the database at `path` (created if absent)."""
    _require_folder(path)
    connection = await _connect(path)
    try:
        return await migrations.upgrade(connection)
    except migrations.MigrationError as error:
        raise StoreError(str(error)) from error
    finally:
        await connection.close()


def _require_folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise StoreError(f"the folder for the database does not exist: {path.parent}")


def _exists(path: Path) -> bool:
    return path.exists()
