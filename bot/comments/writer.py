"""The one writer of synced comments: events queue up and are committed in small batches.

One transaction per Discord event would cost one commit per message; grouping what arrives
within a few milliseconds keeps ingest fast while every event is still applied in arrival order.

An event leaves the queue once it is committed, or once it failed on its own (it cannot be
stored, whatever the database's state). When the database itself refuses a batch (disk full,
its write lock held by another program), the same batch is tried again, waiting longer each
time, until the database takes it. Nothing queued after it is committed before it, so no
thread's cursor passes a message still waiting (see `Created.advance_cursor`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from bot.clock import utcnow
from bot.comments.apply import BatchResult, apply_batches
from bot.comments.events import Created, SyncEvent, SyncPolicy
from bot.log import get_logger
from bot.moderation.cases import audit
from bot.store import Store, database_unavailable

log = get_logger("threadbridge.comments.writer")

# Under a backlog, batches of 1,000 halve the writer's hops to its thread (and the GIL hand-offs
# with the event loop) against 500: ingest ran 15-20% faster; a batch still commits in ~40 ms.
MAX_BATCH = 1000
# How long a batch waits for more after its first event. Under a backlog it does not wait at
# all; at a steady 1,000 replies/s, 2 ms (rather than 5) took 4 ms off the median delay from
# Discord to the store and brought the 99th percentile under 15 ms, at no cost in throughput.
GATHER_SECONDS = 0.002
# Live replies waiting at most (about 1 KB each): beyond this the writer is far behind, and a
# reply is better read later from the thread's history than held in memory.
MAX_LIVE_BACKLOG = 100_000
# A batch the database refused is tried again after 0.1 s, then twice as long each time up to
# 5 s: a disk with room again, or a lock released, is noticed within seconds.
RETRY_FIRST_SECONDS = 0.1
RETRY_MAX_SECONDS = 5.0
# How long stop() still waits for failing writes to recover. What is left then is not lost: no
# cursor has passed it, and the next start reads it again from the threads' history.
STOP_GRACE_SECONDS = 10.0

# An event, who waits for its commit, and whether it is a live reply counted in the backlog.
_Item = tuple[SyncEvent, "asyncio.Future[BatchResult] | None", bool]


class WritesFailing(Exception):
    """The writer was stopped while the database still refused its writes."""


@dataclass(frozen=True, slots=True)
class WriterHealth:
    """How the writer is doing, for /status and health checks."""

    failing_since: datetime | None = None  # when commits began to fail; None while they succeed
    error: str | None = None  # why the database refuses writes, while it does
    waiting: int = 0  # events queued or being committed

    @property
    def ok(self) -> bool:
        return self.failing_since is None


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
        retry_first: float = RETRY_FIRST_SECONDS,
        retry_max: float = RETRY_MAX_SECONDS,
        stop_grace: float = STOP_GRACE_SECONDS,
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
        self._retry_first = retry_first
        self._retry_max = retry_max
        self._stop_grace = stop_grace
        # While the database refuses writes: since when (wall clock, and loop time) and why.
        self.failing_since: datetime | None = None
        self._failing_from = 0.0
        self._failure: str | None = None
        self._in_flight = 0  # events of the batch being committed
        self._stopping_from: float | None = None  # loop time stop() was called
        self._backlog_from = 0.0  # loop time the writer last found its queue empty
        # Queued events that end their batch (the last of an `enqueue` call), and the signal
        # that one arrived while a batch was gathering.
        self._enders = 0
        self._ender_arrived = asyncio.Event()

    @property
    def waiting(self) -> int:
        """Events queued or being committed."""
        return self._queue.qsize() + self._in_flight

    @property
    def lag_seconds(self) -> float:
        """How long the writer has had events waiting since it last caught up with its queue:
        near zero while it keeps up, growing through a catch-up or an outage."""
        if self.waiting == 0:
            return 0.0
        return max(0.0, asyncio.get_running_loop().time() - self._backlog_from)

    @property
    def health(self) -> WriterHealth:
        return WriterHealth(self.failing_since, self._failure, self.waiting)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sync-writer")

    async def stop(self) -> None:
        """Commit what is queued, then stop. While the database refuses writes, wait for it at
        most STOP_GRACE_SECONDS (from now, or from when it began to refuse)."""
        if self._task is None:
            return
        self._stopping_from = asyncio.get_running_loop().time()
        drained = asyncio.ensure_future(self._queue.join())
        try:
            # The writer's task ends by itself when it gives up.
            await asyncio.wait({drained, self._task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            drained.cancel()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self._stopping_from = None

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

        The events of one call end their batch (or their part of it, when calls waiting
        together are committed at once), so its result counts them (and at most some live
        events queued just before them), never another call's.
        """
        done: asyncio.Future[BatchResult] = asyncio.get_running_loop().create_future()
        if not events:
            done.set_result(BatchResult())
            return done
        for event in events[:-1]:
            self._queue.put_nowait((event, None, False))
        self._queue.put_nowait((events[-1], done, False))
        self._enders += 1
        self._ender_arrived.set()
        return done

    async def _run(self) -> None:
        while True:
            batch = await self._next_batch()
            self._in_flight = len(batch)
            try:
                parts = _calls(batch)
                outcomes = await self._commit_calls([[item[0] for item in part] for part in parts])
                cases = [
                    case
                    for outcome in outcomes
                    if isinstance(outcome, BatchResult)
                    for case in outcome.cases
                ]
                for case in cases:
                    audit(case)
                if cases and self._on_cases is not None:
                    self._on_cases(tuple(case.id for case in cases))
                for part, outcome in zip(parts, outcomes, strict=True):
                    if isinstance(outcome, BatchResult):
                        _resolve(part, outcome)
                    else:
                        _fail(part, outcome)
            except WritesFailing as error:
                self._give_up(batch, error)
                return
            except Exception as error:  # keep the writer alive; the waiters learn why
                _fail(batch, error)
            finally:
                self._in_flight = 0
                self._settle(batch)

    async def _next_batch(self) -> list[_Item]:
        """The next event, and what arrives within GATHER_SECONDS after it (up to MAX_BATCH).

        The events of an `enqueue` call end their batch, unless more is queued already: under a
        backlog (catch-up's pages), the calls waiting are committed together, each with its own
        result, while the batch has room for another whole page after them (half of it)."""
        if self._queue.empty():
            batch = [await self._queue.get()]
            self._backlog_from = asyncio.get_running_loop().time()
        else:
            batch = [self._queue.get_nowait()]
        if batch[0][1] is None and not self._enders and self._queue.qsize() < self._max_batch - 1:
            # One wait for the whole window rather than one per event: under load, a timer and
            # a task per event cost the event loop as much as reading the event did.
            self._ender_arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ender_arrived.wait(), self._gather)
        while len(batch) < self._max_batch and not self._queue.empty():
            # After a call's last event, what is queued may join while there is room for
            # another whole page after it (half the batch).
            if batch[-1][1] is not None and len(batch) > self._max_batch // 2:
                break
            batch.append(self._queue.get_nowait())
        self._enders -= sum(waiter is not None for _, waiter, _ in batch)
        return batch

    def _settle(self, items: list[_Item]) -> None:
        """These items have left the queue for good."""
        self.live_backlog -= sum(counted for _, _, counted in items)
        if self.live_backlog <= self.max_live_backlog // 2:
            self._room.set()
        for _ in items:
            self._queue.task_done()

    def _give_up(self, batch: list[_Item], error: WritesFailing) -> None:
        """Stopping while the database refuses writes: what is left is not committed. No cursor
        has passed it, so the next start's catch-up reads it again from history."""
        rest: list[_Item] = []
        while not self._queue.empty():
            rest.append(self._queue.get_nowait())
        self._enders -= sum(waiter is not None for _, waiter, _ in rest)
        log.error(
            "writer stopped with events not committed: the next start reads their threads again",
            events=len(batch) + len(rest),
            error=self._failure,
        )
        _fail(batch + rest, error)
        self._settle(rest)  # the batch is settled by _run

    async def _commit_calls(
        self, calls: list[list[SyncEvent]]
    ) -> list[BatchResult | Exception]:
        """Commit each call's events, all in one transaction when they can be, and say what
        became of each: its result, or why it could not be stored."""
        if len(calls) > 1:
            try:
                results = await self._commit_when_possible(calls)
            except WritesFailing:
                raise
            except Exception:
                # One bad event must not take the other calls down: commit them one by one.
                log.warning("batch failed; applying its parts one by one", parts=len(calls))
            else:
                self.committed += sum(len(events) for events in calls)
                return list(results)
        outcomes: list[BatchResult | Exception] = []
        for events in calls:
            try:
                outcomes.append(await self._commit(events))
            except WritesFailing:
                raise
            except Exception as error:  # logged by _commit: this event cannot be stored
                outcomes.append(error)
        return outcomes

    async def _commit(self, events: list[SyncEvent]) -> BatchResult:
        try:
            (result,) = await self._commit_when_possible([events])
        except WritesFailing:
            raise
        except Exception:
            if len(events) == 1:
                log.exception("sync event not applied", kind=type(events[0]).__name__)
                raise
            # One bad event must not take the others down: apply them one by one.
            log.warning("batch failed; applying its events one by one", events=len(events))
            result = BatchResult()
            for event in events:
                try:
                    result = merge_results(result, await self._commit([event]))
                except WritesFailing:
                    raise
                except Exception:  # logged above: this event cannot be stored
                    continue
            return result
        self.committed += len(events)
        return result

    async def _commit_when_possible(self, calls: list[list[SyncEvent]]) -> list[BatchResult]:
        """Commit the calls' events, trying again, with backoff, for as long as the database
        itself refuses them: they are not at fault, and stay queued in order until it takes
        them."""
        delay = self._retry_first
        while True:
            try:
                results = await apply_batches(self.store, calls, self._policy())
            except Exception as error:
                if not database_unavailable(error):
                    raise
                self._failing(error)
                await self._pause(delay)
                delay = min(delay * 2, self._retry_max)
                continue
            if self.failing_since is not None:
                self._recovered()
            return results

    def _failing(self, error: Exception) -> None:
        self._failure = str(error)
        if self.failing_since is not None:
            return
        self.failing_since = utcnow()
        self._failing_from = asyncio.get_running_loop().time()
        log.error("writes failing", error=self._failure, waiting=self.waiting)

    def _recovered(self) -> None:
        failed_for = asyncio.get_running_loop().time() - self._failing_from
        log.info("writes recovered", failed_seconds=round(failed_for, 1), waited=self.waiting)
        self.failing_since = None
        self._failure = None

    async def _pause(self, delay: float) -> None:
        """Wait before trying again; past the stop grace, give up (WritesFailing)."""
        if self._stopping_from is not None:
            loop = asyncio.get_running_loop()
            give_up_at = max(self._stopping_from, self._failing_from) + self._stop_grace
            if loop.time() >= give_up_at:
                raise WritesFailing(self._failure)
            delay = min(delay, give_up_at - loop.time())
        await asyncio.sleep(delay)


def _calls(batch: list[_Item]) -> list[list[_Item]]:
    """The batch cut after each call's last event (the one with a waiter); live events after
    the last call make a part of their own."""
    parts: list[list[_Item]] = [[]]
    for item in batch:
        parts[-1].append(item)
        if item[1] is not None:
            parts.append([])
    return [part for part in parts if part]


def _resolve(items: list[_Item], result: BatchResult) -> None:
    for _, waiter, _ in items:
        if waiter is not None and not waiter.done():
            waiter.set_result(result)


def _fail(items: list[_Item], error: Exception) -> None:
    for _, waiter, _ in items:
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)


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
