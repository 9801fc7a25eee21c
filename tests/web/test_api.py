"""The JSON API and pages against a real store: what is public, trees and pages, caching,
errors and limits. Every JSON answer is checked against the OpenAPI document (conftest)."""

from __future__ import annotations

import gzip
import re
from datetime import timedelta

import aiohttp
import feedparser
import pytest

from bot.comments.apply import apply_batch
from bot.comments.events import Created, Deleted, Edited, ReactionsSet
from bot.store import Store
from bot.store.authors import give_publish_consent, opt_out, withdraw_publish_consent
from bot.store.comments import find_comment_by_message, set_comment_status
from bot.store.mirrors import record_mirror
from bot.store.models import CommentStatus, MirrorState
from bot.store.posts import NewPost, add_post, save_source_post
from tests.comments.test_apply import POLICY, T0, THREAD, msg, sid
from tests.comments.test_live import eventually
from tests.mirror.test_mirroring import seed_post
from tests.web.conftest import GUILD, SITE_URL, served, site_settings

SEED_URL = "https://notes.example.org/2015/03/ai-weiwei-still-not-sorry/"
TALK_URL = "https://notes.example.org/2025/03/talk/"
ANN, BOB, CAROL = 100_000_000_000_000_001, 100_000_000_000_000_002, 100_000_000_000_000_003


@pytest.fixture
async def store(tmp_path):
    async with Store.open(tmp_path / "site.db") as opened:
        await save_source_post(opened, seed_post())
        post, _ = await add_post(
            opened,
            NewPost(
                source="test",
                external_id="talk",
                title="Let's talk",
                url=TALK_URL,
                content_html="<p>What do you think?</p>",
                published_at=T0,
            ),
        )
        await record_mirror(opened, post.id, MirrorState.MIRRORED, thread_id=THREAD)
        yield opened


@pytest.fixture
async def site(store):
    async with served(site_settings(store.path)) as serving:
        yield serving


async def write(store, *events):
    await apply_batch(store, list(events), POLICY)


def said(n, content, author=ANN, name="Ann", **options):
    return Created(msg(n, content, author=author, name=name, **options))


async def talk(site, path="", **options):
    answer = await site.get(f"/api/v1/comments?url={TALK_URL}{path}", **options)
    assert answer.status == 200, answer.text
    return answer


def ids(comments):
    return [(c["id"], c["placeholder"], ids(c["replies"])) for c in comments]


async def changed(site, before, path=""):
    """The talk post's answer once it differs from `before` (the site rereads within 0.25 s)."""

    async def check():
        answer = await talk(site, path)
        return answer if answer.body != before.body else None

    return await eventually(check)


async def test_the_seed_posts_comments_by_its_address_in_any_of_its_forms(site):
    forms = [
        SEED_URL,
        SEED_URL.rstrip("/"),
        SEED_URL.replace("https", "http"),
        SEED_URL + "?utm_source=news#comments",
        SEED_URL.upper().replace(
            "/2015/03/AI-WEIWEI-STILL-NOT-SORRY/", "/2015/03/ai-weiwei-still-not-sorry/"
        ),
    ]
    bodies = set()
    for form in forms:
        answer = await site.get("/api/v1/comments", params={"url": form})
        assert answer.status == 200, form
        bodies.add(answer.body)
    assert len(bodies) == 1
    page = answer.json()
    assert page["post"]["title"] == "Ai WeiWei: Still Not Sorry"
    assert page["post"]["comment_count"] == 24
    assert page["post"]["page_url"] == f"{SITE_URL}/posts/{page['post']['id']}"
    assert page["top_level_count"] == 22
    deepest = [c for c in page["comments"] if c["replies"] and c["replies"][0]["replies"]]
    (bill,) = deepest
    assert bill["author"]["name"] == "bill ritter"
    assert bill["replies"][0]["author"]["name"] == "Roderic David"
    assert bill["replies"][0]["replies"][0]["author"]["name"] == "Kathleen Sweeney"
    assert all(c["source"] == "web" and c["discord_url"] is None for c in page["comments"])
    by_id = await site.get(f"/api/v1/posts/{page['post']['id']}/comments")
    assert by_id.json() == page


