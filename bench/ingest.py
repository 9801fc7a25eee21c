"""Benchmark: live ingest of thread replies into the store, against the bare discord.py floor.

    .venv/bin/python bench/ingest.py [--replies 100000] [--threads 200] [--latency-replies 10000]
                                     [--moderation]

One run reports:
  1. comments committed per second by threadbridge (comments cog, 200 mirrored post threads);
  2. the same stream's rate into a bare discord.py client that does nothing with the events;
     for both, the CPU time per event of each side meanwhile (event loop thread, other threads,
     the emulator's process): on 2 cores, what a side may spend per event to keep pace;
  3. the ratio of the two (goal: at least 100% with --moderation);
  4. p50 / p99 delay from the event leaving the emulator to its row being committed, at an
     offered load of 1,000 replies/s (goal: p99 under 15 ms);
  5. the bot process's peak RSS after the full stream (goal: under 120 MB).

The emulator runs in a separate process (this script, started with a hidden --serve flag), so
that this process's RSS is the bot's alone and emulator and bot get one core each. The emulator
process paces the stream itself and stamps each reply with time.perf_counter() as it queues the
gateway frame; on Linux perf_counter is CLOCK_MONOTONIC, which is shared by all processes, so
those stamps are comparable with the commit stamps taken here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import discord  # noqa: E402
from aiohttp import web  # noqa: E402
from harness import running_bot  # noqa: E402 - bench/harness.py, beside this script

from bot.client import bot_intents  # noqa: E402
from bot.comments.events import Created  # noqa: E402
from bot.discord_helpers import point_discord_at  # noqa: E402
from bot.log import configure_logging  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.mirrors import record_mirror  # noqa: E402
from bot.store.models import MirrorState  # noqa: E402
from bot.store.posts import NewPost, add_post  # noqa: E402
from discord_emulator import Emulator, EmulatorConfig  # noqa: E402
from discord_emulator.serving import serve_until_signalled  # noqa: E402

# --moderation: listed words none of the replies contain, so every reply is judged in full and
# stored visible (what most comments are).
MODERATION_SETTINGS: dict[str, Any] = {
    "rules_disallowed_words": tuple(f"blocked{n}" for n in range(100)),
    "rules_moderation_words": tuple(f"review{n}" for n in range(100)),
    "rules_flood_count": 0,
    "rules_duplicate_minutes": 0,
}
GOAL_RATIO = 1.00
GOAL_P99_MS = 15.0
GOAL_RSS_MB = 120.0
REPLY_TEXT = "Thanks for posting this, it matches what we saw last week on our side. "


class GcWatch:
    """Pauses of the collector's full (generation 2) collections in this process, in ms."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._began = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        elif info["generation"] == 2:
            self.pauses.append((time.perf_counter() - self._began) * 1000)

    def take(self) -> list[float]:
        pauses, self.pauses = self.pauses, []
        return pauses


# --- the emulator process -------------------------------------------------------------------


