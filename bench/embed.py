"""Benchmark: what open pages with the embed cost the server (`threadbridge serve`).

    PYTHONPATH=. .venv/bin/python bench/embed.py [--pages 1000] [--seconds 30]

The data: a fresh database with the seed post imported from the WordPress export
(demo/seed_export.xml, 24 comments) by `threadbridge import --no-threads`.

Each simulated page does what static/embed.js does in a browser on another site (an `Origin`
header, the server allowing it in WEB_ALLOWED_ORIGINS): it asks for the post's comments by its
address (gzip), then, every POLL_SECONDS with the embed's jitter of +-10%, asks again with
If-None-Match: the ETag it holds. Before its first conditional request it sends the CORS
preflight a browser sends (If-None-Match is not a simple header), once: browsers keep the answer
(Access-Control-Max-Age). Every page has its own client session and keep-alive connection, as a
browser would. The pages open spread over one interval, then run for one more interval before
--seconds of measurement, in which nothing changes: the steady cost of pages that are open and
idle, which is nearly all of the time. Then a web comment is added to the post (through the
store, as `threadbridge import` would) and two intervals are measured: every page fetches the
changed conversation once, the cost of one new comment.

Measured over the --seconds, with everything on 127.0.0.1: requests answered per second by
status, their latency (p50, p99) as the pages saw it, the serve process's CPU (user + system
time from /proc/PID/stat over the wall time, 100% = one core) and its RSS at the end (and peak).
The pages run in this process, on the same machine: their own CPU is printed too, since it
competes with the server's on a small machine.

Every process started here is stopped on the way out, and the temporary folder removed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import web as bench_web  # noqa: E402 - bench/web.py, beside this script

from bot.mirror.sources.wxr import read_source  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.models import SourceComment  # noqa: E402
from bot.store.posts import save_source_post  # noqa: E402

HOST = bench_web.HOST
SEED_URL = "https://notes.example.org/2015/03/ai-weiwei-still-not-sorry/"
SITE_ORIGIN = "https://blog.example.org"
POLL_SECONDS = 3.0  # as POLL_MS in bot/web/static/embed.js
JITTER = 0.1
TIMEOUT_SECONDS = 8.0
TICKS = os.sysconf("SC_CLK_TCK")


async def add_comment(database: Path) -> None:
    """A new web comment on the seed post, stored as an import would store it."""
    export = bench_web.SEED_EXPORT
    seed = read_source(export.read_bytes(), source_hint=str(export)).posts[0]
    new = SourceComment("bench-new", "Bench", "<p>A new comment.</p>", datetime.now(UTC))
    async with Store.open(database) as store:
        await save_source_post(store, replace(seed, comments=(*seed.comments, new)))


@dataclass
class Tally:
    measuring: bool = False
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    preflights: int = 0

    def record(self, status: int, seconds: float) -> None:
        if self.measuring:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.latencies.append(seconds)


def cpu_seconds(pid: int) -> float:
    """User + system time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # After "pid (comm)": state is fields[0], utime is the 14th field of the line (fields[11]).
    return (int(fields[11]) + int(fields[12])) / TICKS


async def one_page(base: str, tally: Tally, start_after: float, stop: asyncio.Event) -> None:
    await asyncio.sleep(start_after)
    path = "/api/v1/comments?" + urlencode({"url": SEED_URL, "limit": 200})
    headers = {"Origin": SITE_ORIGIN, "Accept-Encoding": "gzip, deflate, br"}
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        etag: str | None = None
        preflighted = False
        while not stop.is_set():
            asked = dict(headers)
            if etag is not None:
                asked["If-None-Match"] = etag
            started = time.perf_counter()
            try:
                async with session.get(base + path, headers=asked) as response:
                    await response.read()
                    tally.record(response.status, time.perf_counter() - started)
                    if response.status == 200:
                        etag = response.headers.get("ETag")
                if etag is not None and not preflighted:
                    preflight = {
                        "Origin": SITE_ORIGIN,
                        "Access-Control-Request-Method": "GET",
                        "Access-Control-Request-Headers": "if-none-match",
                    }
                    async with session.options(base + path, headers=preflight) as answer:
                        await answer.read()
                    preflighted = True
                    tally.preflights += 1
            except (aiohttp.ClientError, TimeoutError):
                if tally.measuring:
                    tally.errors += 1
            wait = POLL_SECONDS * (1 - JITTER + random.random() * 2 * JITTER)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)


