"""The mirror channels the mirror tests run against: a tagged forum, or the text channel."""

import pytest


@pytest.fixture
def forum(emulator, community):
    """A forum whose tags match the seed post's categories (in another case)."""
    return emulator.create_channel(
        community.guild_id,
        "community-posts",
        "forum",
        available_tags=["documentary", "FREE SPEECH", "Unrelated"],
    )


@pytest.fixture
def forum_settings(bot_settings, forum):
    return bot_settings.model_copy(update={"mirror_channel_id": forum.id})


@pytest.fixture
def text_settings(bot_settings, community):
    return bot_settings.model_copy(update={"mirror_channel_id": community.text_channel_id})
