import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord
import pytest

from bot.cli import application_id_from_token
from bot.permissions import BOT_PERMISSIONS
from bot.settings import Settings
from bot.store.mirrors import get_mirror

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.very-secret-signature-value"


def clean_environment():
    return {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}


def emulator_env(emulator, community, database):
    """The environment an operator would set to run threadbridge against the emulator."""
    return {
        **clean_environment(),
        **community.env(emulator.api_base_url, emulator.gateway_url),
        "DATABASE_PATH": str(database),
        "WEB_LISTEN": "",  # tests that want the site give it a free port
    }


async def start_cli(*arguments, env, cwd):
    """`threadbridge <arguments>` as a process, its output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *arguments,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def start_run(env, cwd):
    """`threadbridge run` as a process, its output piped."""
    return await start_cli("run", env=env, cwd=cwd)


def threadbridge(*arguments, cwd, env=None):
    """Run the CLI as an operator would: a separate process with its own environment."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *arguments],
        cwd=cwd,
        env={**clean_environment(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run"],
        ["check-config"],
        ["db"],
        ["db", "upgrade"],
        ["db", "status"],
        ["register-commands"],
        ["sync-commands"],
        ["invite-url"],
        ["serve"],
        ["export"],
    ],
)
def test_help_for_every_command(tmp_path, command):
    result = threadbridge(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_run_without_token_explains_and_exits_2(tmp_path):
    result = threadbridge("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "DISCORD_TOKEN: missing" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "threadbridge.db").exists()


def test_check_config_accepts_good_settings_and_hides_the_token(tmp_path):
    env = {"DISCORD_TOKEN": TOKEN, "GUILD_ID": "1", "MIRROR_CHANNEL_ID": "2"}
    result = threadbridge("check-config", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout
    assert "DISCORD_TOKEN=(set, hidden)" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    assert "schema 0 of" in result.stdout


def test_check_config_reads_dotenv_and_reports_every_bad_value(tmp_path):
    (tmp_path / ".env").write_text(
        f"DISCORD_TOKEN={TOKEN}\nGUILD_ID=my-server\nMIRROR_CHANNEL_ID=2\nTIMEZONE=Nowhere/Land\n"
    )
    result = threadbridge("check-config", cwd=tmp_path)
    assert result.returncode == 2
    assert "GUILD_ID: must be a Discord id" in result.stderr
    assert "TIMEZONE: unknown time zone" in result.stderr
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stderr


def test_db_upgrade_then_status(tmp_path):
    env = {"DATABASE_PATH": str(tmp_path / "data.db")}
    first = threadbridge("db", "upgrade", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "applied 0001_initial_schema" in first.stdout
    second = threadbridge("db", "upgrade", cwd=tmp_path, env=env)
    assert second.returncode == 0
    assert "already up to date" in second.stdout
    status = threadbridge("db", "status", cwd=tmp_path, env=env)
    assert status.returncode == 0
    assert "pending" not in status.stdout


def test_db_upgrade_refuses_a_newer_database(tmp_path):
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 50")
    result = threadbridge("db", "upgrade", cwd=tmp_path, env={"DATABASE_PATH": str(path)})
    assert result.returncode == 1
    assert "schema version 50" in result.stderr
    assert "Traceback" not in result.stderr


def test_invite_url_has_exactly_the_needed_permissions(tmp_path):
    result = threadbridge("invite-url", cwd=tmp_path, env={"DISCORD_TOKEN": TOKEN, "GUILD_ID": "9"})
    assert result.returncode == 0, result.stderr
    query = parse_qs(urlsplit(result.stdout.strip()).query)
    assert query["client_id"] == ["123456789012345678"]
    assert query["scope"] == ["bot applications.commands"]
    assert query["guild_id"] == ["9"]
    granted = discord.Permissions(int(query["permissions"][0]))
    assert granted == BOT_PERMISSIONS
    assert not granted.administrator and not granted.mention_everyone


def test_invite_url_without_any_id_is_a_settings_error(tmp_path):
    result = threadbridge("invite-url", cwd=tmp_path)
    assert result.returncode == 2
    assert "--application-id" in result.stderr


@pytest.mark.parametrize(
    ("token", "expected"),
    [(TOKEN, 123456789012345678), ("not-base64!.x.y", None), ("aGVsbG8.x.y", None)],
)
def test_application_id_from_token(token, expected):
    assert application_id_from_token(token) == expected


async def test_run_connects_logs_json_and_stops_cleanly_on_sigterm(emulator, community, tmp_path):
    import json
    import signal

    import aiohttp

    from tests.web.test_serve_command import free_port

    port = free_port()
    env = {
        **emulator_env(emulator, community, tmp_path / "run.db"),
        "LOG_LEVEL": "DEBUG",
        "WEB_LISTEN": f"127.0.0.1:{port}",
    }
    process = await start_run(env, tmp_path)
    try:
        await emulator.wait_for_event("GUILD_CREATE", timeout=30)
        await emulator.wait_for(
            lambda: any(r.path.endswith("/commands") for r in emulator.journal.requests), 30
        )
        # The site is served beside the bot, and knows the bot is connected.
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    health = await response.json()
                if health["status"] == "ok":
                    break
                await asyncio.sleep(0.1)
            assert health == {"status": "ok", "reasons": []}
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    output = stderr.decode()
    assert process.returncode == 0, output
    lines = [json.loads(line) for line in output.splitlines()]
    events = [line["event"] for line in lines]
    assert "starting" in events and "stopped" in events
    assert community.token not in output
    assert (tmp_path / "run.db").exists()


async def check_online(emulator, community, tmp_path):
    env = emulator_env(emulator, community, tmp_path / "check.db")
    return await run_cli("check-config", "--online", env=env, cwd=tmp_path)


async def test_check_config_online_passes_on_a_good_setup(emulator, community, tmp_path):
    status, stdout, stderr = await check_online(emulator, community, tmp_path)
    assert status == 0, stderr
    assert "server, channels, permissions and intents OK" in stdout


async def test_check_config_online_lists_what_to_fix(emulator, community, tmp_path):
    from discord_emulator import Perm

    emulator.bot.application.flags = 0
    emulator.modify_channel(
        community.forum_channel_id,
        permission_overwrites=[
            {
                "id": community.bot_role_id,
                "type": 0,
                "deny": int(Perm.MANAGE_WEBHOOKS | Perm.MANAGE_THREADS),
            },
        ],
    )
    emulator.delete_channel(community.modlog_channel_id)
    status, _, stderr = await check_online(emulator, community, tmp_path)
    assert status == 2
    problems = [line for line in stderr.splitlines() if line.startswith("problem:")]
    assert len(problems) == 3, stderr
    assert "Message Content intent" in stderr
    assert "Manage Threads, Manage Webhooks" in stderr
    assert f"MODLOG_CHANNEL_ID {community.modlog_channel_id}" in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("command", ["register-commands", "sync-commands"])
async def test_register_commands_does_that_and_nothing_else(emulator, community, tmp_path, command):
    import json

    env = emulator_env(emulator, community, tmp_path / "commands.db")
    threadbridge("db", "upgrade", cwd=tmp_path, env=env)
    status, stdout, stderr = await run_cli(command, env=env, cwd=tmp_path)
    assert status == 0, stderr
    registered = emulator.commands(community.guild_id)
    assert registered and f"registered {len(registered)} command(s)" in stdout
    events = [json.loads(line) for line in stderr.splitlines()]
    # Logging in, and saying so: no scheduler started, no job added or run.
    assert [event["event"] for event in events] == [
        "logging in using static token",
        "slash commands registered",
    ], stderr
    assert not any(event["logger"].startswith("apscheduler") for event in events)


SEED_EXPORT = Path(__file__).parent.parent / "demo" / "seed_export.xml"


def test_import_is_idempotent_and_status_shows_it(tmp_path):
    env = {"DATABASE_PATH": str(tmp_path / "import.db")}
    first = threadbridge("import", str(SEED_EXPORT), cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "1 post(s) read: 1 new, 0 updated, 0 unchanged; 24 comment(s) added" in first.stdout
    again = threadbridge("import", str(SEED_EXPORT), cwd=tmp_path, env=env)
    assert "0 new, 0 updated, 1 unchanged; 0 comment(s) added" in again.stdout
    status = threadbridge("status", cwd=tmp_path, env=env)
    assert status.returncode == 0, status.stderr
    assert "posts: 1 (1 waiting for a thread)" in status.stdout
    assert "comments: 24" in status.stdout


def test_import_without_threads_records_an_archive(tmp_path):
    env = {"DATABASE_PATH": str(tmp_path / "archive.db")}
    result = threadbridge("import", "--no-threads", str(SEED_EXPORT), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    status = threadbridge("status", cwd=tmp_path, env=env)
    assert "posts: 1 (0 waiting for a thread)" in status.stdout
    assert "skipped 1" in status.stdout


def test_import_says_what_it_skipped_and_why(tmp_path):
    from tests.mirror.sources.test_wxr import HTTPS_WP, PASSWORD, comment, item, wxr

    export = tmp_path / "export.xml"
    export.write_bytes(
        wxr(
            item(1, extra=comment(10) + comment(11, kind="pingback") + comment(12, approved="0"))
            + item(2, extra=PASSWORD + comment(20))
            + item(3, status="future")
            + item(4, status="draft")
            + item(5, post_type="attachment", status="inherit")
            + item(6, post_type="nav_menu_item")
            + item(7, post_type="nav_menu_item")
            + item(8, post_type="page"),
            namespace=HTTPS_WP,
        )
    )
    env = {"DATABASE_PATH": str(tmp_path / "import.db")}
    result = threadbridge("import", str(export), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines() == [
        "1 post(s) read: 1 new, 0 updated, 0 unchanged; 1 comment(s) added",
        "skipped 7 item(s): 2 menu item(s), 1 attachment(s) (not posts); "
        "1 page(s) (add --pages to import them); 1 draft(s), 1 scheduled post(s) "
        "(not published); 1 password-protected post(s) (not public)",
        "skipped 2 comment(s): 1 pingback(s) (not comments); 1 unapproved comment(s) "
        "(not approved)",
        f"no bot is running on {tmp_path / 'import.db'}: the threads will be created when "
        "`threadbridge run` starts",
    ]
    with sqlite3.connect(tmp_path / "import.db") as db:
        assert db.execute("SELECT external_id FROM posts").fetchall() == [("wp:1",)]
        assert db.execute("SELECT external_id FROM comments").fetchall() == [("10",)]


def test_import_pages_only_with_the_pages_flag(tmp_path):
    env = {"DATABASE_PATH": str(tmp_path / "import.db")}
    with_pages = threadbridge("import", "--pages", str(SEED_EXPORT), cwd=tmp_path, env=env)
    assert with_pages.returncode == 0, with_pages.stderr
    assert with_pages.stdout.splitlines() == [
        "2 post(s) read: 2 new, 0 updated, 0 unchanged; 24 comment(s) added",
        "skipped 3 item(s): 1 attachment(s), 1 menu item(s) (not posts); "
        "1 draft(s) (not published)",
        "skipped 3 comment(s): 1 pingback(s) (not comments); "
        "1 spam comment(s), 1 unapproved comment(s) (not approved)",
        f"no bot is running on {tmp_path / 'import.db'}: the threads will be created when "
        "`threadbridge run` starts",
    ]
    # Without the flag the page is skipped again; what the earlier import stored stays.
    without = threadbridge("import", str(SEED_EXPORT), cwd=tmp_path, env=env)
    assert without.returncode == 0, without.stderr
    assert "1 post(s) read: 0 new, 0 updated, 1 unchanged" in without.stdout
    assert "1 page(s) (add --pages to import them)" in without.stdout
    assert (
        "1 post(s) stored by an earlier import are skipped now, and left as they are "
        "(threads too): 1"
    ) in without.stdout
    with sqlite3.connect(tmp_path / "import.db") as db:
        titles = db.execute("SELECT id, title FROM posts ORDER BY id").fetchall()
    assert titles == [(1, "About"), (2, "Ai WeiWei: Still Not Sorry")]


def test_import_takes_over_posts_an_earlier_version_stored_by_guid(tmp_path):
    env = {"DATABASE_PATH": str(tmp_path / "import.db")}
    threadbridge("import", str(SEED_EXPORT), cwd=tmp_path, env=env)
    with sqlite3.connect(tmp_path / "import.db") as db:  # as versions before stored it
        db.execute("UPDATE posts SET external_id = 'https://notes.example.org/?p=1234'")
    again = threadbridge("import", str(SEED_EXPORT), cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert "0 new, 0 updated, 1 unchanged; 0 comment(s) added" in again.stdout
    assert "1 post(s) stored by an earlier import are now known by their WordPress id" in (
        again.stdout
    )
    with sqlite3.connect(tmp_path / "import.db") as db:
        assert db.execute("SELECT external_id FROM posts").fetchall() == [("wp:1234",)]


def test_import_keeps_apart_wordpress_posts_sharing_a_guid(tmp_path):
    from tests.mirror.sources.test_wxr import HTTPS_WP, item, wxr

    shared = "https://club.example.net/?p=568"
    export = tmp_path / "export.xml"
    export.write_bytes(wxr(item(568, guid=shared) + item(1158, guid=shared), namespace=HTTPS_WP))
    env = {"DATABASE_PATH": str(tmp_path / "import.db")}
    first = threadbridge("import", str(export), cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "2 post(s) read: 2 new" in first.stdout
    again = threadbridge("import", str(export), cwd=tmp_path, env=env)
    assert "2 post(s) read: 0 new, 0 updated, 2 unchanged" in again.stdout
    with sqlite3.connect(tmp_path / "import.db") as db:
        stored = db.execute("SELECT source, external_id, title FROM posts ORDER BY id").fetchall()
    assert stored == [
        ("wxr:club.example.net", "wp:568", "Post 568"),
        ("wxr:club.example.net", "wp:1158", "Post 1158"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), (b"<html>not a feed</html>", "not a feed"), (b"", "empty")],
)
def test_bad_import_source_is_refused_and_changes_nothing(tmp_path, content, message):
    source = tmp_path / "source.xml"
    if content is not None:
        source.write_bytes(content)
    env = {"DATABASE_PATH": str(tmp_path / "bad.db")}
    result = threadbridge("import", str(source), cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "bad.db").exists()


async def run_cli(*arguments, env, cwd):
    process = await start_cli(*arguments, env=env, cwd=cwd)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, stdout.decode(), stderr.decode()


async def test_sync_and_export_commands(start_bot, bot_settings, emulator, community, tmp_path):
    import json

    from bot.mirror.sources.wxr import parse_wxr
    from bot.store.posts import save_source_post

    (source,) = parse_wxr(SEED_EXPORT.read_bytes())
    async with start_bot(extensions=("cogs.admin", "cogs.mirror")) as bot:
        saved = await save_source_post(bot.store, source)
        await bot.services.mirroring.run_once()
        thread_id = (await get_mirror(bot.store, saved.post.id)).thread_id
    alice, bob = [m for m in community.member_ids if m != community.moderator_id][:2]
    question = emulator.send_message(thread_id, alice, "Where can I watch it?")
    answer = emulator.send_message(thread_id, bob, "On Vimeo.", reply_to=question.id)
    env = emulator_env(emulator, community, bot_settings.database_path)

    status, stdout, stderr = await run_cli(
        "sync", "--post", str(saved.post.id), env=env, cwd=tmp_path
    )
    assert status == 0, stderr
    assert "1 thread(s) synced" in stdout and "2 new comment(s)" in stdout
    status, stdout, stderr = await run_cli("sync", "--full", env=env, cwd=tmp_path)
    assert status == 0, stderr
    assert "0 new comment(s)" in stdout

    status, stdout, stderr = await run_cli(
        "export", "--post", str(saved.post.id), env=env, cwd=tmp_path
    )
    assert status == 0, stderr
    (post,) = json.loads(stdout)
    assert post["title"] == source.title and post["thread_id"] == str(thread_id)
    discord_nodes = [c for c in post["comments"] if c["source"] == "discord"]
    (node,) = discord_nodes
    assert (node["author"], node["body"], node["discord_message_id"]) == (
        "alice",
        "Where can I watch it?",
        str(question.id),
    )
    assert node["replies"][0]["discord_message_id"] == str(answer.id)
    assert len([c for c in post["comments"] if c["source"] == "web"]) == 22  # top-level ones
    for key in ("id", "author_id", "status", "created_at", "edited_at", "attachments", "reactions"):
        assert key in node

    status, _, stderr = await run_cli("export", "--post", "999", env=env, cwd=tmp_path)
    assert status == 1 and "there is no post 999" in stderr


async def test_sync_command_judges_what_it_catches_up_by_the_rules_in_force(
    start_bot, bot_settings, emulator, community, tmp_path
):
    """Replies written while the bot is down and caught up by `threadbridge sync` are judged
    by the same rules as live ones: the operator's (settings) and the moderators' (store). The
    cases they open are settled in Discord by the bot when it next runs."""
    from bot.clock import utcnow
    from bot.store.cases import list_cases
    from bot.store.comment_refs import comment_by_message
    from bot.store.models import CaseAction, CommentStatus
    from bot.store.posts import NewPost, add_post
    from bot.store.rules import add_rule_entry
    from tests.comments.test_live import eventually

    async with start_bot() as bot:
        post, _ = await add_post(bot.store, NewPost("site", "p1", "Weekly notes"))
        await bot.services.mirroring.run_once()
        thread_id = (await get_mirror(bot.store, post.id)).thread_id
        await add_rule_entry(
            bot.store,
            community.guild_id,
            "disallowed_words",
            "grift",
            moderator_id=community.moderator_id,
            now=utcnow(),
        )
    alice, bob = [m for m in community.member_ids if m != community.moderator_id][:2]
    scam = emulator.send_message(thread_id, alice, "Cheap tickets, total scam inside")
    grift = emulator.send_message(thread_id, bob, "a grift, plainly")
    fine = emulator.send_message(thread_id, bob, "See you there!")
    env = {**emulator_env(emulator, community, bot_settings.database_path)}
    env["RULES_DISALLOWED_WORDS"] = "scam"

    status, stdout, stderr = await run_cli("sync", "--post", str(post.id), env=env, cwd=tmp_path)
    assert status == 0, stderr
    assert "3 new comment(s)" in stdout

    settings = bot_settings.model_copy(update={"rules_disallowed_words": ("scam",)})
    async with start_bot(settings) as bot:
        removed = [await comment_by_message(bot.store, m.id) for m in (scam, grift)]
        assert [c.status for c in removed] == [CommentStatus.REMOVED] * 2
        assert (await comment_by_message(bot.store, fine.id)).status is CommentStatus.VISIBLE
        cases, total = await list_cases(bot.store, community.guild_id)
        assert total == 2
        assert {(c.action, c.comment_id) for c in cases} == {
            (CaseAction.REMOVE, removed[0].id),
            (CaseAction.REMOVE, removed[1].id),
        }
        assert {c.rule for c in cases} == {"disallowed_word"}
        # The bot settles the cases the command opened: both messages are deleted in Discord.

        async def deleted() -> bool:
            return all(
                (m := emulator.state.messages.get(message.id)) is None or m.deleted
                for message in (scam, grift)
            )

        assert await eventually(deleted)
        assert not emulator.state.messages[fine.id].deleted


def test_digest_command_text_and_json(tmp_path):
    import json

    env = {"DATABASE_PATH": str(tmp_path / "digest.db"), "TIMEZONE": "Europe/Paris"}
    threadbridge("import", str(SEED_EXPORT), cwd=tmp_path, env=env)
    # The seed post went up on Tuesday 10 March 2015, and its comments followed that week.
    text = threadbridge("digest", "--period", "2015-03-11", cwd=tmp_path, env=env)
    assert text.returncode == 0, text.stderr
    assert "Ai WeiWei: Still Not Sorry" in text.stdout
    as_json = threadbridge(
        "digest", "--period", "2015-03-11", "--format", "json", cwd=tmp_path, env=env
    )
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["period"]["start"].startswith("2015-03-09")
    assert data["comments"] > 0 and len(data["new_posts"]) == 1
    quiet = threadbridge("digest", cwd=tmp_path, env=env)
    assert quiet.returncode == 0 and "quiet week" in quiet.stdout.lower()


def test_digest_command_shows_the_week_so_far_after_an_import(tmp_path):
    import json
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from bot.clock import utcnow
    from bot.store import Store
    from bot.store.comments import NewComment, add_comment, upsert_author
    from bot.store.models import Source
    from bot.store.posts import search_posts

    database = tmp_path / "digest.db"
    env = {"DATABASE_PATH": str(database), "TIMEZONE": "Europe/Paris"}
    imported = threadbridge("import", str(SEED_EXPORT), "--no-threads", cwd=tmp_path, env=env)
    assert imported.returncode == 0, imported.stderr
    # The imported comments are from 2015: the week so far is empty until someone writes today.
    before = threadbridge("digest", "--period", "current", cwd=tmp_path, env=env)
    assert before.returncode == 0, before.stderr
    assert "A quiet week so far" in before.stdout

    async def comment_today() -> datetime:
        async with Store.open(database, upgrade=False) as store:
            (post,) = await search_posts(store, "Ai WeiWei")
            author = await upsert_author(store, Source.DISCORD, "42", "Reader")
            written = utcnow()
            await add_comment(
                store,
                NewComment(
                    post.id,
                    author.id,
                    "Reader",
                    "Still reading",
                    Source.DISCORD,
                    written,
                    discord_message_id=1_180_000_000_000_000_042,
                ),
            )
            return written

    written = asyncio.run(comment_today())
    today = written.astimezone(ZoneInfo("Europe/Paris")).date()

    text = threadbridge("digest", "--period", "current", cwd=tmp_path, env=env)
    assert text.returncode == 0, text.stderr
    first_line = text.stdout.splitlines()[0]
    assert first_line.startswith("Digest ") and first_line.endswith(", so far (Europe/Paris)")
    assert "(now: the week so far, not complete)" in text.stdout
    assert "Comments: 1 (new; 0 by the same time last week)" in text.stdout
    assert "Ai WeiWei: Still Not Sorry: 1" in text.stdout  # the most discussed

    as_json = threadbridge(
        "digest", "--period", "current", "--format", "json", cwd=tmp_path, env=env
    )
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["partial"] is True and data["comments"] == 1
    start = datetime.fromisoformat(data["period"]["start"])
    end = datetime.fromisoformat(data["period"]["end"])
    assert start <= written <= end <= utcnow()  # the period ends when it was asked for
    assert end - written < timedelta(minutes=1)
    assert data["per_day"][-1] == [today.isoformat(), 1]
    assert isinstance(data["most_discussed"][0]["post_id"], int)
    assert data["guild_id"] == "0"  # no GUILD_ID set; a Discord id, so a string
    assert data["most_active"] == [{"author_id": "42", "name": "Reader", "comments": 1}]

    # A day of this week names the week so far too.
    by_date = threadbridge("digest", "--period", today.isoformat(), cwd=tmp_path, env=env)
    assert by_date.returncode == 0, by_date.stderr
    assert by_date.stdout.splitlines()[0] == first_line
    assert "Comments: 1 (" in by_date.stdout


def test_choose_period_names_complete_weeks_and_the_week_so_far():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.cli import choose_period

    paris = ZoneInfo("Europe/Paris")
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)  # Wednesday 13:00 in Paris

    def named(text: str) -> tuple[str, str, bool]:
        period = choose_period(text, now=now, tz=paris)
        return period.start.isoformat(), period.end.isoformat(), period.partial

    last = ("2026-11-16T00:00:00+01:00", "2026-11-23T00:00:00+01:00", False)
    so_far = ("2026-11-23T00:00:00+01:00", "2026-11-25T13:00:00+01:00", True)
    assert named("last") == last
    assert named("previous") == ("2026-11-09T00:00:00+01:00", "2026-11-16T00:00:00+01:00", False)
    assert named("current") == so_far
    assert named("2026-11-22") == last  # Sunday: the last day of last week
    assert named("2026-11-23") == so_far  # Monday: this week, so far
    assert named("2026-11-25") == so_far  # today
    assert named("2026-11-01")[0] == "2026-10-26T00:00:00+01:00"
    with pytest.raises(ValueError, match="after today"):
        choose_period("2026-11-26", now=now, tz=paris)
    with pytest.raises(ValueError, match="use last, previous, current"):
        choose_period("soon", now=now, tz=paris)


@pytest.mark.parametrize("period", ["tomorrow", "2999-01-01"])
def test_digest_command_refuses_a_bad_period(tmp_path, period):
    result = threadbridge(
        "digest", "--period", period, cwd=tmp_path, env={"DATABASE_PATH": str(tmp_path / "d.db")}
    )
    assert result.returncode == 2
    assert "--period" in result.stderr or "not complete" in result.stderr
