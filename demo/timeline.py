"""The simulated members: once the post's thread is in Discord, they reply over the next two
minutes (divided by the demo's speed), each step something the site then shows or hides."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.store.comment_refs import comment_by_message
from bot.store.comments import list_comments
from bot.store.mirrors import get_mirror
from bot.store.models import CommentStatus, MirrorState
from demo.stage import HELD_WORD, Stage

T = TypeVar("T")

# How long a step may wait for the bot (a mirror, a stored comment, a mod-log post), whatever
# the speed: the bot's own pace does not change with it.
BOT_WAIT_SECONDS = 60.0
POLL_SECONDS = 0.2


class BotTooSlow(Exception):
    """The bot did not do, in time, what the next step needs."""


async def until(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    """`check()`'s first answer that is not None, polled; BotTooSlow after BOT_WAIT_SECONDS."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOT_WAIT_SECONDS
    while True:
        found = await check()
        if found is not None:
            return found
        if loop.time() > deadline:
            raise BotTooSlow(f"gave up waiting for {what}")
        await asyncio.sleep(POLL_SECONDS)


async def thread_ready(stage: Stage) -> int:
    """The post's thread, once the bot made it and posted the web's comments into it."""

    async def mirrored() -> int | None:
        mirror = await get_mirror(stage.store, stage.post.id)
        if mirror is None or mirror.state is not MirrorState.MIRRORED:
            return None
        comments = await list_comments(stage.store, stage.post.id)
        if any(c.discord_message_id is None for c in comments):
            return None
        return mirror.thread_id

    return await until(mirrored, "the post's thread")


async def approve_held(stage: Stage, message_id: int) -> None:
    """A moderator clicks Approve on the review post the bot put in the mod-log."""
    community = stage.community

    async def held_comment_id() -> int | None:
        comment = await comment_by_message(stage.store, message_id)
        if comment is None or comment.status is not CommentStatus.HELD:
            return None
        return comment.id

    comment_id = await until(held_comment_id, "the held comment")
    button = f"tb:review:approve:{comment_id}"

    async def review_post() -> int | None:
        for message in stage.emulator.messages(community.modlog_channel_id):
            ids = [
                item.get("custom_id") for row in message.components for item in row["components"]
            ]
            if button in ids:
                return message.id
        return None

    post_id = await until(review_post, "the review post in the mod-log")
    click = stage.emulator.click_button(post_id, community.moderator_id, button)
    await stage.emulator.wait_for_response(click, timeout=BOT_WAIT_SECONDS)


async def play(stage: Stage, speed: float, tell: Callable[[str], None]) -> None:
    """The scripted conversation, told line by line through `tell` as it happens."""

    async def pause(seconds: float) -> None:
        await asyncio.sleep(seconds / speed)

    thread_id = await thread_ready(stage)
    stage.thread_id = thread_id
    tell("the post's thread is in Discord, with the comments written on the web")
    emu = stage.emulator
    moderator = stage.community.moderator_id
    alice, bob, carol = (m for m in stage.community.member_ids if m != moderator)

    await pause(5)
    first = emu.send_message(
        thread_id, alice, "Just read this. The part about the **studio** is new to me."
    )
    tell("alice replies in the Discord thread")
    await pause(10)
    emu.send_message(
        thread_id,
        bob,
        "Same here. There's a documentary about it, worth a watch.",
        reply_to=first.id,
    )
    tell("bob answers alice (a nested reply)")
    await pause(8)
    emu.add_reaction(first.id, carol, "👍")
    tell("carol reacts to alice's message")
    await pause(10)
    emu.edit_message(
        first.id, "Just read this. The part about the **studio** in Beijing is new to me."
    )
    tell("alice edits her message")
    await pause(12)
    oops = emu.send_message(thread_id, carol, "lunch at 1? (sorry, wrong channel)")
    tell("carol writes in the wrong thread...")
    await pause(8)
    emu.delete_message(oops.id)
    tell("...and deletes it")
    await pause(12)
    held = emu.send_message(
        thread_id, bob, f"Does anyone know if the exhibition tickets get a {HELD_WORD}?"
    )
    tell(f'bob writes "{HELD_WORD}": the rules hold it for a moderator, the site does not show it')
    await pause(25)
    await approve_held(stage, held.id)
    tell("mod_maya approves it in the mod-log: now the site shows it")
    await pause(10)
    emu.send_message(thread_id, moderator, "Welcome all! Replies here show up on the site too.")
    tell("the conversation goes on: write in the form to join it")
