"""Benchmark: mirror 500 new posts into one forum channel through the emulator.

The emulator enforces Discord's default limits (50 requests/s globally and per route). The
script prints the time taken against the floor those limits allow, and the 429s seen.

    .venv/bin/python bench/mirror.py [--posts 500]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from pathlib import Path

# The emulator is not installed with threadbridge: it is imported from the repository root.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness import running_bot  # noqa: E402 - bench/: scripts run with their folder on the path
from posts import make_post  # noqa: E402 - bench/posts.py, beside this script

from bot.log import configure_logging  # noqa: E402
from bot.mirror.mirroring import Mirroring  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.mirrors import count_mirrors_by_state  # noqa: E402
from bot.store.models import MirrorState  # noqa: E402
from bot.store.posts import save_source_post  # noqa: E402
from discord_emulator import Emulator, EmulatorConfig  # noqa: E402

GOAL_FACTOR = 1.05


async def run(posts: int) -> None:
    config = EmulatorConfig()  # Discord's default limits
    async with Emulator(config) as emulator:
        community = emulator.seed_community()
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings.from_variables(
                community.env(emulator.api_base_url, emulator.gateway_url),
                database_path=Path(folder) / "bench.db",
            )
            async with Store.open(settings.database_path) as store:
                for number in range(posts):
                    await save_source_post(store, make_post(number))
                # No mirror cog: the bench drives the mirroring itself, from the first post.
                async with running_bot(settings, store, ()) as bot:
                    mirroring = Mirroring(bot, store, channel_id=community.forum_channel_id)
                    # Start with a fresh global window, as the floor below assumes: discord.py's
                    # login requests (GET /users/@me, /oauth2/applications/@me) went through
                    # this one, and would make the run's last window open a second later.
                    await asyncio.sleep(config.global_window + 0.1)
                    start_requests = len(emulator.journal.requests)
                    start_429 = emulator.journal.rate_limited
                    started = time.perf_counter()
                    while (await count_mirrors_by_state(store))[MirrorState.MIRRORED] < posts:
                        await mirroring.run_once()
                    elapsed = time.perf_counter() - started
                    run_requests = emulator.journal.requests[start_requests:]
                    requests = len(run_requests)
                    thread_creates = sum(
                        1
                        for r in run_requests
                        if r.method == "POST" and r.path.endswith("/threads")
                    )
                    limited = emulator.journal.rate_limited - start_429
    # The floor: the slowest of the buckets the run had to go through, its first window free.
    route_floor = max(thread_creates / config.route_limit - 1, 0) * config.route_window
    global_floor = max(requests / config.global_limit - 1, 0) * config.global_window
    floor = max(route_floor, global_floor)
    print(f"posts mirrored:          {posts}")
    print(f"requests:                {requests} ({thread_creates} thread creations)")
    print(f"time:                    {elapsed:.2f} s")
    print(f"floor from rate limits:  {floor:.2f} s")
    if floor:
        verdict = "met" if elapsed / floor <= GOAL_FACTOR else "MISSED"
        print(f"time / floor:            {elapsed / floor:.2f}x   goal <= {GOAL_FACTOR}x: "
              f"{verdict}")
    else:
        print("time / floor: n/a")
    # discord.py holds the response that empties a bucket until the bucket's window resets
    # (its RateLimitBucket sleeps reset_after on the way out), so when the last window of the
    # run's busiest bucket is full, no discord.py client is done before that window ends.
    def client_bound(count: int, limit: int, window: float) -> float:
        full_last = count > 0 and count % limit == 0
        return (math.ceil(count / limit) - 1 + full_last) * window if count else 0.0

    client_floor = max(
        client_bound(thread_creates, config.route_limit, config.route_window),
        client_bound(requests, config.global_limit, config.global_window),
    )
    if client_floor:
        print(f"discord.py floor:        {client_floor:.2f} s (a full last window ends before "
              f"any discord.py client is done): {elapsed / client_floor:.2f}x")
    print(f"429 responses:           {limited}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=500)
    arguments = parser.parse_args()
    configure_logging(level="WARNING", log_format="console")
    asyncio.run(run(arguments.posts))


if __name__ == "__main__":
    main()
