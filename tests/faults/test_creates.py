"""A create answered with a 5xx: Discord may have acted and then failed to say so, or not acted.

discord.py repeats a call answered 500/502/504/524 (and the webhook adapter any 5xx) without
asking what the first try did, which doubles what Discord had already made. Each create the
mirror makes (a forum thread, a text channel's starter, the thread made from that starter, a
web comment's webhook message) must instead be looked for after an unclear answer, and made again
only when it is really absent. In the end: one thread per post, one starter, one webhook message
per web comment part, and the store says exactly what Discord has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from bot.mirror.render import find_post_marker, render_comment
from bot.store.mirrors import get_mirror
from bot.store.models import MirrorState, SourceComment
from bot.store.posts import save_source_post
from tests.comments.truth import Members, compare, read_store
from tests.mirror.conftest import forum  # noqa: F401 - a fixture
from tests.mirror.test_mirroring import hostile_post, mirror_now

WEBHOOK_MESSAGE = r"^/webhooks/\d+/[^/]+$"
LONG_TEXT = " ".join(f"Sentence {n} of a comment long enough for several parts." for n in range(90))


def web_post():
    """A post with a comment long enough for several messages, and two worded alike."""
    start = datetime(2024, 1, 2, tzinfo=UTC)

    def comment(n: int, author: str, html: str) -> SourceComment:
        return SourceComment(
            external_id=f"c{n}",
            author_name=author,
            content_html=html,
            created_at=start + timedelta(minutes=n),
        )

    return hostile_post(
        title="A post with comments",
        comments=(
            comment(1, "Long Writer", f"<p>{LONG_TEXT}</p>"),
            comment(2, "Echo", "<p>+1</p>"),
            comment(3, "Echo", "<p>+1</p>"),
        ),
    )


def parts(comment: SourceComment) -> int:
    return len(
        render_comment(
            comment.content_html, author_name=comment.author_name, written_at=comment.created_at
        )
    )


@dataclass(frozen=True)
class Create:
    """One create of the mirror: where it goes, which request makes it, and which of those
    requests the fault hits (the ones before it are answered normally)."""

    channel: str  # "forum" or "text"
    route: str  # the created thing's request path, a regex; {channel} is the mirror channel
    skip: int = 0


CREATES = {
    "forum thread": Create("forum", r"^/channels/{channel}/threads$"),
    "text starter": Create("text", r"^/channels/{channel}/messages$"),
    "text thread": Create("text", r"^/channels/{channel}/messages/\d+/threads$"),
    # The second part of the long comment: its first part is already in the thread.
    "comment part": Create("forum", WEBHOOK_MESSAGE, skip=1),
    # The second "+1": the first, worded alike and by the same name, is in the thread.
    "comment like the one before": Create(
        "forum", WEBHOOK_MESSAGE, skip=parts(web_post().comments[0]) + 1
    ),
}


@pytest.mark.parametrize("acted", [True, False], ids=["acted", "did not act"])
@pytest.mark.parametrize("status", [502, 503])
@pytest.mark.parametrize("what", list(CREATES))
async def test_a_5xx_on_a_create_leaves_exactly_one(
    what, status, acted, start_bot, emulator, community, bot_settings, forum  # noqa: F811
):
    create = CREATES[what]
    channel_id = forum.id if create.channel == "forum" else community.text_channel_id
    settings = bot_settings.model_copy(update={"mirror_channel_id": channel_id})
    route = re.compile(create.route.format(channel=channel_id))
    if create.skip:
        emulator.inject("POST", route.pattern, times=create.skip)  # answered as usual
    fault = emulator.inject("POST", route.pattern, status=status, after=acted)

    with capture_logs() as logs:
        # No mirror cog: its round at start would race this test's round.
        async with start_bot(settings, extensions=()) as bot:
            saved = await save_source_post(bot.store, web_post())
            result = await mirror_now(bot)
            mirror = await get_mirror(bot.store, saved.post.id)
    assert fault.hits == 1

    # Mirrored in this round, not failed and left for a later one.
    assert result.failed == {}
    assert result.mirrored == [saved.post.id]
    assert result.comments_posted == 3
    assert mirror.state is MirrorState.MIRRORED

    # One thread, one starter carrying the post's marker.
    (thread,) = emulator.threads(parent_id=channel_id)
    assert thread.id == mirror.thread_id
    starter_holder = thread.id if create.channel == "forum" else channel_id
    starters = [
        m
        for m in emulator.messages(starter_holder)
        if m.author_id == community.bot_user_id and m.webhook_id is None
    ]
    assert [m.id for m in starters] == [thread.id]
    (embed,) = emulator.message_payload(thread.id)["embeds"]
    assert find_post_marker(embed["footer"]["text"]) == saved.post.id

    # One webhook message per comment part, each recorded once in the store.
    posted = [m for m in emulator.messages(thread.id) if m.webhook_id is not None]
    assert len(posted) == sum(parts(c) for c in web_post().comments)
    store = await read_store(bot_settings.database_path)
    assert store.posts == {thread.id: saved.post.id}
    assert sorted(store.parts) == [m.id for m in posted]
    assert [store.parts[m.id] for m in posted] == sorted(store.parts[m.id] for m in posted)
    members = Members(emulator, None, [thread.id], community.member_ids, {thread.id: thread.id})
    assert dict(compare(members, emulator, store)) == {}

    # Never repeated blind: after the 5xx, the bot looked before it asked again.
    requests = emulator.journal.requests
    creates = [i for i, r in enumerate(requests) if r.method == "POST" and route.search(r.path)]
    faulted = next(i for i in creates if requests[i].status == status)
    again = next((i for i in creates if i > faulted), None)
    if again is not None:
        assert any(r.method == "GET" for r in requests[faulted:again]), "retried blind"

    # What happened is in the log.
    unclear = [e for e in logs if e["event"] == "create unanswered, looking for it"]
    assert [e["status"] for e in unclear] == [status]
    outcome = "found" if acted else "not found, creating again"
    assert [e["event"] for e in logs if e["event"].startswith("unanswered create ")] == [
        f"unanswered create {outcome}"
    ]
