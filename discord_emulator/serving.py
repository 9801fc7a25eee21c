"""Serving the emulator to another process: `python -m discord_emulator serve` and the benches."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Sequence

from .community import Community
from .emulator import Emulator


async def serve_until_signalled(
    emu: Emulator, community: Community, extra_lines: Sequence[str] = ()
) -> None:
    """Print the community's KEY=value lines (then `extra_lines`) for whoever started this
    process, and serve until SIGINT or SIGTERM; the emulator is stopped on the way out."""
    env = community.env(emu.api_base_url, emu.gateway_url)
    lines = [f"{key}={value}" for key, value in env.items()]
    sys.stdout.write("".join(f"{line}\n" for line in (*lines, *extra_lines)))
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emu.stop()
