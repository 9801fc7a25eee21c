"""Two bots on one database would mirror every post twice: while one `threadbridge run` holds the
database, a second refuses to start, at once and before connecting to Discord; once the first is
gone, even killed by SIGKILL (its lock goes with it), a new one starts.

The bots run as an operator runs them (`python -m bot run`, separate processes) against the
in-process emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from bot.store import Store
from bot.store.posts import save_source_post
from tests.comments.test_crash import connected, launch, read_log
from tests.mirror.test_mirroring import hostile_post
from tests.test_cli import emulator_env


def what_discord_holds(emulator, community) -> tuple[int, int, int]:
    """Threads, messages in them and in the forum, and READY events sent so far."""
    threads = emulator.threads(guild_id=community.guild_id)
    messages = sum(len(emulator.messages(t.id)) for t in threads)
    messages += len(emulator.messages(community.forum_channel_id))
    return len(threads), messages, len(emulator.journal.events_named("READY"))


async def test_a_second_bot_on_the_same_database_refuses_to_start(emulator, community, tmp_path):
    database = tmp_path / "threadbridge.db"
    async with Store.open(database) as store:
        await save_source_post(store, hostile_post())  # a post waiting for its thread
    env = emulator_env(emulator, community, database)
    first = third = None
    try:
        first = await launch(env, tmp_path, tmp_path / "first.log")
        await connected(emulator, first, 0, tmp_path / "first.log")
        await emulator.wait_for(lambda: emulator.threads(guild_id=community.guild_id), 30)
        before = what_discord_holds(emulator, community)

        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            cwd=tmp_path, env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, stderr = await asyncio.wait_for(second.communicate(), 20)
        except TimeoutError:
            second.kill()
            await second.wait()
            raise AssertionError("the second bot kept running beside the first") from None
        assert second.returncode == 1
        assert stderr.decode().strip() == (
            f"threadbridge: another threadbridge (pid {first.pid}) is already running on "
            f"{database}; stop it first (one bot per database)"
        )
        # It never reached Discord: no session, no thread, no message of its own.
        assert what_discord_holds(emulator, community) == before
        assert first.returncode is None, read_log(tmp_path / "first.log")

        first.kill()
        assert await first.wait() == -signal.SIGKILL
        first = None
        since = len(emulator.journal.events)
        third = await launch(env, tmp_path, tmp_path / "third.log")
        await connected(emulator, third, since, tmp_path / "third.log")
        third.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(third.wait(), 30) == 0, read_log(tmp_path / "third.log")
        third = None
    finally:
        for process in (first, third):
            if process is not None and process.returncode is None:
                process.kill()
                with contextlib.suppress(ProcessLookupError):
                    await process.wait()
    assert len(emulator.threads(guild_id=community.guild_id)) == 1
