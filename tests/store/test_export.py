"""The export: posts with their comment trees, as `threadbridge export` writes them."""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from bot.comments.apply import apply_batch
from bot.comments.events import (
    Created,
    Edited,
    ReactionChanged,
)
from bot.store import Store
from bot.store.comments import (
    NewComment,
    add_comment,
    upsert_author,
)
from bot.store.export import export_posts
from bot.store.models import Source
from bot.store.posts import NewPost, add_post
from bot.store.web_comments import record_posted
from tests.comments.test_apply import (
    PICTURE,
    POLICY,
    T0,
    THREAD,
    by_message,
    mirrored_post,
    msg,
    sid,
    trees,
)


@pytest.fixture
async def post_id(store):
    return await mirrored_post(store)


async def test_export_shape(store, post_id):
    web_author = await upsert_author(store, Source.WEB, "web@example.org", "Web Person")
    web, _ = await add_comment(
        store,
        NewComment(
            post_id, web_author.id, "Web Person", "<p>site</p>", Source.WEB, T0, external_id="w1"
        ),
    )
    await record_posted(store, web, THREAD, [sid(1)])
    await apply_batch(
        store,
        [
            Created(msg(2, "reply to web", reply_to=1, attachments=(PICTURE,))),
            Created(msg(3, "top", author=200, name="Bo")),
            Edited(sid(3), THREAD, "top, edited", T0 + timedelta(minutes=9)),
            ReactionChanged(sid(3), THREAD, "👍", 1),
            ReactionChanged(sid(1), THREAD, "🎉", 1),
        ],
        POLICY,
    )
    await add_post(
        store, NewPost(source="test", external_id="lonely", title="No thread", url="https://x/2")
    )

    exported = await export_posts(store)
    json.dumps(exported)  # JSON-ready as it is
    assert [p["id"] for p in exported] == [post_id, post_id + 1]
    assert exported[1] == {
        "id": post_id + 1,
        "title": "No thread",
        "url": "https://x/2",
        "thread_id": None,
        "comments": [],
    }
    post = exported[0]
    assert (post["title"], post["url"], post["thread_id"]) == ("Post", None, str(THREAD))
    reply = await by_message(store, 2)
    top = await by_message(store, 3)
    assert post["comments"] == [
        {
            "id": web.id,
            "author": "Web Person",
            "author_id": None,
            "body": "<p>site</p>",
            "status": "visible",
            "source": "web",
            "discord_message_id": str(sid(1)),
            "created_at": T0.isoformat(),
            "edited_at": None,
            "attachments": [],
            "reactions": {"🎉": 1},
            "replies": [
                {
                    "id": reply.id,
                    "author": "Ann",
                    "author_id": "100",
                    "body": "reply to web",
                    "status": "visible",
                    "source": "discord",
                    "discord_message_id": str(sid(2)),
                    "created_at": (T0 + timedelta(seconds=2)).isoformat(),
                    "edited_at": None,
                    "attachments": [
                        {
                            "url": PICTURE.url,
                            "filename": "a.png",
                            "size": 1234,
                            "content_type": "image/png",
                        }
                    ],
                    "reactions": {},
                    "replies": [],
                }
            ],
        },
        {
            "id": top.id,
            "author": "Bo",
            "author_id": "200",
            "body": "top, edited",
            "status": "visible",
            "source": "discord",
            "discord_message_id": str(sid(3)),
            "created_at": (T0 + timedelta(seconds=3)).isoformat(),
            "edited_at": (T0 + timedelta(minutes=9)).isoformat(),
            "attachments": [],
            "reactions": {"👍": 1},
            "replies": [],
        },
    ]
    assert await export_posts(store, post_id + 1) == [exported[1]]
    with pytest.raises(LookupError):
        await export_posts(store, 12345)


async def test_export_uses_a_constant_number_of_queries_per_post(store, post_id):
    async def count_reads(events):
        await apply_batch(store, events, POLICY)
        statements: list[str] = []
        await store._reader.set_trace_callback(statements.append)
        await export_posts(store, post_id)
        await store._reader.set_trace_callback(None)
        return len(statements)

    few = await count_reads([Created(msg(1)), Created(msg(2, reply_to=1))])
    many = await count_reads([Created(msg(n, reply_to=n - 1)) for n in range(3, 60)])
    assert few == many


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees())
def test_export_nests_every_comment_under_its_parent_exactly_once(parents):
    async def scenario(path: Path):
        async with Store.open(path) as store:
            await mirrored_post(store)
            events = [
                Created(msg(i + 1, f"c{i}", reply_to=None if p is None else p + 1))
                for i, p in enumerate(parents)
            ]
            await apply_batch(store, events, replace(POLICY, max_depth=len(parents) + 1))
            return await export_posts(store)

    with tempfile.TemporaryDirectory() as folder:
        exported = asyncio.run(scenario(Path(folder) / "tree.db"))
    seen: list[tuple[str, str | None]] = []
    walk(exported[0]["comments"], None, seen)
    expected = {
        (str(sid(i + 1)), None if p is None else str(sid(p + 1))) for i, p in enumerate(parents)
    }
    assert len(seen) == len(parents)
    assert set(seen) == expected


def walk(comments, parent, seen):
    for comment in comments:
        seen.append((comment["discord_message_id"], parent))
        walk(comment["replies"], comment["discord_message_id"], seen)
