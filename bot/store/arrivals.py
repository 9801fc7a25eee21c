"""What arrived in the store since a moment: how the bot notices posts and web comments that
another program stored, without reading every table."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.database import Store


@dataclass(frozen=True, slots=True)
class Arrivals:
    """The newest post and comment ids at one moment: rows stored later have greater ids."""

    last_post_id: int
    last_comment_id: int


async def latest_arrivals(store: Store) -> Arrivals:
    """The newest post and comment ids (two lookups at the end of the tables' keys)."""
    row = await store.fetch_one(
        "SELECT (SELECT max(id) FROM posts) AS post_id, "
        "(SELECT max(id) FROM comments) AS comment_id"
    )
    assert row is not None
    return Arrivals(last_post_id=row["post_id"] or 0, last_comment_id=row["comment_id"] or 0)


# Ranges of the tables' keys only (tests/store/test_arrivals.py holds it to that).
MIRRORING_WAITS_SINCE = """
SELECT EXISTS (
    SELECT 1 FROM posts LEFT JOIN mirrors ON mirrors.post_id = posts.id
    WHERE posts.id > ?1
      AND (mirrors.post_id IS NULL OR mirrors.state IN ('new', 'mirroring'))
) OR EXISTS (
    -- NOT INDEXED: the range of new ids, not every visible comment by status.
    SELECT 1 FROM comments NOT INDEXED
    WHERE comments.id > ?2 AND comments.source = 'web' AND comments.status = 'visible'
      AND NOT EXISTS (SELECT 1 FROM web_comment_mirrors WHERE comment_id = comments.id)
      AND EXISTS (SELECT 1 FROM mirrors
                  WHERE post_id = comments.post_id AND state = 'mirrored')
)
"""


async def mirroring_waits_since(store: Store, since: Arrivals) -> bool:
    """Whether posts or web comments stored after `since` wait for mirroring: a post with no
    thread yet, or a visible web comment not yet posted in its post's thread.

    Only rows newer than `since` are looked at (ranges of the tables' keys), so the answer is
    cheap however large the store; Discord replies are passed over.
    """
    waiting = await store.fetch_value(
        MIRRORING_WAITS_SINCE,
        (since.last_post_id, since.last_comment_id),
    )
    return bool(waiting)
