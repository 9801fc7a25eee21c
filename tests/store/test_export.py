"""The export: posts with their comment trees, as `threadbridge export` writes them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
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
from bot.store import export as export_module
from bot.store.comments import (
    NewComment,
    add_comment,
    upsert_author,
)
from bot.store.export import export_posts, stream_posts
from bot.store.models import Source, SourceComment, SourcePost
from bot.store.posts import NewPost, add_post, save_source_post
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
from tests.test_cli import threadbridge


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


DEPTH = 500


def chain_post(depth: int, external_id: str = "deep") -> SourcePost:
    """A post whose comments each answer the one before, as a WordPress export can hold them."""
    return SourcePost(
        source="wordpress",
        external_id=external_id,
        title=f"A chain {depth} deep",
        comments=tuple(
            SourceComment(
                external_id=str(n),
                author_name="Ann",
                content_html=f"<p>reply {n}</p>",
                created_at=T0 + timedelta(seconds=n),
                parent_external_id=str(n - 1) if n > 1 else None,
            )
            for n in range(1, depth + 1)
        ),
    )


@contextlib.contextmanager
def recursion_limit(limit: int):
    """Reading the export back with the json module recurses once per level: only the test's
    reader needs the room."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


async def test_threadbridge_export_writes_a_reply_chain_500_deep(tmp_path):
    database = tmp_path / "deep.db"
    async with Store.open(database) as store:
        await save_source_post(store, chain_post(DEPTH))
        await save_source_post(store, chain_post(3, external_id="shallow"))
    env = {"DATABASE_PATH": str(database)}
    result = await asyncio.to_thread(threadbridge, "export", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    with recursion_limit(10 * DEPTH):
        deep, shallow = json.loads(result.stdout)
    bodies = []
    level = deep["comments"]
    while level:
        (comment,) = level
        bodies.append(comment["body"])
        level = comment["replies"]
    assert bodies == [f"<p>reply {n}</p>" for n in range(1, DEPTH + 1)]
    assert shallow["title"] == "A chain 3 deep"


async def test_the_export_reads_posts_a_page_at_a_time(store, monkeypatch):
    monkeypatch.setattr(export_module, "PAGE", 2)
    for n in range(5):
        await add_post(store, NewPost(source="test", external_id=f"p{n}", title=f"Post {n}"))
    statements: list[str] = []
    await store._reader.set_trace_callback(statements.append)
    stream = stream_posts(store)
    first = await anext(stream)
    pages_before_the_rest = sum("FROM posts" in s for s in statements)
    rest = [post async for post in stream]
    await store._reader.set_trace_callback(None)
    assert [p["title"] for p in [first, *rest]] == [f"Post {n}" for n in range(5)]
    assert pages_before_the_rest == 1
    assert sum("FROM posts" in s for s in statements) == 3
