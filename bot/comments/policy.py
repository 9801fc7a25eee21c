"""The one place the comment writer's policy is made, for the bot and `threadbridge sync`
alike: which messages are comments, how deep replies nest, and the rules they are judged by."""

from __future__ import annotations

from collections.abc import Iterable

from bot.comments.events import RulesInForce, SyncPolicy
from bot.settings import Settings


def sync_policy(
    settings: Settings,
    *,
    own_user_id: int,
    own_webhook_ids: Iterable[int],
    rules: RulesInForce | None,
) -> SyncPolicy:
    return SyncPolicy(
        own_user_id=own_user_id,
        own_webhook_ids=frozenset(own_webhook_ids),
        max_depth=settings.sync_max_depth,
        include_other_bots=settings.sync_other_bots,
        rules=rules,
    )
