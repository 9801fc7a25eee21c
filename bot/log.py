"""Structured logging: structlog for our code, the same output for discord.py and APScheduler.

Configured once by the entry point. Secrets are scrubbed from the final rendered line, after
exceptions and URLs have been formatted into it, so nothing can slip past the redaction.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

import structlog
from structlog.typing import Processor, WrappedLogger

REDACTED = "[redacted]"

# Webhook and interaction tokens travel in URL paths; discord.py logs those paths at DEBUG.
_URL_TOKENS = re.compile(r"(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9_.\-]{20,}")


class Redactor:
    """Replaces known secrets, and tokens inside Discord URLs, in a rendered log line."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _URL_TOKENS.sub(rf"\g<1>{REDACTED}", text)

    def __call__(self, logger: WrappedLogger, method: str, line: Any) -> Any:
        if isinstance(line, str):
            return self.scrub(line)
        if isinstance(line, bytes):
            return self.scrub(line.decode("utf-8", "replace")).encode()
        return line


# Library warnings that say nothing true about this bot, by logger and exact message:
# - voice: the bot never joins a voice channel;
# - the guilds intent: the bot asks for it (bot.client.bot_intents); the warning comes from the
#   REST-only clients of `check-config --online` and `sync`, which never open a gateway.
_MEANINGLESS = frozenset(
    {
        ("discord.client", "PyNaCl is not installed, voice will NOT be supported"),
        ("discord.client", "davey is not installed, voice will NOT be supported"),
        (
            "discord.state",
            "Guilds intent seems to be disabled. This may cause state related issues.",
        ),
    }
)

# APScheduler's INFO lines about routine work, by exact message template: shown at DEBUG only.
# Its warnings (a missed run) and errors (a job that raised) are left as they are.
_ROUTINE = frozenset(
    {
        ("apscheduler.executors.default", 'Running job "%s" (scheduled at %s)'),
        ("apscheduler.executors.default", 'Job "%s" executed successfully'),
        ("apscheduler.scheduler", 'Added job "%s" to job store "%s"'),
        ("apscheduler.scheduler", "Removed job %s"),
        (
            "apscheduler.scheduler",
            "Adding job tentatively -- it will be properly scheduled when the scheduler starts",
        ),
    }
)


class LibraryNoise(logging.Filter):
    """Drops the meaningless library warnings above and turns the scheduler's routine INFO lines
    into DEBUG ones. Matches exact messages, so every other line of those loggers still shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg)
        if key in _MEANINGLESS:
            return False
        if key in _ROUTINE and record.levelno == logging.INFO:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


# One instance, so that configuring logging again does not add the filter twice.
_LIBRARY_NOISE = LibraryNoise()
_NOISY_LOGGERS = sorted({name for name, _ in _MEANINGLESS | _ROUTINE})


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def wants_json(log_format: str, stream: TextIO) -> bool:
    if log_format == "auto":
        return not stream.isatty()
    return log_format == "json"


def configure_logging(
    *,
    level: str = "INFO",
    log_format: str = "auto",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Route structlog and the stdlib root logger through one formatter on one handler."""
    stream = stream or sys.stderr
    renderer: Processor
    if wants_json(log_format, stream):
        renderer = structlog.processors.JSONRenderer()
        exception_processors: list[Processor] = [structlog.processors.format_exc_info]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())
        exception_processors = []

    redactor = Redactor(secrets)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared_processors(), structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *exception_processors,
            renderer,
            redactor,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # discord.http logs every request at DEBUG, including routes with webhook tokens.
    logging.getLogger("discord.http").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("discord.gateway").setLevel(max(logging.INFO, root.level))
    logging.getLogger("apscheduler").setLevel(max(logging.INFO, root.level))
    # aiosqlite logs every database operation at DEBUG: noise, even when debugging the bot.
    logging.getLogger("aiosqlite").setLevel(max(logging.WARNING, root.level))
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).addFilter(_LIBRARY_NOISE)

    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def _drop_none(context: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in context.items() if value is not None}


@contextlib.contextmanager
def event_context(
    *,
    guild_id: int | None = None,
    channel_id: int | None = None,
    post_id: int | None = None,
    user_id: int | None = None,
    **extra: Any,
) -> Iterator[None]:
    """Bind the ids an event concerns to every log line written while handling it."""
    context = _drop_none(
        {"guild": guild_id, "channel": channel_id, "post": post_id, "user": user_id, **extra}
    )
    with structlog.contextvars.bound_contextvars(**context):
        yield


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
