"""The names of the server's roles and public channels, as Discord last told the bot."""

from __future__ import annotations

from collections.abc import Mapping

from bot.store.database import Store


async def replace_server_names(
    store: Store, *, roles: Mapping[int, str], channels: Mapping[int, str]
) -> bool:
    """The server's names as a whole: what was deleted or hidden since is forgotten too.
    Nothing is written when nothing changed (a write makes the site read its pages anew).
    Returns whether anything changed."""
    wanted = {(id_, "role", name) for id_, name in roles.items()}
    wanted |= {(id_, "channel", name) for id_, name in channels.items()}
    async with store.transaction() as db:
        async with db.execute("SELECT id, kind, name FROM server_names") as cursor:
            stored = {(row["id"], row["kind"], row["name"]) for row in await cursor.fetchall()}
        if stored == wanted:
            return False
        await db.execute("DELETE FROM server_names")
        await db.executemany(
            "INSERT INTO server_names (id, kind, name) VALUES (?, ?, ?)", sorted(wanted)
        )
    return True
