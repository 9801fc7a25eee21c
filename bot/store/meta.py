"""Small facts the bot keeps about itself between runs."""

from __future__ import annotations

from bot.store.database import Store


async def get_meta(store: Store, key: str) -> str | None:
    value = await store.fetch_value("SELECT value FROM meta WHERE key = ?", (key,))
    return None if value is None else str(value)


async def set_meta(store: Store, key: str, value: str) -> None:
    async with store.transaction() as db:
        await db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
