"""Operator settings, read from the environment and `.env`.

Every setting is an environment variable named after the field in upper case. `.env.example`
documents each one; keep the two in step.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Discord ids are snowflakes: positive 64-bit integers.
Snowflake = Annotated[int, Field(gt=0, lt=2**64)]


class LogFormat(enum.StrEnum):
    CONSOLE = "console"
    JSON = "json"
    AUTO = "auto"


class LogLevel(enum.StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class PublishMode(enum.StrEnum):
    """Whose comments the site shows: everyone's but those who opted out, or only those who
    agreed with /comments publish."""

    ALL = "all"
    CONSENTED = "consented"


class SettingsError(Exception):
    """Settings are missing or invalid; `problems` maps each variable to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        lines = [f"  {name}: {problem}" for name, problem in problems.items()]
        super().__init__("invalid configuration:\n" + "\n".join(lines))


# Settings without which the bot cannot talk to its Discord server. Commands that only touch the
# database (`db upgrade`, `db status`) do not need them, so they are checked on demand.
DISCORD_REQUIRED = ("discord_token", "guild_id", "mirror_channel_id")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
    )

    discord_token: SecretStr | None = None
    discord_api_base_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg/"
    database_path: Path = Path("threadbridge.db")
    guild_id: Snowflake | None = None
    mirror_channel_id: Snowflake | None = None
    digest_channel_id: Snowflake | None = None
    modlog_channel_id: Snowflake | None = None
    moderator_role_ids: Annotated[tuple[Snowflake, ...], NoDecode] = ()
    timezone: str = "UTC"
    log_level: LogLevel = LogLevel.INFO
    log_format: LogFormat = LogFormat.AUTO
    feed_urls: Annotated[tuple[str, ...], NoDecode] = ()
    feed_poll_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    feed_backlog_hours: Annotated[int, Field(ge=0)] = 0
    mirror_interval_seconds: Annotated[int, Field(ge=5, le=3600)] = 60
    sync_max_depth: Annotated[int, Field(ge=1, le=10)] = 5
    sync_other_bots: bool = False
    catchup_days: Annotated[int, Field(ge=0, le=3650)] = 30
    digest_schedule: str = "0 9 * * mon"
    # Moderation defaults; moderators change them per server with /mod rules. 0 turns a limit off.
    rules_disallowed_words: Annotated[tuple[str, ...], NoDecode] = ()
    rules_moderation_words: Annotated[tuple[str, ...], NoDecode] = ()
    rules_max_links: Annotated[int, Field(ge=0, le=100)] = 2
    rules_hold_invites: bool = True
    rules_max_mentions: Annotated[int, Field(ge=0, le=100)] = 5
    rules_flood_count: Annotated[int, Field(ge=0, le=100)] = 5
    rules_flood_seconds: Annotated[int, Field(ge=1, le=3600)] = 10
    rules_duplicate_minutes: Annotated[int, Field(ge=0, le=1440)] = 10
    rules_hold_first_comment: bool = False
    rules_exempt_role_ids: Annotated[tuple[Snowflake, ...], NoDecode] = ()
    close_comments_after_days: Annotated[int, Field(ge=0, le=3650)] = 0
    erase_removed_after_days: Annotated[int, Field(ge=0, le=3650)] = 30
    web_listen: str = "127.0.0.1:8080"
    web_base_url: str | None = None
    web_publish: PublishMode = PublishMode.ALL
    web_allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()
    web_cache_seconds: Annotated[int, Field(ge=0, le=86400)] = 30
    web_stale_seconds: Annotated[int, Field(ge=0, le=604800)] = 300
    web_rate_limit: Annotated[int, Field(ge=0, le=1_000_000)] = 600
    web_metrics_token: SecretStr | None = None

    @field_validator("discord_token", mode="before")
    @classmethod
    def _token_shape(cls, value: Any) -> Any:
        if value is None:
            return None
        text = str(value).strip()
        if not text:
            return None
        if text.lower().startswith("bot "):
            raise ValueError('give the token alone, without the "Bot " prefix')
        if any(ch.isspace() for ch in text):
            raise ValueError("the token contains whitespace; paste it again")
        return text

    @field_validator("discord_api_base_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        # discord.py appends paths starting with "/" to this base.
        return value.rstrip("/")

    @field_validator("discord_gateway_url")
    @classmethod
    def _gateway_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return value

    @field_validator(
        "guild_id", "mirror_channel_id", "digest_channel_id", "modlog_channel_id", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator(
        "moderator_role_ids",
        "feed_urls",
        "rules_disallowed_words",
        "rules_moderation_words",
        "rules_exempt_role_ids",
        "web_allowed_origins",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("feed_urls")
    @classmethod
    def _http_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value

    @field_validator("web_allowed_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if origin != "*" and not _is_origin(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: give scheme and host, e.g. https://example.org"
                )
        return tuple(origin.rstrip("/") for origin in value)

    @field_validator("web_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        value = value.strip()
        if value and parse_listen(value) is None:
            raise ValueError("must be HOST:PORT (e.g. 127.0.0.1:8080), or empty to turn it off")
        return value

    @field_validator("web_base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any) -> Any:
        if value is None or not str(value).strip():
            return None
        text = str(value).strip()
        if not text.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return text.rstrip("/")

    @field_validator("web_metrics_token", mode="before")
    @classmethod
    def _blank_token_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("rules_disallowed_words", "rules_moderation_words")
    @classmethod
    def _rule_words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from bot.moderation.rules import RuleError, validate_word

        for word in value:
            try:
                validate_word(word)
            except RuleError as error:
                raise ValueError(f"{word[:40]!r}: {error}") from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Paris or UTC"
            ) from None
        return value

    @field_validator("digest_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as error:
            raise ValueError(
                f"{value!r} is not a cron schedule (minute hour day month weekday, "
                f"e.g. '0 9 * * mon'): {error}"
            ) from None
        return value

    @classmethod
    def from_variables(cls, variables: Mapping[str, str], **overrides: Any) -> Settings:
        """Settings from KEY=value pairs as an operator writes them; they win over the environment
        and no .env file is read."""
        given: dict[str, Any] = {key.lower(): value for key, value in variables.items()}
        return cls(_env_file=None, **(given | overrides))

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def site_url(self) -> str:
        """Where the site's pages and API are reached from outside: WEB_BASE_URL, else the
        address the bot listens on."""
        if self.web_base_url:
            return self.web_base_url
        listen = parse_listen(self.web_listen) or ("127.0.0.1", 8080)
        return listen_url(*listen)

    @property
    def token(self) -> str:
        if self.discord_token is None:
            raise SettingsError({"DISCORD_TOKEN": "missing"})
        return self.discord_token.get_secret_value()

    def require_discord(self) -> None:
        """Raise SettingsError unless everything needed to connect to Discord is set."""
        missing = {
            name.upper(): "missing (required to run the bot)"
            for name in DISCORD_REQUIRED
            if getattr(self, name) is None
        }
        if missing:
            raise SettingsError(missing)

    def summary(self) -> dict[str, str]:
        """Every setting as the operator would read it, with the token masked."""
        shown: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name in SECRETS:
                text = "(set, hidden)" if value is not None else "(not set)"
            elif value is None:
                text = "(not set)"
            elif isinstance(value, tuple):
                text = ",".join(str(item) for item in value) or "(none)"
            elif isinstance(value, enum.Enum):
                text = str(value.value)
            else:
                text = str(value)
            shown[name.upper()] = text
        return shown


# Settings whose values never reach a log or the terminal.
SECRETS = frozenset({"discord_token", "web_metrics_token"})


def parse_listen(text: str) -> tuple[str, int] | None:
    """`HOST:PORT` (`[::1]:8080` for IPv6) as (host, port), or None when it is not one."""
    host, colon, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


def listen_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in {"0.0.0.0", ""} else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _is_origin(text: str) -> bool:
    scheme, separator, rest = text.rstrip("/").partition("://")
    return scheme in {"http", "https"} and bool(separator) and bool(rest) and "/" not in rest


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning pydantic's error into a SettingsError that names each variable."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(_problems(error)) from None


_ID_FIELDS = frozenset(
    {
        "GUILD_ID",
        "MIRROR_CHANNEL_ID",
        "DIGEST_CHANNEL_ID",
        "MODLOG_CHANNEL_ID",
        "MODERATOR_ROLE_IDS",
        "RULES_EXEMPT_ROLE_IDS",
    }
)


def _problems(error: ValidationError) -> dict[str, str]:
    problems: dict[str, str] = {}
    for detail in error.errors(include_url=False, include_input=False):
        name = str(detail["loc"][0]).upper() if detail["loc"] else "SETTINGS"
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] in {"int_parsing", "greater_than", "less_than"} and name in _ID_FIELDS:
            message = "must be a Discord id (a positive whole number)"
            if name in {"MODERATOR_ROLE_IDS", "RULES_EXEMPT_ROLE_IDS"}:
                message = "must be Discord role ids separated by commas"
        elif detail["type"] == "int_parsing":
            message = "must be a whole number"
        problems.setdefault(name, message)
    return problems
