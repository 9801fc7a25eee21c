"""The names of the server's roles, as Discord last told the bot."""

from __future__ import annotations

from collections.abc import Mapping

from bot.store.database import Store


async def replace_role_names(store: Store, names: Mapping[int, str]) -> None:
    """The server's roles as a whole, on each new gateway session: roles deleted while the bot
    was away are forgotten too."""
    async with store.transaction() as db:
        await db.execute("DELETE FROM roles")
        await db.executemany("INSERT INTO roles (id, name) VALUES (?, ?)", names.items())


async def save_role_name(store: Store, role_id: int, name: str) -> None:
    async with store.transaction() as db:
        await db.execute(
            "INSERT INTO roles (id, name) VALUES (?, ?) "
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            (role_id, name),
        )


async def forget_role(store: Store, role_id: int) -> None:
    async with store.transaction() as db:
        await db.execute("DELETE FROM roles WHERE id = ?", (role_id,))