async def test_discord_replies_nest_and_link_to_their_messages_without_user_ids(store, site):
    await write(
        store,
        said(1, f"First! **bold** and <@{BOB}>"),
        said(2, "Agreed", author=BOB, name="Bob", reply_to=1),
        ReactionsSet(sid(1), THREAD, {"👍": 3}),
    )
    page = (await talk(site)).json()
    assert ids(page["comments"]) == [
        (page["comments"][0]["id"], False, [(page["comments"][0]["replies"][0]["id"], False, [])])
    ]
    first = page["comments"][0]
    assert first["author"]["name"] == "Ann"
    assert first["discord_url"] == f"https://discord.com/channels/{GUILD}/{THREAD}/{sid(1)}"
    assert first["reactions"] == [{"emoji": "👍", "count": 3}]
    assert "<strong>bold</strong>" in first["html"]
    assert "@Bob" in first["text"]
    assert first["author"]["avatar_url"].startswith(f"{SITE_URL}/avatars/")
    assert page["post"]["thread_url"] == f"https://discord.com/channels/{GUILD}/{THREAD}"
    for user_id in (ANN, BOB):
        assert str(user_id) not in (await talk(site)).text
        assert str(user_id) not in (await site.get(f"/posts/{page['post']['id']}")).text


async def test_held_removed_and_deleted_comments_never_show_and_are_not_counted(store, site):
    await write(store, *(said(n, f"comment {n}") for n in range(1, 6)))
    await write(store, said(6, "reply to the deleted one", author=BOB, name="Bob", reply_to=3))
    first = await talk(site)
    assert first.json()["post"]["comment_count"] == 6
    held = await find_comment_by_message(store, sid(1))
    removed = await find_comment_by_message(store, sid(2))
    await set_comment_status(store, held.id, CommentStatus.HELD)
    await set_comment_status(store, removed.id, CommentStatus.REMOVED)
    await write(store, Deleted((sid(3),), THREAD))
    page = (await changed(site, first)).json()
    assert page["post"]["comment_count"] == 3
    texts = [c["text"] for top in page["comments"] for c in [top, *top["replies"]]]
    assert "comment 1" not in texts and "comment 2" not in texts and "comment 3" not in texts
    placeholder = next(c for c in page["comments"] if c["placeholder"])
    assert placeholder["author"] is None and placeholder["text"] is None
    assert placeholder["replies"][0]["text"] == "reply to the deleted one"
    counts = (await site.get("/api/v1/counts", params={"url": TALK_URL})).json()
    assert counts == {"counts": {TALK_URL: 3}}
    listed = (await site.get("/api/v1/posts")).json()["posts"]
    assert next(p for p in listed if p["url"] == TALK_URL)["comment_count"] == 3
    feed = feedparser.parse(
        (await site.get(f"/api/v1/posts/{page['post']['id']}/comments.atom")).body
    )
    assert sorted(e.title.split(" on ")[0] for e in feed.entries) == ["Ann", "Ann", "Bob"]
    html = (await site.get(f"/posts/{page['post']['id']}")).text
    assert "comment 1" not in html and "comment 2" not in html and "comment 3" not in html
    assert "This comment is no longer shown" in html

    await set_comment_status(store, held.id, CommentStatus.VISIBLE)  # approved
    after = await changed(site, await talk(site))
    assert after.json()["post"]["comment_count"] == 4


