"""Background work that is awaited by nobody: kept referenced, and its failures logged."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog


class BackgroundTasks:
    """asyncio only keeps weak references to tasks; a forgotten task can vanish mid-run."""

    def __init__(self, logger: structlog.stdlib.BoundLogger) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._log = logger

    def spawn(self, coroutine: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self._log.error("background task failed", task=task.get_name(), exc_info=error)

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __len__(self) -> int:
        return len(self._tasks)
