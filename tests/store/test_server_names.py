"""The server's role and channel names the site shows mentions by."""

from __future__ import annotations

from bot.store.public import channel_names, role_names
from bot.store.server_names import replace_server_names


async def test_names_are_kept_by_kind_and_replaced_as_a_whole(store):
    assert await replace_server_names(
        store, roles={1: "Moderator", 2: "Helpers"}, channels={10: "general", 11: "events"}
    )
    assert await role_names(store, [1, 2, 10, 99]) == {1: "Moderator", 2: "Helpers"}
    assert await channel_names(store, [1, 10, 11]) == {10: "general", 11: "events"}

    # Helpers renamed, events hidden or deleted: gone from what the site may show.
    assert await replace_server_names(store, roles={1: "Moderator", 2: "Stewards"}, channels={})
    assert await role_names(store, [1, 2]) == {1: "Moderator", 2: "Stewards"}
    assert await channel_names(store, [10, 11]) == {}


async def test_the_same_names_again_write_nothing(store):
    names = {"roles": {1: "Moderator"}, "channels": {10: "general"}}
    assert await replace_server_names(store, **names)
    version = await store.fetch_value("PRAGMA data_version")
    assert not await replace_server_names(store, **names)
    assert await store.fetch_value("PRAGMA data_version") == version


async def test_many_mentioned_ids_are_looked_up_in_chunks(store):
    roles = {n: f"role {n}" for n in range(1, 1201)}
    await replace_server_names(store, roles=roles, channels={})
    assert await role_names(store, range(1, 1301)) == roles
