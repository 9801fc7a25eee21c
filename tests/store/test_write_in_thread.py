"""Store.write_in_thread: one transaction run on the writer connection's own thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest


async def make_table(store):
    async with store.transaction() as db:
        await db.execute("CREATE TABLE scratch (n INTEGER NOT NULL)")


async def count(store):
    return await store.fetch_value("SELECT count(*) FROM scratch")


async def test_the_work_is_committed_and_its_result_returned(store):
    await make_table(store)
    seen = {}

    def work(conn):
        seen["thread"] = threading.get_ident()
        seen["in_transaction"] = conn.in_transaction
        conn.executemany("INSERT INTO scratch (n) VALUES (?)", [(1,), (2,), (3,)])
        row = conn.execute("SELECT sum(n) AS total FROM scratch").fetchone()
        return row["total"]  # rows are sqlite3.Row

    assert await store.write_in_thread(work) == 6
    assert await count(store) == 3  # visible to the reader connection: committed
    assert seen["in_transaction"] is True
    assert seen["thread"] != threading.get_ident()  # not on the event loop's thread


async def test_an_exception_rolls_everything_back_and_is_re_raised(store):
    await make_table(store)

    def work(conn):
        conn.execute("INSERT INTO scratch (n) VALUES (1)")
        raise ValueError("half done")

    with pytest.raises(ValueError, match="half done"):
        await store.write_in_thread(work)
    assert await count(store) == 0

    def failing_statement(conn):
        conn.execute("INSERT INTO scratch (n) VALUES (1)")
        conn.execute("INSERT INTO scratch (n) VALUES (NULL)")  # NOT NULL

    with pytest.raises(sqlite3.IntegrityError):
        await store.write_in_thread(failing_statement)
    assert await count(store) == 0

    # The writer is usable again afterwards, by both paths.
    await store.write_in_thread(lambda conn: conn.execute("INSERT INTO scratch (n) VALUES (7)"))
    async with store.transaction() as db:
        await db.execute("INSERT INTO scratch (n) VALUES (8)")
    assert await count(store) == 2


async def test_it_does_not_nest_inside_a_transaction(store):
    await make_table(store)
    with pytest.raises(RuntimeError, match="does not nest"):
        async with store.transaction() as db:
            await db.execute("INSERT INTO scratch (n) VALUES (1)")
            await store.write_in_thread(lambda conn: None)
    assert await count(store) == 0  # the outer transaction was rolled back


async def test_a_cancelled_caller_still_lets_the_work_finish_first(store):
    await make_table(store)
    started, release = threading.Event(), threading.Event()

    def work(conn):
        started.set()
        release.wait(5)
        conn.execute("INSERT INTO scratch (n) VALUES (1)")

    task = asyncio.create_task(store.write_in_thread(work))
    assert await asyncio.to_thread(started.wait, 5)
    task.cancel()
    await asyncio.sleep(0.05)
    assert not task.done()  # the worker thread cannot be interrupted: it is waited for
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await count(store) == 1  # the work ran to its end and was committed
    async with store.transaction() as db:  # the lock and the nesting guard were released
        await db.execute("INSERT INTO scratch (n) VALUES (2)")
    assert await count(store) == 2


async def test_concurrent_writers_are_serialized(store):
    await make_table(store)

    def work(conn):
        before = conn.execute("SELECT count(*) FROM scratch").fetchone()[0]
        conn.execute("INSERT INTO scratch (n) VALUES (?)", (before,))

    async def via_transaction():
        async with store.transaction() as db:
            async with db.execute("SELECT count(*) FROM scratch") as cursor:
                before = (await cursor.fetchone())[0]
            await asyncio.sleep(0)
            await db.execute("INSERT INTO scratch (n) VALUES (?)", (before,))

    await asyncio.gather(
        *[store.write_in_thread(work) for _ in range(10)], *[via_transaction() for _ in range(10)]
    )
    rows = await store.fetch_all("SELECT n FROM scratch ORDER BY n")
    assert [row["n"] for row in rows] == list(range(20))  # each saw all the ones before it
