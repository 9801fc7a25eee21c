import asyncio
import io
import json
import logging
from datetime import UTC, datetime

import aiosqlite
import discord
import pytest
import structlog
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.client import bot_intents
from bot.log import REDACTED, Redactor, configure_logging, event_context, get_logger

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.secret_token_part_0123456789abcdef"


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def json_lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_with_bound_context(restore_logging):
    stream = io.StringIO()
    configure_logging(log_format="auto", stream=stream, secrets=[TOKEN])
    with event_context(guild_id=1, channel_id=2, post_id=3, user_id=None):
        get_logger("test").info("comment stored", comment=7)
    (line,) = json_lines(stream)
    assert line["event"] == "comment stored"
    assert (line["guild"], line["channel"], line["post"], line["comment"]) == (1, 2, 3, 7)
    assert "user" not in line
    assert line["level"] == "info"
    assert line["timestamp"].endswith("Z")


def test_stdlib_loggers_share_the_format(restore_logging):
    stream = io.StringIO()
    configure_logging(log_format="json", stream=stream)
    logging.getLogger("discord.client").warning("gateway %s", "reconnecting")
    logging.getLogger("apscheduler.scheduler").info("job added")
    lines = json_lines(stream)
    assert [(entry["logger"], entry["event"]) for entry in lines] == [
        ("discord.client", "gateway reconnecting"),
        ("apscheduler.scheduler", "job added"),
    ]


def test_console_rendering_on_a_terminal(restore_logging):
    stream = FakeTerminal()
    configure_logging(log_format="auto", stream=stream)
    get_logger("test").info("hello there", post=5)
    output = stream.getvalue()
    assert "hello there" in output
    assert "post" in output
    with pytest.raises(json.JSONDecodeError):
        json.loads(output.splitlines()[0])


def test_discord_http_debug_is_quiet_even_at_debug_level(restore_logging):
    stream = io.StringIO()
    configure_logging(level="DEBUG", log_format="json", stream=stream)
    logging.getLogger("discord.http").debug("PUT /applications/1/commands with {...}")
    get_logger("test").debug("ours")
    assert [entry["event"] for entry in json_lines(stream)] == ["ours"]


def test_library_chatter_is_quiet_even_at_debug_level(restore_logging):
    stream = io.StringIO()
    configure_logging(level="DEBUG", log_format="json", stream=stream)
    logging.getLogger("aiosqlite").debug("executing %s", "<function>")
    client_log = logging.getLogger("discord.client")
    client_log.warning("PyNaCl is not installed, voice will NOT be supported")
    client_log.warning("davey is not installed, voice will NOT be supported")
    client_log.warning("gateway %s", "reconnecting")
    get_logger("test").debug("ours")
    assert [(entry["logger"], entry["event"]) for entry in json_lines(stream)] == [
        ("discord.client", "gateway reconnecting"),
        ("test", "ours"),
    ]


async def test_real_database_operations_log_nothing_at_debug_level(restore_logging):
    stream = io.StringIO()
    configure_logging(level="DEBUG", log_format="json", stream=stream)
    async with aiosqlite.connect(":memory:") as db:
        await db.execute("SELECT 1")
    assert json_lines(stream) == []


def test_creating_a_client_does_not_warn_about_voice(restore_logging, monkeypatch):
    # discord.py warns once per process: make this client the first to warn.
    monkeypatch.setattr(discord.VoiceClient, "warn_nacl", True)
    stream = io.StringIO()
    configure_logging(level="DEBUG", log_format="json", stream=stream)
    discord.Client(intents=discord.Intents.none())
    assert discord.VoiceClient.warn_nacl is False  # the warning was logged, PyNaCl is absent
    assert "voice will NOT be supported" not in stream.getvalue()
    logging.getLogger("discord.client").warning("an ordinary warning")
    assert "an ordinary warning" in [entry["event"] for entry in json_lines(stream)]


def test_a_rest_only_client_does_not_warn_about_the_guilds_intent(restore_logging):
    # check-config --online and sync log in without a gateway: no intent matters to them.
    stream = io.StringIO()
    configure_logging(log_format="json", stream=stream)
    discord.Client(intents=discord.Intents.none())
    logging.getLogger("discord.state").warning("another state warning")
    assert [entry["event"] for entry in json_lines(stream)] == ["another state warning"]


