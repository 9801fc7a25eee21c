"""A local stand-in for Discord's REST API and gateway that the real discord.py client talks to.

A development tool, not part of threadbridge's installed package: the tests and benches import
it from the repository root, and `python -m discord_emulator serve` (run from the repository
root) serves it to a bot in another process. Depends only on the standard library, aiohttp and
yarl (spec mode also needs jsonschema and referencing, which come with the test tools).

    emu = Emulator(EmulatorConfig(rate_limits=False))
    await emu.start()                       # 127.0.0.1, free port
    community = emu.seed_community()        # guild, forum/text/digest/mod-log, roles, bot
    discord.http.Route.BASE = emu.api_base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)
    ...                                     # run a client with community.token
    msg = emu.send_message(community.text_channel_id, community.member_ids[0], "hi")
    await emu.wait_for_event("MESSAGE_CREATE")
    await emu.stop()

`serve --state FILE` keeps the world in FILE across restarts (persistence.py).

Driver actions (send_message, run_slash_command, ...) are synchronous: they change state and
queue gateway events at once; use the async wait_for* helpers to wait for the client's reaction.
"""

from .community import BotAccount, Community
from .config import EmulatorConfig
from .emulator import Emulator
from .errors import ApiError
from .faults import RestFault
from .journal import EventRecord, Journal, RequestRecord
from .permissions import BOT_PERMISSIONS, Perm
from .snowflake import SnowflakeGenerator, snowflake_time
from .state import Channel, Interaction, InteractionResponse, Message

__all__ = [
    "BOT_PERMISSIONS",
    "ApiError",
    "BotAccount",
    "Channel",
    "Community",
    "Emulator",
    "EmulatorConfig",
    "EventRecord",
    "Interaction",
    "InteractionResponse",
    "Journal",
    "Message",
    "Perm",
    "RequestRecord",
    "RestFault",
    "SnowflakeGenerator",
    "snowflake_time",
]