class BenchEmulator(Emulator):
    """The emulator plus two bench-only driver routes: set up threads, stream replies."""

    gc_watch: GcWatch

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post("/_bench/threads", self._bench_threads)
        app.router.add_post("/_bench/stream", self._bench_stream)

    async def _bench_threads(self, request: web.Request) -> web.Response:
        """Forum posts started by the bot user, as threadbridge's mirroring would create them."""
        body = await request.json()
        assert self.community is not None
        made = []
        for number in range(int(body["threads"])):
            thread, starter = self.create_forum_post(
                self.community.forum_channel_id, self.community.bot_user_id,
                f"Post number {number}", f"The mirrored post number {number}.",
            )
            made.append({"thread_id": thread.id, "starter_id": starter.id})
        return web.json_response(made)

    async def _bench_stream(self, request: web.Request) -> web.Response:
        """`count` replies round-robin over `threads`, by rotating members; every fifth is a
        Discord reply to one of the last few messages of its thread. `rate` replies/s (0: as
        fast as the emulator can). With `stamp`, returns each message id's send time."""
        body = await request.json()
        assert self.community is not None
        threads = [int(t) for t in body["threads"]]
        count, rate, stamp = int(body["count"]), float(body["rate"]), bool(body["stamp"])
        authors = self.community.member_ids
        recent: dict[int, list[int]] = {t: [] for t in threads}
        sent: list[tuple[int, float]] = []
        # The emulator holds every message ever sent; a full collection over them stalls its
        # gateway for a few hundred ms, which Discord would not. Freeze what exists now.
        gc.collect()
        gc.freeze()
        self.gc_watch.take()
        start = time.perf_counter()
        for i in range(count):
            if rate > 0:
                due = start + i / rate
                ahead = due - time.perf_counter()
                if ahead > 0.0005:
                    await asyncio.sleep(ahead)
                elif i % 50 == 49:
                    await asyncio.sleep(0)
            elif i % 200 == 199:
                # Let the gateway writer run while the driver keeps producing.
                await asyncio.sleep(0)
            thread = threads[i % len(threads)]
            earlier = recent[thread]
            reply_to = None
            if earlier and i % 5 == 0:
                reply_to = earlier[(i // len(threads)) % len(earlier)]
            message = self.send_message(thread, authors[i % len(authors)],
                                        f"{REPLY_TEXT}({i})", reply_to=reply_to)
            if stamp:
                sent.append((message.id, time.perf_counter()))
            earlier.append(message.id)
            if len(earlier) > 8:
                del earlier[0]
        produced = time.perf_counter() - start
        # Frames still queued leave after this; give the writer time before reading the GC log.
        await asyncio.sleep(0.5 if stamp else 0)
        return web.json_response({"produced_seconds": produced, "gc2": self.gc_watch.take(),
                                  "sent": [[str(m), t] for m, t in sent]})


async def serve() -> None:
    # Discord's default limits; a short journal and replay buffer keep the emulator's memory
    # bounded, and a short resume window drops the bot's session once it has left.
    config = EmulatorConfig(journal_limit=1_000, replay_buffer=5_000, resume_window=5.0)
    emulator = BenchEmulator(config)
    emulator.gc_watch = GcWatch()
    emulator.journal.record_events = False
    await emulator.start()
    community = emulator.seed_community()
    members = f"MEMBERS={','.join(map(str, community.member_ids))}"
    await serve_until_signalled(emulator, community, (members, "READY=1"))


# --- the bot process ------------------------------------------------------------------------


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB."""
    current = 0.0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Bare(discord.Client):
    """The library's floor: same intents as threadbridge, does nothing with the events."""

    def __init__(self) -> None:
        super().__init__(intents=bot_intents(), guild_ready_timeout=0.05)
        self.count = 0
        self.target = 0
        self.last_at = 0.0
        self.done = asyncio.Event()

    async def on_message(self, message: discord.Message) -> None:
        self.count += 1
        if self.count >= self.target:
            self.last_at = time.perf_counter()
            self.done.set()


class CommitClock:
    """Wraps CommentWriter._commit: counts committed events and, when asked, stamps when each
    Created event's row was committed."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self.original = writer._commit
        self.stamps: dict[int, float] | None = None
        self.target = 0
        self.last_at = 0.0
        self.reached = asyncio.Event()
        writer._commit = self._commit

    async def _commit(self, events: list[Any]) -> Any:
        result = await self.original(events)
        now = time.perf_counter()
        if self.stamps is not None:
            for event in events:
                if isinstance(event, Created):
                    self.stamps[event.message.message_id] = now
        if self.writer.committed >= self.target:
            self.last_at = now
            self.reached.set()
        return result

    def expect(self, count: int) -> None:
        self.target = self.writer.committed + count
        self.last_at = 0.0
        self.reached.clear()


class CpuMeter:
    """CPU seconds used meanwhile by this process's main thread (the event loop: discord.py,
    the cogs, this driver), by its other threads (the store's: writer, reader, checkpoints),
    and by the emulator's process (read from /proc; None elsewhere)."""

    def __init__(self, emulator_pid: int) -> None:
        self._pid = emulator_pid
        self._start = self._now()

    def _emulator(self) -> float | None:
        try:
            with open(f"/proc/{self._pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def _now(self) -> tuple[float, float, float | None]:
        return time.thread_time(), time.process_time(), self._emulator()

    def used(self) -> dict[str, float | None]:
        (main0, all0, emulator0), (main1, all1, emulator1) = self._start, self._now()
        emulator = None if emulator0 is None or emulator1 is None else emulator1 - emulator0
        return {"main": main1 - main0, "others": (all1 - all0) - (main1 - main0),
                "emulator": emulator}


async def start_emulator() -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), "--serve",
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    values: dict[str, str] = {}
    while "READY" not in values:
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        if not line:
            raise RuntimeError("the emulator process exited")
        key, _, value = line.strip().partition("=")
        values[key] = value
    return process, values


async def stream(http: aiohttp.ClientSession, base: str, threads: list[int], count: int,
                 rate: float, stamp: bool) -> dict[str, Any]:
    body = {"threads": threads, "count": count, "rate": rate, "stamp": stamp}
    async with http.post(f"{base}/_bench/stream", json=body,
                         timeout=aiohttp.ClientTimeout(total=None)) as response:
        response.raise_for_status()
        return await response.json()


async def sample_backlog(writer: Any, done: asyncio.Event) -> int:
    """The most events waiting in the CommentWriter's queue, sampled every 20 ms."""
    most = 0
    while not done.is_set():
        most = max(most, writer._queue.qsize())
        await asyncio.sleep(0.02)
    return most


async def wait_or_fail(event: asyncio.Event, what: str, timeout: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        raise SystemExit(f"gave up waiting for {what} after {timeout:.0f} s") from None


async def run_bot(settings: Settings, http: aiohttp.ClientSession, base: str,
                  made: list[dict[str, int]], forum_id: int, args: argparse.Namespace,
                  results: dict[str, Any]) -> None:
    threads = [m["thread_id"] for m in made]
    async with Store.open(settings.database_path) as store:
        for number, item in enumerate(made):
            post, _ = await add_post(store, NewPost(
                source="bench", external_id=f"post-{number}", title=f"Post number {number}",
                url=f"https://community.example/posts/{number}"))
            await record_mirror(store, post.id, MirrorState.MIRRORED, channel_id=forum_id,
                                thread_id=item["thread_id"], starter_message_id=item["starter_id"])
        extensions = ("cogs.comments", "cogs.moderation") if args.moderation else ("cogs.comments",)
        async with running_bot(settings, store, extensions) as bot:
            cog: Any = bot.get_cog("comments")
            # The start-up catch-up reads every thread once (cursor NULL); let it finish so
            # that what follows measures live ingest only.
            deadline = time.monotonic() + 120
            while len(cog.caught_up) < len(threads) or cog.catching_up:
                if time.monotonic() > deadline:
                    raise SystemExit("start-up catch-up did not finish")
                await asyncio.sleep(0.05)
            visible = sum(isinstance(bot.get_channel(t), discord.Thread) for t in threads)
            results["threads_cached"] = visible
            clock = CommitClock(cog.writer)
            results["rss_ready"] = rss_mb()[0]

            # 1. Throughput: the whole stream offered as fast as the emulator produces it.
            clock.expect(args.replies)
            backlog = asyncio.create_task(sample_backlog(cog.writer, clock.reached))
            meter = CpuMeter(args.emulator_pid)
            started = time.perf_counter()
            produced = await stream(http, base, threads, args.replies, 0, False)
            await wait_or_fail(clock.reached, "the bot's commits", 900)
            results["bot_cpu"] = meter.used()
            results["backlog"] = await backlog
            results["bot_seconds"] = clock.last_at - started
            results["bot_produced"] = produced["produced_seconds"]
            results["rss_after"] = rss_mb()

            # 2. Latency at a fixed offered load.
            watch = GcWatch()
            clock.stamps = {}
            clock.expect(args.latency_replies)
            sent = await stream(http, base, threads, args.latency_replies, args.rate, True)
            await wait_or_fail(clock.reached, "the bot's commits", 300)
            delays = [(clock.stamps[int(m)] - t) * 1000 for m, t in sent["sent"]
                      if int(m) in clock.stamps]
            results["latency_produced"] = sent["produced_seconds"]
            results["gc_bot"], results["gc_emulator"] = watch.take(), sent["gc2"]
            gc.callbacks.remove(watch._callback)
            results["slow"] = sum(d >= GOAL_P99_MS for d in delays)
            results["delays"] = delays
            clock.stamps = None
            results["stored"] = await store.fetch_value(
                "SELECT count(*) FROM comments WHERE source = 'discord'")


async def run_bare(values: dict[str, str], http: aiohttp.ClientSession, base: str,
                   threads: list[int], count: int, pid: int, results: dict[str, Any]) -> None:
    client = Bare()
    task = asyncio.create_task(client.start(values["DISCORD_TOKEN"]), name="bare")
    try:
        await asyncio.wait_for(client.wait_until_ready(), 30)
        client.target = count
        meter = CpuMeter(pid)
        started = time.perf_counter()
        produced = await stream(http, base, threads, count, 0, False)
        await wait_or_fail(client.done, "the bare client", 900)
        results["bare_cpu"] = meter.used()
        results["bare_seconds"] = client.last_at - started
        results["bare_produced"] = produced["produced_seconds"]
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


async def run(args: argparse.Namespace) -> None:
    process, values = await start_emulator()
    args.emulator_pid = process.pid
    results: dict[str, Any] = {}
    try:
        base = values["DISCORD_API_BASE_URL"].removesuffix("/api/v10")
        point_discord_at(values["DISCORD_API_BASE_URL"], values["DISCORD_GATEWAY_URL"])
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/_bench/threads", json={"threads": args.threads}) as r:
                made = await r.json()
            async with http.get(f"{base}/_emulator/community") as r:
                forum_id = int((await r.json())["forum_channel_id"])
            with tempfile.TemporaryDirectory() as folder:
                settings = Settings.from_variables(
                    {k: v for k, v in values.items()
                     if k.startswith(("DISCORD_", "GUILD_", "MIRROR_", "DIGEST_", "MODLOG_",
                                      "MODERATOR_"))},
                    database_path=Path(folder) / "bench.db",
                    **(MODERATION_SETTINGS if args.moderation else {}),
                )
                await run_bot(settings, http, base, made, forum_id, args, results)
            await run_bare(values, http, base, [m["thread_id"] for m in made], args.replies,
                           process.pid, results)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
    report(args, results)


def cpu_line(used: dict[str, float | None], events: int) -> str:
    def per_event(seconds: float | None) -> str:
        return "?" if seconds is None else f"{seconds / events * 1e6:.0f} µs"

    line = f"event loop thread {per_event(used['main'])}"
    if (used["others"] or 0) * 1e6 / events >= 1:
        line += f", other threads {per_event(used['others'])} (the store's writer and readers)"
    return line + f"; emulator process {per_event(used['emulator'])}"


def report(args: argparse.Namespace, r: dict[str, Any]) -> None:
    n = args.replies
    bot_rate = n / r["bot_seconds"]
    bare_rate = n / r["bare_seconds"]
    ratio = bot_rate / bare_rate
    delays = r["delays"]
    p50, p99 = percentile(delays, 0.50), percentile(delays, 0.99)
    current, peak = r["rss_after"]
    print(f"threadbridge live ingest, discord.py {discord.__version__}, {os.cpu_count()} cores; "
          f"emulator in its own process")
    print(f"stream:                       {n} replies round-robin over {args.threads} mirrored "
          f"threads ({r['threads_cached']} in the bot's cache), 4 authors, 1 in 5 a reply")
    if args.moderation:
        print("moderation:                   on (every reply judged: 200 listed words, links, "
              "invites, mentions, bans; flood and duplicate off)")
    print(f"1. threadbridge committed:    {n} comments in {r['bot_seconds']:.2f} s = "
          f"{bot_rate:,.0f} comments/s (emulator produced the stream in "
          f"{r['bot_produced']:.2f} s)")
    print(f"   most events waiting in the bot's CommentWriter queue meanwhile: {r['backlog']:,}")
    print(f"   CPU per reply meanwhile: {cpu_line(r['bot_cpu'], n)}")
    print(f"2. bare discord.py client:    {n} events in {r['bare_seconds']:.2f} s = "
          f"{bare_rate:,.0f} events/s (emulator produced the stream in "
          f"{r['bare_produced']:.2f} s)")
    print(f"   CPU per event meanwhile: {cpu_line(r['bare_cpu'], n)}")
    if r["bare_seconds"] < 1.05 * r["bare_produced"]:
        print("   (the bare client kept pace with the emulator's production: its true floor is "
              "at least this fast, so the ratio below is an upper bound)")
    print(f"3. ratio threadbridge/bare:   {ratio:.0%}   goal >= {GOAL_RATIO:.0%}: "
          f"{verdict(ratio >= GOAL_RATIO)}")
    print(f"4. delay emulator->commit at {args.rate:,.0f}/s offered ({len(delays)} replies, "
          f"offered over {r['latency_produced']:.2f} s):")
    print(f"   p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(delays):.1f} ms, "
          f"mean {statistics.fmean(delays):.1f} ms   goal p99 < {GOAL_P99_MS:.0f} ms: "
          f"{verdict(p99 < GOAL_P99_MS)}")
    for side in ("bot", "emulator"):
        pauses = r[f"gc_{side}"]
        print(f"   full GC collections in the {side} process meanwhile: {len(pauses)}"
              + (f", longest {max(pauses):.0f} ms, total {sum(pauses):.0f} ms" if pauses else ""))
    print(f"   replies slower than {GOAL_P99_MS:.0f} ms: {r['slow']}")
    print(f"5. bot process RSS:           {r['rss_ready']:.0f} MB when ready, {current:.0f} MB "
          f"after {n} replies, peak {peak:.0f} MB   goal < {GOAL_RSS_MB:.0f} MB: "
          f"{verdict(peak < GOAL_RSS_MB)}")
    print("   (peak = ru_maxrss of this process, which holds the bot, its store and the bench "
          "driver only; the emulator runs in its own process)")
    print(f"comments in the store:        {r['stored']} (expected {n + args.latency_replies})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=100_000,
                        help="replies in the throughput stream (and for the memory figure)")
    parser.add_argument("--threads", type=int, default=200, help="mirrored post threads")
    parser.add_argument("--latency-replies", type=int, default=10_000,
                        help="replies offered at --rate for the delay figures")
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="offered load (replies/s) for the delay figures")
    parser.add_argument("--moderation", action="store_true",
                        help="also load the moderation cog: every comment is judged as stored "
                             "(200 listed words; flood and duplicate rules off, since the "
                             "stream is 4 authors writing thousands of replies a second)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    configure_logging(level="WARNING", log_format="console")
    # Voice is not used: skip discord.py's one-off "PyNaCl/davey is not installed" warnings.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    if args.serve:
        asyncio.run(serve())
        return
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
