"""The one writer of synced comments: events queue up and are committed in small batches.

One transaction per Discord event would cost one commit per message; grouping what arrives
within a few milliseconds keeps ingest fast while every event is still applied in arrival order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import fields

from bot.comments.apply import BatchResult, apply_batch
from bot.comments.events import Created, SyncEvent, SyncPolicy
from bot.log import get_logger
from bot.store import Store

log = get_logger("threadbridge.comments.writer")

# Under a backlog, batches of 1,000 halve the writer's hops to its thread (and the GIL hand-offs
# with the event loop) against 500: ingest ran 15-20% faster; a batch still commits in ~40 ms.
MAX_BATCH = 1000
GATHER_SECONDS = 0.005
# Live replies waiting at most (about 1 KB each): beyond this the writer is far behind, and a
# reply is better read later from the thread's history than held in memory.
MAX_LIVE_BACKLOG = 100_000

# An event, who waits for its commit, and whether it is a live reply counted in the backlog.
_Item = tuple[SyncEvent, "asyncio.Future[BatchResult] | None", bool]


class CommentWriter:
    """Applies queued sync events in batches; `apply()` waits for its events to be committed."""

    def __init__(
        self,
        store: Store,
        policy: Callable[[], SyncPolicy],
        *,
        max_batch: int = MAX_BATCH,
        gather_seconds: float = GATHER_SECONDS,
        max_live_backlog: int = MAX_LIVE_BACKLOG,
        on_cases: Callable[[tuple[int, ...]], None] | None = None,
    ) -> None:
        self.store = store
        self._policy = policy
        self._max_batch = max_batch
        self._gather = gather_seconds
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.committed = 0
        self.max_live_backlog = max_live_backlog
        self.live_backlog = 0  # live replies queued and not yet committed
        self._room = asyncio.Event()  # set while at most half the live backlog is used
        self._room.set()
        # Told the ids of the cases the rules opened in each committed batch (the enforcer).
        self._on_cases = on_cases

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sync-writer")

    async def stop(self) -> None:
        """Commit what is queued, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def submit(self, event: SyncEvent) -> None:
        """Queue a live event; it is committed with the next batch."""
        self._queue.put_nowait((event, None, False))

    def submit_reply(self, event: Created) -> bool:
        """Queue a live reply, unless the backlog is full: then False, and the caller must have
        the thread's history read later (the comments cog does), since the reply is not queued."""
        if self.live_backlog >= self.max_live_backlog:
            return False
        self.live_backlog += 1
        self._queue.put_nowait((event, None, True))
        return True

    async def wait_for_room(self) -> None:
        """Until at most half of the live backlog is in use."""
        while self.live_backlog > self.max_live_backlog // 2:
            self._room.clear()
            await self._room.wait()

    async def apply(self, events: Sequence[SyncEvent]) -> BatchResult:
        """Queue events and wait until all of them are committed (catch-up uses this)."""
        return await self.enqueue(events)

    def enqueue(self, events: Sequence[SyncEvent]) -> asyncio.Future[BatchResult]:
        """Queue events now; the future resolves when they are committed.

        The events of one call end their batch, so its result counts them (and at most some
        live events queued just before them), never another call's.
        """
        done: asyncio.Future[BatchResult] = asyncio.get_running_loop().create_future()
        if not events:
            done.set_result(BatchResult())
            return done
        for event in events[:-1]:
            self._queue.put_nowait((event, None, False))
        self._queue.put_nowait((events[-1], done, False))
        return done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            deadline = asyncio.get_running_loop().time() + self._gather
            while len(batch) < self._max_batch and batch[-1][1] is None:
                remaining = deadline - asyncio.get_running_loop().time()
                try:
                    batch.append(
                        self._queue.get_nowait()
                        if remaining <= 0
                        else await asyncio.wait_for(self._queue.get(), remaining)
                    )
                except (asyncio.QueueEmpty, TimeoutError):
                    break
            try:
                result = await self._commit([event for event, _, _ in batch])
                if result.cases and self._on_cases is not None:
                    self._on_cases(result.cases)
                for _, waiter, _ in batch:
                    if waiter is not None and not waiter.done():
                        waiter.set_result(result)
            except Exception as error:  # keep the writer alive; the waiters learn why
                for _, waiter, _ in batch:
                    if waiter is not None and not waiter.done():
                        waiter.set_exception(error)
            finally:
                self.live_backlog -= sum(counted for _, _, counted in batch)
                if self.live_backlog <= self.max_live_backlog // 2:
                    self._room.set()
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, events: list[SyncEvent]) -> BatchResult:
        try:
            result = await apply_batch(self.store, events, self._policy())
        except Exception:
            if len(events) == 1:
                log.exception("sync event not applied", kind=type(events[0]).__name__)
                raise
            # One bad event must not take the others down: apply them one by one.
            log.warning("batch failed; applying its events one by one", events=len(events))
            result = BatchResult()
            for event in events:
                with contextlib.suppress(Exception):
                    result = merge_results(result, await self._commit([event]))
            return result
        self.committed += len(events)
        return result


def merge_results(first: BatchResult, second: BatchResult) -> BatchResult:
    counts = {
        field.name: getattr(first, field.name) + getattr(second, field.name)
        for field in fields(BatchResult)
        if field.name != "skipped"
    }
    skipped = dict(first.skipped)
    for reason, count in second.skipped.items():
        skipped[reason] = skipped.get(reason, 0) + count
    return BatchResult(**counts, skipped=skipped)
