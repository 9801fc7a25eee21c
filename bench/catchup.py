"""Benchmark: catch up on replies written while the bot was offline, under Discord's limits.

    .venv/bin/python bench/catchup.py [--messages 10000] [--threads 10]

The emulator enforces Discord's default limits (EmulatorConfig(): 50 requests/s globally and
50/s per route, a route's bucket being per channel for GET /channels/{id}/messages).

1. The bot runs once with the comments cog: it mirrors the posts (one forum thread each) and
   catches them up, so every thread has a sync cursor, as after a normal day. It is stopped.
2. While it is down, members write --messages replies spread evenly over the threads
   (1 in 5 a Discord reply to an earlier message), through the emulator driver.
3. The bot is started again exactly as in production: its on_ready catch-up
   (CommentsCog.catch_up_all) reads every thread from its cursor. Nothing else calls catch-up, so
   the history is read once. The clock starts before login and stops when the store holds
   every missed message as a comment (polled every 10 ms); the end of the whole catch-up (the
   re-read of the recent window and the deletion check) is reported separately.

The floor is the least time Discord's limits allow for the history pages that must be read:
a thread with n new messages needs ceil(n / 100) pages of 100. A bucket of L requests per window
W lets the first L requests go at once and L more after every W, so R requests cannot all have
been sent before (ceil(R / L) - 1) * W seconds; the floor is the largest of that over the global
bucket (all pages) and the per-route buckets (the pages of one thread).

The goal is judged against the floor of a discord.py client: the same formula with the two
requests discord.py's login() makes before anything else (GET /users/@me and
GET /oauth2/applications/@me) counted in the global bucket, since no discord.py bot can start
without them. With 100 pages those two tip the count into a third window; the pages-only
factor is printed beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
from harness import running_bot  # noqa: E402 - bench/harness.py, beside this script
from posts import make_post  # noqa: E402 - bench/posts.py, beside this script

from bot.comments.catchup import PAGE  # noqa: E402
from bot.log import configure_logging  # noqa: E402
from bot.mirror.mirroring import Mirroring  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.mirrors import count_mirrors_by_state, list_mirrors  # noqa: E402
from bot.store.models import MirrorState  # noqa: E402
from bot.store.posts import save_source_post  # noqa: E402
from discord_emulator import Emulator, EmulatorConfig  # noqa: E402

GOAL_FACTOR = 1.10
REPLY_TEXT = "Catching up on this thread: here is what I think about the post. "


async def discord_comments(store: Store) -> int:
    return int(await store.fetch_value(
        "SELECT count(*) FROM comments WHERE source = 'discord'") or 0)


async def run(messages: int, threads: int) -> None:
    config = EmulatorConfig()  # Discord's default limits
    async with Emulator(config) as emulator:
        emulator.journal.record_events = False
        community = emulator.seed_community()
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings.from_variables(
                community.env(emulator.api_base_url, emulator.gateway_url),
                database_path=Path(folder) / "bench.db",
            )
            # 1. First run: mirror the posts and catch them up (sets every thread's cursor).
            async with Store.open(settings.database_path) as store:
                for number in range(threads):
                    await save_source_post(store, make_post(number, paragraphs=10))
                async with running_bot(settings, store, ("cogs.comments",)) as bot:
                    mirroring = Mirroring(bot, store, channel_id=community.forum_channel_id)
                    while (await count_mirrors_by_state(store))[MirrorState.MIRRORED] < threads:
                        await mirroring.run_once()
                    cog: Any = bot.get_cog("comments")
                    await cog.catch_up_all()
                thread_ids = [m.thread_id for m in await list_mirrors(
                    store, (MirrorState.MIRRORED,)) if m.thread_id is not None]
                before = await discord_comments(store)

            # 2. Offline: members write in every thread.
            authors = community.member_ids
            recent: dict[int, list[int]] = {t: [] for t in thread_ids}
            per_thread = dict.fromkeys(thread_ids, 0)
            for i in range(messages):
                thread = thread_ids[i % len(thread_ids)]
                earlier = recent[thread]
                reply_to = earlier[i % len(earlier)] if earlier and i % 5 == 0 else None
                message = emulator.send_message(thread, authors[i % len(authors)],
                                                f"{REPLY_TEXT}({i})", reply_to=reply_to)
                per_thread[thread] += 1
                earlier.append(message.id)
                if len(earlier) > 8:
                    del earlier[0]
            # Start the second run with fresh rate-limit windows, as after any real outage.
            await asyncio.sleep(config.global_window + 0.1)

            # 3. Second run: time the start-up catch-up.
            first_request = len(emulator.journal.requests)
            first_429 = emulator.journal.rate_limited
            async with Store.open(settings.database_path) as store:
                begun = time.perf_counter()
                async with running_bot(settings, store, ("cogs.comments",)) as bot:
                    ready_at = time.perf_counter()
                    cog = bot.get_cog("comments")
                    deadline = ready_at + 600
                    while await discord_comments(store) < before + messages:
                        if time.perf_counter() > deadline:
                            raise SystemExit("catch-up did not store every message in 600 s")
                        await asyncio.sleep(0.01)
                    stored_at = time.perf_counter()
                    while len(cog.caught_up) < len(thread_ids) or cog.catching_up:
                        if time.perf_counter() > deadline:
                            raise SystemExit("catch-up did not finish in 600 s")
                        await asyncio.sleep(0.01)
                    finished_at = time.perf_counter()
                stored = await discord_comments(store) - before
            requests = emulator.journal.requests[first_request:]
            limited = emulator.journal.rate_limited - first_429

    history = [r for r in requests if r.method == "GET" and r.path.endswith("/messages")]
    pages = sum(math.ceil(n / PAGE) for n in per_thread.values())
    busiest_thread = max(math.ceil(n / PAGE) for n in per_thread.values())

    def bucket_floor(count: int, limit: int, window: float) -> float:
        return max(math.ceil(count / limit) - 1, 0) * window

    global_floor = bucket_floor(pages, config.global_limit, config.global_window)
    route_floor = bucket_floor(busiest_thread, config.route_limit, config.route_window)
    floor = max(global_floor, route_floor)
    made_floor = bucket_floor(len(requests), config.global_limit, config.global_window)
    # discord.py's login() makes these before anything else, in every bot: they share the global
    # bucket with the pages, so a discord.py client's floor counts them too.
    login = [r for r in requests if r.path.endswith(LOGIN_PATHS)]
    client_floor = max(
        bucket_floor(pages + len(login), config.global_limit, config.global_window), route_floor
    )
    to_stored, to_finished = stored_at - begun, finished_at - begun

    def against(seconds: float) -> str:
        if not floor or not client_floor:
            return "floor 0"
        goal = "met" if seconds / client_floor <= GOAL_FACTOR else "MISSED"
        return (
            f"{seconds / client_floor:.2f}x the discord.py floor ({seconds / floor:.2f}x the "
            f"pages-only floor)   goal <= {GOAL_FACTOR}x: {goal}"
        )

    print(f"catch-up after downtime, discord.py {discord.__version__}, emulator with Discord's "
          f"default limits ({config.global_limit}/{config.global_window:g}s global, "
          f"{config.route_limit}/{config.route_window:g}s per route)")
    print(f"missed while offline:        {messages} messages over {len(thread_ids)} threads "
          f"({min(per_thread.values())}-{max(per_thread.values())} each); "
          f"{stored} stored by the catch-up")
    print(f"start -> ready:              {ready_at - begun:.2f} s (login, gateway, guild)")
    print(f"start -> all stored:         {to_stored:.2f} s   {against(to_stored)}")
    print(f"start -> catch-up finished:  {to_finished:.2f} s   {against(to_finished)}  "
          f"(includes the recent-window re-read)")
    print(f"ready -> all stored:         {stored_at - ready_at:.2f} s")
    print(f"floor from rate limits:      {floor:.2f} s = max(global {global_floor:.2f} s, "
          f"per route {route_floor:.2f} s)")
    print("  formula: R requests through a bucket of L per W s take >= (ceil(R/L) - 1) * W s "
          "(the first L go at once, L more after each W);")
    print(f"  pages needed = sum over threads of ceil(new messages / {PAGE}) = {pages} "
          f"(global bucket), {busiest_thread} in the busiest thread (its own route bucket)")
    print(f"discord.py floor:            {client_floor:.2f} s = the same formula for the "
          f"{pages} pages and the {len(login)} requests of discord.py's login "
          f"({', '.join(sorted({r.path for r in login}))})")
    others = sorted(f"{r.method} {r.path}" for r in requests if r not in history)
    print(f"requests made:               {len(requests)} ({len(history)} history reads, "
          f"{len(requests) - len(history)} other: {', '.join(others)}); the same formula for "
          f"{len(requests)} requests gives {made_floor:.2f} s")
    print(f"429 responses:               {limited}   goal 0: {'met' if limited == 0 else 'MISSED'}")


LOGIN_PATHS = ("/users/@me", "/oauth2/applications/@me")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000,
                        help="messages written while the bot is offline")
    parser.add_argument("--threads", type=int, default=10,
                        help="mirrored post threads they are spread over")
    arguments = parser.parse_args()
    configure_logging(level="WARNING", log_format="console")
    # Voice is not used: skip discord.py's one-off "PyNaCl/davey is not installed" warnings.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    asyncio.run(run(arguments.messages, arguments.threads))


if __name__ == "__main__":
    main()