def test_the_bot_asks_for_the_guilds_intent_it_is_not_warned_about():
    assert bot_intents().guilds


async def _run_scheduler_jobs(*jobs):
    """Run `jobs` once each on a real AsyncIOScheduler, the bot's kind; wait for them."""
    done = asyncio.Event()
    finished = []

    def listener(event):
        finished.append(event.job_id)
        if len(finished) == len(jobs):
            done.set()

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    for job in jobs:
        scheduler.add_job(job, "date", run_date=datetime.now(UTC), id=job.__name__)
    scheduler.start()
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        scheduler.shutdown(wait=False)


async def quiet_job():
    pass


async def failing_job():
    raise RuntimeError("the job broke")


async def test_scheduler_routine_is_not_shown_at_info_but_job_errors_are(restore_logging):
    stream = io.StringIO()
    configure_logging(log_format="json", stream=stream)
    await _run_scheduler_jobs(quiet_job, failing_job)
    lines = [(entry["level"], entry["event"]) for entry in json_lines(stream)]
    assert not [event for _, event in lines if "Running job" in event]
    assert not [event for _, event in lines if "executed successfully" in event]
    assert not [event for _, event in lines if "Added job" in event]
    failures = [(level, event) for level, event in lines if "raised an exception" in event]
    assert [(level, event.split(" (")[0]) for level, event in failures] == [
        ("error", 'Job "failing_job')
    ]


async def test_scheduler_routine_is_shown_at_debug(restore_logging):
    stream = io.StringIO()
    configure_logging(level="DEBUG", log_format="json", stream=stream)
    await _run_scheduler_jobs(quiet_job)
    lines = [(entry["level"], entry["event"]) for entry in json_lines(stream)]
    routine = [
        level
        for level, event in lines
        if event.startswith(("Running job", "Added job")) or "executed successfully" in event
    ]
    assert routine == ["debug", "debug", "debug"]


def test_missed_runs_are_still_warnings(restore_logging):
    stream = io.StringIO()
    configure_logging(log_format="json", stream=stream)
    logging.getLogger("apscheduler.executors.default").warning(
        'Run time of job "%s" was missed by %s', "digest", "0:10:00"
    )
    (line,) = json_lines(stream)
    assert line["level"] == "warning"
    assert line["event"] == 'Run time of job "digest" was missed by 0:10:00'


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_token_never_reaches_a_log_line(restore_logging, log_format):
    stream = io.StringIO()
    configure_logging(log_format=log_format, stream=stream, secrets=[TOKEN], level="DEBUG")
    log = get_logger("test")
    log.info("the token is", token=TOKEN)
    log.info(f"embedded {TOKEN} in the event")
    logging.getLogger("discord.gateway").warning("identify with %s", TOKEN)
    logging.getLogger("discord.client").info(
        "url", extra={"url": f"https://discord.com/api/v10/webhooks/123/{TOKEN}"}
    )
    try:
        raise RuntimeError(f"Authorization: Bot {TOKEN}")
    except RuntimeError:
        log.exception("request failed")
    try:
        raise ValueError({"headers": {"Authorization": f"Bot {TOKEN}"}})
    except ValueError:
        logging.getLogger("discord.http").exception("stdlib request failed")
    output = stream.getvalue()
    assert TOKEN not in output
    # The parts of the token must not leak either (e.g. the signature alone).
    assert "secret_token_part_0123456789abcdef" not in output
    assert output.count(REDACTED) >= 5
    assert "request failed" in output
    assert "RuntimeError" in output


def test_webhook_and_interaction_tokens_in_urls_are_scrubbed():
    redactor = Redactor()
    webhook_token = "aW1hLXdlYmhvb2stdG9rZW4tdGhhdC1pcy1sb25n_-x"
    line = (
        f"POST https://discord.com/api/v10/webhooks/42/{webhook_token}?wait=1 "
        f"and /interactions/77/{webhook_token}/callback"
    )
    scrubbed = redactor.scrub(line)
    assert webhook_token not in scrubbed
    assert "/webhooks/42/[redacted]?wait=1" in scrubbed
    assert "/interactions/77/[redacted]/callback" in scrubbed


def test_redactor_leaves_ordinary_text_alone():
    assert Redactor(["sekrit-value"]).scrub("nothing to hide here") == "nothing to hide here"