def report_phase(title: str, tally: Tally, wall: float, server_cpu: float, own: float) -> None:
    latencies = sorted(tally.latencies) or [0.0]
    answered = sum(tally.statuses.values())
    print()
    print(f"{title}, {wall:.1f} s measured")
    print(f"  requests answered:   {answered / wall:,.1f}/s  ({answered:,} in all)")
    for status, count in sorted(tally.statuses.items()):
        print(f"    {status}: {count:,} ({count / max(answered, 1):.1%})")
    print(f"  errors (timeouts, refused connections): {tally.errors}")
    print(
        f"  latency seen by the pages: p50 {latencies[len(latencies) // 2] * 1000:.2f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.2f} ms"
    )
    print(f"  serve CPU:           {server_cpu / wall:.1%} of one core")
    print(f"  the pages' own CPU:  {own / wall:.1%} of one core (this process, same machine)")


async def measure(tally: Tally, pid: int, seconds: float, during: Any = None) -> tuple[float, ...]:
    """Wall time, the server's CPU seconds and this process's over `seconds` of counting."""
    tally.statuses.clear()
    tally.latencies.clear()
    tally.errors = 0
    tally.measuring = True
    server_before, own_before = cpu_seconds(pid), time.process_time()
    started = time.monotonic()
    if during is not None:
        await during
    await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))
    wall = time.monotonic() - started
    tally.measuring = False
    return wall, cpu_seconds(pid) - server_before, time.process_time() - own_before


async def simulate(base: str, pid: int, pages: int, seconds: int, database: Path) -> None:
    tally = Tally()
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(one_page(base, tally, random.random() * POLL_SECONDS, stop))
        for _ in range(pages)
    ]
    await asyncio.sleep(2 * POLL_SECONDS)  # all open, each past its first answer
    every = f"{pages:,} pages polling every {POLL_SECONDS:g} s (+-{JITTER:.0%})"
    report_phase(every, tally, *await measure(tally, pid, seconds))
    print(f"  preflights (once per page, before the run): {tally.preflights:,}")
    rss, peak = bench_web.rss_mb(pid), bench_web.rss_mb(pid, "VmHWM")
    print(f"  serve RSS:           {rss:.0f} MB (peak {peak:.0f} MB)")
    changed = await measure(tally, pid, 2 * POLL_SECONDS, add_comment(database))
    report_phase("One new comment on the post, the next two intervals", tally, *changed)
    now = bench_web.get(f"{base}/api/v1/comments?{urlencode({'url': SEED_URL})}")
    print(f"  the post's comments now: {now.json()['post']['comment_count']}")
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)


def run(args: argparse.Namespace, processes: bench_web.Processes, folder: Path) -> None:
    port = bench_web.free_port()
    base = f"http://{HOST}:{port}"
    env = bench_web.child_environment(
        PYTHONPATH=str(ROOT),
        DATABASE_PATH=str(folder / "embed.db"),
        LOG_LEVEL="WARNING",
        WEB_RATE_LIMIT="0",
        WEB_LISTEN=f"{HOST}:{port}",
        WEB_ALLOWED_ORIGINS=SITE_ORIGIN,
        GUILD_ID=str(bench_web.GUILD_ID),
    )
    print("importing the seed post ...", flush=True)
    print(" ", bench_web.import_seed(folder, env), flush=True)
    log = folder / "serve.log"
    pid = processes.start(
        [sys.executable, "-m", "bot", "serve", "--host", HOST, "--port", str(port)],
        env=env,
        cwd=folder,
        log=log,
    )
    bench_web.wait_for(f"{base}/healthz", processes, pid, log)
    print(f"threadbridge serve on {base} (pid {pid}), RSS {bench_web.rss_mb(pid):.0f} MB idle")
    first = bench_web.get(f"{base}/api/v1/comments?{urlencode({'url': SEED_URL})}")
    if first.status != 200 or len(first.json()["comments"]) == 0:
        raise SystemExit(f"the seed post's comments did not answer: {first.status}")
    print(f"opening {args.pages:,} pages over {POLL_SECONDS:g} s ...", flush=True)
    asyncio.run(simulate(base, pid, args.pages, args.seconds, folder / "embed.db"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="open pages to simulate")
    parser.add_argument("--seconds", type=int, default=30, help="measured seconds")
    args = parser.parse_args()
    if not 1 <= args.pages <= 5000:
        parser.error("--pages must be from 1 to 5000")
    if not 1 <= args.seconds <= 600:
        parser.error("--seconds must be from 1 to 600")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    processes = bench_web.Processes()
    try:
        with tempfile.TemporaryDirectory(prefix="threadbridge-bench-embed-") as folder:
            try:
                run(args, processes, Path(folder))
            finally:
                processes.stop_all()
    except KeyboardInterrupt:
        print("\ninterrupted: the server is stopped and the temporary folder removed")
        sys.exit(130)


if __name__ == "__main__":
    main()
