"""What arrived since a moment: cheap however large the store."""

import sqlite3

from bot.store.arrivals import (
    MIRRORING_WAITS_SINCE,
    Arrivals,
    latest_arrivals,
    mirroring_waits_since,
)
from bot.store.posts import save_source_post
from tests.mirror.test_mirroring import hostile_post


async def test_arrivals_of_an_empty_store_and_after_a_post(store):
    nothing = await latest_arrivals(store)
    assert nothing == Arrivals(last_post_id=0, last_comment_id=0)
    assert not await mirroring_waits_since(store, nothing)
    saved = await save_source_post(store, hostile_post())
    assert (await latest_arrivals(store)).last_post_id == saved.post.id
    assert await mirroring_waits_since(store, nothing)
    assert not await mirroring_waits_since(store, await latest_arrivals(store))


async def test_only_the_new_rows_are_read(store):
    # The status index would read every visible comment: the key range must be used instead.
    with sqlite3.connect(store.path) as db:
        plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + MIRRORING_WAITS_SINCE, (0, 0))]
    assert "SEARCH posts USING INTEGER PRIMARY KEY (rowid>?)" in plan
    assert "SEARCH comments USING INTEGER PRIMARY KEY (rowid>?)" in plan
    assert not [step for step in plan if step.startswith("SCAN") and "CONSTANT" not in step]