async def test_a_member_who_opts_out_disappears_everywhere(store, site):
    await write(store, said(1, "from ann"), said(2, "from bob", author=BOB, name="Bob"))
    before = await talk(site)
    assert before.json()["post"]["comment_count"] == 2
    await opt_out(store, ANN)
    page = (await changed(site, before)).json()
    assert page["post"]["comment_count"] == 1
    assert [c["text"] for c in page["comments"]] == ["from bob"]
    assert "from ann" not in (await site.get(f"/posts/{page['post']['id']}")).text


async def test_in_consented_mode_a_member_shows_only_after_publishing(store):
    await write(store, said(1, "ann speaks"), said(2, "bob speaks", author=BOB, name="Bob"))
    async with served(site_settings(store.path, web_publish="consented")) as site:
        first = await talk(site)
        assert first.json()["comments"] == [] and first.json()["post"]["comment_count"] == 0
        seed = (await site.get("/api/v1/comments", params={"url": SEED_URL})).json()
        assert seed["post"]["comment_count"] == 24  # web comments were written for the web
        assert await give_publish_consent(store, BOB, "Bob")
        shown = await changed(site, first)
        assert [c["text"] for c in shown.json()["comments"]] == ["bob speaks"]
        assert await withdraw_publish_consent(store, BOB)
        hidden = await changed(site, shown)
        assert hidden.json()["post"]["comment_count"] == 0


async def test_large_threads_come_in_pages_with_exact_counts(store, site):
    events = []
    for n in range(1, 121):
        events.append(said(n, f"top {n}"))
        events.append(said(1000 + n, f"reply {n}", author=BOB, name="Bob", reply_to=n))
    await write(store, *events)
    seen, cursor = [], None
    while True:
        query = {"url": TALK_URL, "limit": "50", **({"cursor": cursor} if cursor else {})}
        answer = await site.get("/api/v1/comments", params=query)
        page = answer.json()
        assert page["top_level_count"] == 120 and page["post"]["comment_count"] == 240
        assert len(page["comments"]) <= 50
        assert all(len(c["replies"]) == 1 for c in page["comments"])
        seen += [c["text"] for c in page["comments"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"top {n}" for n in range(1, 121)]


async def test_etags_answer_304_until_an_edit_changes_them(store, site):
    await write(store, said(1, "before"))
    first = await talk(site)
    tag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{24}(-gz)?"', tag)
    assert "max-age=30" in first.headers["Cache-Control"]
    assert "stale-while-revalidate=300" in first.headers["Cache-Control"]
    assert first.headers["Last-Modified"].endswith("GMT")
    again = await site.get(f"/api/v1/comments?url={TALK_URL}", headers={"If-None-Match": tag})
    assert again.status == 304 and again.body == b""
    await write(store, Edited(sid(1), THREAD, "after", T0 + timedelta(minutes=5)))
    edited = await changed(site, first)
    assert edited.headers["ETag"] != tag
    assert edited.json()["comments"][0]["text"] == "after"
    assert edited.json()["comments"][0]["edited_at"].startswith("2025-03-01T12:05")
    stale = await site.get(f"/api/v1/comments?url={TALK_URL}", headers={"If-None-Match": tag})
    assert stale.status == 200


async def test_big_answers_are_compressed_and_identical_once_unpacked(store, site):
    await write(store, *(said(n, "a fairly long comment body " * 10) for n in range(1, 30)))
    await eventually(lambda: _count_is(site, 29))
    async with aiohttp.ClientSession(auto_decompress=False) as raw:
        async with raw.get(
            f"{site.base}/api/v1/comments?url={TALK_URL}", headers={"Accept-Encoding": "gzip"}
        ) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            packed = await response.read()
    plain = await site.get(
        f"/api/v1/comments?url={TALK_URL}", headers={"Accept-Encoding": "identity"}
    )
    assert "Content-Encoding" not in plain.headers
    assert gzip.decompress(packed) == plain.body
    assert len(packed) < len(plain.body) / 3


async def _count_is(site, n):
    return (await talk(site)).json()["post"]["comment_count"] == n
