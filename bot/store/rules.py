"""The rules moderators keep per guild: word and pattern lists, and the limits they changed."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from bot.clock import to_db
from bot.store.database import Store

RULE_LISTS = ("disallowed_words", "disallowed_patterns", "moderation_words", "moderation_patterns")


@dataclass(frozen=True, slots=True)
class StoredRules:
    """The guild's rule lists and the limits moderators changed (name -> value, None = off)."""

    lists: dict[str, tuple[str, ...]]
    limits: dict[str, int | None]


async def load_rules(store: Store, guild_id: int) -> StoredRules:
    entries = await store.fetch_all(
        "SELECT list, value FROM rule_entries WHERE guild_id = ? ORDER BY list, value",
        (guild_id,),
    )
    lists: dict[str, list[str]] = {name: [] for name in RULE_LISTS}
    for row in entries:
        lists[row["list"]].append(row["value"])
    limits = await store.fetch_all(
        "SELECT name, value FROM rule_limits WHERE guild_id = ?", (guild_id,)
    )
    return StoredRules(
        lists={name: tuple(values) for name, values in lists.items()},
        limits={row["name"]: row["value"] for row in limits},
    )


async def add_rule_entry(
    store: Store, guild_id: int, list_name: str, value: str, *, moderator_id: int, now: datetime
) -> bool:
    """False if the entry was already listed."""

    def work(db: sqlite3.Connection) -> bool:
        rows = db.execute(
            """
            INSERT INTO rule_entries (guild_id, list, value, added_by, added_at)
            VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id
            """,
            (guild_id, list_name, value, moderator_id, to_db(now)),
        ).fetchall()
        return bool(rows)

    return await store.write_in_thread(work)


async def remove_rule_entry(store: Store, guild_id: int, list_name: str, value: str) -> bool:
    """False if the entry was not listed."""

    def work(db: sqlite3.Connection) -> bool:
        rows = db.execute(
            "DELETE FROM rule_entries WHERE guild_id = ? AND list = ? AND value = ? RETURNING id",
            (guild_id, list_name, value),
        ).fetchall()
        return bool(rows)

    return await store.write_in_thread(work)


async def set_rule_limit(
    store: Store,
    guild_id: int,
    name: str,
    value: int | None,
    *,
    moderator_id: int,
    now: datetime,
) -> None:
    await store.write_in_thread(
        lambda db: db.execute(
            """
            INSERT INTO rule_limits (guild_id, name, value, changed_by, changed_at)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (guild_id, name) DO UPDATE SET
                value = excluded.value, changed_by = excluded.changed_by,
                changed_at = excluded.changed_at
            """,
            (guild_id, name, value, moderator_id, to_db(now)),
        )
    )
