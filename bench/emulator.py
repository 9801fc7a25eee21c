"""How many MESSAGE_CREATE events per second the emulator delivers to a bare discord.py client.

    .venv/bin/python bench/emulator.py [-n 20000]

Runs four measurements: emulator in the same process as the client (plain JSON, zlib-stream)
and emulator in a separate `python -m discord_emulator serve` process driven over /_emulator
(plain JSON, zlib-stream), which lets emulator and client use one core each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import time
from pathlib import Path

import aiohttp
import discord
import yarl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from discord_emulator import Emulator, EmulatorConfig  # noqa: E402


class Counter(discord.Client):
    def __init__(self, target: int) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(intents=intents, guild_ready_timeout=0.05)
        self.target = target
        self.count = 0
        self.done = asyncio.Event()
        self.first_at = 0.0

    async def on_message(self, message: discord.Message) -> None:
        if self.count == 0:
            self.first_at = time.perf_counter()
        self.count += 1
        if self.count >= self.target:
            self.done.set()


@contextlib.contextmanager
def pointed_at(api: str, gateway: str):
    old_base, old_gw = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = api
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    try:
        yield
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gw


async def run_client(client: Counter, token: str) -> asyncio.Task[None]:
    task = asyncio.create_task(client.start(token))
    await asyncio.wait_for(client.wait_until_ready(), 15)
    return task


def report(label: str, n: int, elapsed: float) -> None:
    print(f"{label:<44} {n:>6} events in {elapsed:6.2f} s = {n / elapsed:8.0f} events/s")


async def in_process(n: int, zlib_stream: bool) -> None:
    emu = Emulator(EmulatorConfig(rate_limits=False, honour_zlib_stream=zlib_stream))
    await emu.start()
    community = emu.seed_community()
    emu.journal.record_events = False
    client = Counter(n)
    with pointed_at(emu.api_base_url, emu.gateway_url):
        task = await run_client(client, community.token)
        author = community.member_ids[1]
        start = time.perf_counter()
        for i in range(n):
            emu.send_message(community.text_channel_id, author, f"message {i}")
            if i % 200 == 199:
                # Let the writer and the client run while the driver keeps producing.
                await asyncio.sleep(0)
        produced = time.perf_counter() - start
        await asyncio.wait_for(client.done.wait(), 300)
        elapsed = time.perf_counter() - start
        await client.close()
        with contextlib.suppress(Exception):
            await task
    await emu.stop()
    label = f"in-process, {'zlib-stream' if zlib_stream else 'plain JSON'}"
    report(label, n, elapsed)
    print(f"{'':<44} (driver produced all {n} in {produced:.2f} s)")


async def separate_process(n: int, zlib_stream: bool) -> None:
    args = [sys.executable, "-m", "discord_emulator", "serve", "--port", "0"]
    if zlib_stream:
        args.append("--zlib-stream")
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    values: dict[str, str] = {}
    while len(values) < 8:
        key, _, value = (await proc.stdout.readline()).decode().strip().partition("=")
        values[key] = value
    base = values["DISCORD_API_BASE_URL"].removesuffix("/api/v10")
    client = Counter(n)
    try:
        with pointed_at(values["DISCORD_API_BASE_URL"], values["DISCORD_GATEWAY_URL"]):
            task = await run_client(client, values["DISCORD_TOKEN"])
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base}/_emulator/community") as response:
                    info = await response.json()
                url = f"{base}/_emulator/channels/{info['text_channel_id']}/messages"
                start = time.perf_counter()
                async with http.post(url, json={"author_id": info["member_ids"][1],
                                                "content": "message ", "count": n}) as response:
                    assert response.status == 200, await response.text()
                await asyncio.wait_for(client.done.wait(), 300)
                elapsed = time.perf_counter() - start
            await client.close()
            with contextlib.suppress(Exception):
                await task
    finally:
        proc.terminate()
        await proc.wait()
    label = f"separate process, {'zlib-stream' if zlib_stream else 'plain JSON'}"
    report(label, n, elapsed)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20000)
    parser.add_argument("--only", choices=["in-process", "separate"], default=None)
    args = parser.parse_args()
    logging.getLogger("discord").setLevel(logging.ERROR)
    print(f"MESSAGE_CREATE delivery to a bare discord.py {discord.__version__} client, "
          f"{os.cpu_count()} cores")
    if args.only in (None, "in-process"):
        await in_process(args.n, zlib_stream=False)
        await in_process(args.n, zlib_stream=True)
    if args.only in (None, "separate"):
        await separate_process(args.n, zlib_stream=False)
        await separate_process(args.n, zlib_stream=True)


if __name__ == "__main__":
    asyncio.run(main())
