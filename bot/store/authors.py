"""Discord authors as the comment writer sees them, members' opt-out of being kept, and their
consent to be shown on the site."""

from __future__ import annotations

import sqlite3

from bot.clock import to_db, utcnow
from bot.store.database import Store
from bot.store.models import Source

REMOVED_AUTHOR_NAME = "(removed at the author's request)"


def upsert_discord_author_in(
    db: sqlite3.Connection, external_id: str, name: str, *, is_bot: bool
) -> int:
    """bot.store.comments.upsert_author_in for a Discord author without a url, on the writer's
    own connection: the author's id."""
    rows = db.execute(
        """
        INSERT INTO authors (source, external_id, name, url, is_bot, first_seen_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (source, external_id) DO UPDATE SET
            name = excluded.name, url = coalesce(excluded.url, url), is_bot = excluded.is_bot
        RETURNING id
        """,
        (Source.DISCORD.value, external_id, name, None, int(is_bot), to_db(utcnow())),
    ).fetchall()
    return int(rows[0]["id"])


def discord_author_id_in(db: sqlite3.Connection, user_id: int) -> int | None:
    """The author row of a Discord user, if they ever wrote or opted out."""
    row = db.execute(
        "SELECT id FROM authors WHERE source = 'discord' AND external_id = ?", (str(user_id),)
    ).fetchone()
    return None if row is None else int(row["id"])


async def opt_out(store: Store, user_id: int) -> int:
    """From now on the user's messages are not stored, and the stored ones lose their content
    (the rows stay, so that replies keep their parent). Returns how many comments were removed."""
    now = to_db(utcnow())
    async with store.transaction() as db:
        async with db.execute(
            """
            INSERT INTO authors (source, external_id, name, opted_out_at, first_seen_at)
            VALUES ('discord', ?1, ?2, ?3, ?3)
            ON CONFLICT (source, external_id) DO UPDATE SET
                name = excluded.name, opted_out_at = coalesce(opted_out_at, excluded.opted_out_at)
            RETURNING id
            """,
            (str(user_id), REMOVED_AUTHOR_NAME, now),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        author_id = row["id"]
        for table in ("comment_revisions", "comment_reactions"):
            await db.execute(
                f"DELETE FROM {table} WHERE comment_id IN "  # noqa: S608 - table is ours
                "(SELECT id FROM comments WHERE author_id = ?)",
                (author_id,),
            )
        async with db.execute(
            """
            UPDATE comments SET body = '', author_name = ?1, status = 'deleted',
                   status_reason = 'author opted out', attachments = '[]', has_stickers = 0
            WHERE author_id = ?2
              AND NOT (body = '' AND author_name = ?1 AND status = 'deleted'
                       AND attachments = '[]')
            RETURNING id
            """,
            (REMOVED_AUTHOR_NAME, author_id),
        ) as cursor:
            return len(list(await cursor.fetchall()))


async def opt_in(store: Store, user_id: int) -> None:
    """The user's messages are stored again from now on; removed comments stay removed."""
    async with store.transaction() as db:
        await db.execute(
            "UPDATE authors SET opted_out_at = NULL WHERE source = 'discord' AND external_id = ?",
            (str(user_id),),
        )


async def is_opted_out(store: Store, user_id: int) -> bool:
    value = await store.fetch_value(
        "SELECT opted_out_at FROM authors WHERE source = 'discord' AND external_id = ?",
        (str(user_id),),
    )
    return value is not None


async def give_publish_consent(store: Store, user_id: int, name: str) -> bool:
    """The member agrees that their comments are shown on the site (WEB_PUBLISH=consented).
    False when they had already agreed."""
    now = to_db(utcnow())
    async with store.transaction() as db:
        async with db.execute(
            """
            INSERT INTO authors (source, external_id, name, publish_consent_at, first_seen_at)
            VALUES ('discord', ?1, ?2, ?3, ?3)
            ON CONFLICT (source, external_id) DO UPDATE SET
                publish_consent_at = coalesce(publish_consent_at, excluded.publish_consent_at)
            RETURNING publish_consent_at
            """,
            (str(user_id), name, now),
        ) as cursor:
            row = await cursor.fetchone()
    assert row is not None
    return bool(row["publish_consent_at"] == now)


async def withdraw_publish_consent(store: Store, user_id: int) -> bool:
    """The member's comments leave the site (they stay in Discord and in the store). False when
    there was no consent to withdraw."""
    async with store.transaction() as db:
        async with db.execute(
            """
            UPDATE authors SET publish_consent_at = NULL
            WHERE source = 'discord' AND external_id = ? AND publish_consent_at IS NOT NULL
            RETURNING id
            """,
            (str(user_id),),
        ) as cursor:
            return bool(await cursor.fetchall())
