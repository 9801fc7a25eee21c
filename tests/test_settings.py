from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.settings import LogFormat, Settings, SettingsError, load_settings

VALID = {
    "DISCORD_TOKEN": "MTIz.abc.def",
    "GUILD_ID": "111",
    "MIRROR_CHANNEL_ID": "222",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """Settings come only from what each test sets: no stray variables, no .env in the cwd."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)


def set_env(monkeypatch, values):
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def problems_of(monkeypatch, values, *, discord_needed=True):
    set_env(monkeypatch, values)
    with pytest.raises(SettingsError) as caught:
        settings = load_settings()
        if discord_needed:
            settings.require_discord()
    return caught.value.problems


def test_defaults_and_valid_values(monkeypatch):
    set_env(monkeypatch, {**VALID, "MODERATOR_ROLE_IDS": "5, 6", "TIMEZONE": "Europe/Paris"})
    settings = load_settings()
    settings.require_discord()
    assert settings.guild_id == 111
    assert settings.moderator_role_ids == (5, 6)
    assert settings.discord_api_base_url == "https://discord.com/api/v10"
    assert settings.discord_gateway_url == "wss://gateway.discord.gg/"
    assert settings.database_path == Path("threadbridge.db")
    assert settings.log_format is LogFormat.AUTO
    assert settings.tzinfo.key == "Europe/Paris"
    assert settings.token == "MTIz.abc.def"


def test_missing_token_is_named(monkeypatch):
    problems = problems_of(monkeypatch, {"GUILD_ID": "1", "MIRROR_CHANNEL_ID": "2"})
    assert problems == {"DISCORD_TOKEN": "missing (required to run the bot)"}


def test_database_commands_need_no_discord_settings(monkeypatch):
    settings = load_settings()
    assert settings.discord_token is None
    with pytest.raises(SettingsError):
        settings.require_discord()


@pytest.mark.parametrize("bad", ["abc", "-5", "0", "1.5", str(2**64)])
def test_bad_ids_are_refused(monkeypatch, bad):
    problems = problems_of(monkeypatch, {**VALID, "MIRROR_CHANNEL_ID": bad})
    assert problems == {"MIRROR_CHANNEL_ID": "must be a Discord id (a positive whole number)"}


def test_bad_role_list(monkeypatch):
    problems = problems_of(monkeypatch, {**VALID, "MODERATOR_ROLE_IDS": "12,moderators"})
    assert problems == {"MODERATOR_ROLE_IDS": "must be Discord role ids separated by commas"}


def test_bad_timezone(monkeypatch):
    problems = problems_of(monkeypatch, {**VALID, "TIMEZONE": "Mars/Olympus"})
    assert "Mars/Olympus" in problems["TIMEZONE"]


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("DISCORD_API_BASE_URL", "discord.com/api", "http://"),
        ("DISCORD_GATEWAY_URL", "https://gateway", "ws://"),
        ("DISCORD_TOKEN", "Bot MTIz.abc", "without the"),
        ("LOG_FORMAT", "xml", "console"),
        ("LOG_LEVEL", "loud", "DEBUG"),
        ("DIGEST_SCHEDULE", "every monday", "cron"),
        ("FEED_URLS", "ftp://site.example/feed", "http(s)"),
        ("SYNC_MAX_DEPTH", "0", "greater than or equal"),
    ],
)
def test_each_bad_value_names_its_variable(monkeypatch, name, value, fragment):
    problems = problems_of(monkeypatch, {**VALID, name: value})
    assert list(problems) == [name]
    assert fragment in problems[name]


def test_several_problems_reported_together(monkeypatch):
    problems = problems_of(monkeypatch, {"GUILD_ID": "x", "TIMEZONE": "Nowhere"})
    assert set(problems) == {"GUILD_ID", "TIMEZONE"}


def test_error_message_never_contains_the_token(monkeypatch):
    secret = "MTIzNDU2Nzg5.secret-part.with spaces"
    problems = problems_of(monkeypatch, {**VALID, "DISCORD_TOKEN": secret})
    assert "DISCORD_TOKEN" in problems
    assert secret not in str(SettingsError(problems))


def test_dotenv_file_is_read(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("DISCORD_TOKEN=from-file\nGUILD_ID=9\nMIRROR_CHANNEL_ID=8\n")
    settings = load_settings()
    settings.require_discord()
    assert settings.token == "from-file"
    assert settings.guild_id == 9


def test_summary_hides_the_token(monkeypatch):
    set_env(monkeypatch, VALID)
    summary = load_settings().summary()
    assert summary["DISCORD_TOKEN"] == "(set, hidden)"
    assert VALID["DISCORD_TOKEN"] not in repr(load_settings())
    assert summary["GUILD_ID"] == "111"


def test_every_setting_is_documented_in_env_example():
    example = Path(__file__).resolve().parents[1] / ".env.example"
    documented = {
        line.split("=", 1)[0]
        for line in example.read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert documented == {name.upper() for name in Settings.model_fields}


@given(st.lists(st.integers(min_value=1, max_value=2**64 - 1), max_size=8))
def test_role_ids_round_trip(ids):
    settings = Settings(_env_file=None, moderator_role_ids=", ".join(str(i) for i in ids))
    assert settings.moderator_role_ids == tuple(ids)


def test_settings_from_variables_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("GUILD_ID", "999")
    settings = Settings.from_variables({**VALID, "TIMEZONE": "Asia/Tokyo"}, database_path="x.db")
    assert (settings.guild_id, settings.timezone, str(settings.database_path)) == (
        111,
        "Asia/Tokyo",
        "x.db",
    )


def test_the_site_settings_and_their_defaults(monkeypatch):
    set_env(
        monkeypatch,
        {
            **VALID,
            "WEB_ALLOWED_ORIGINS": "https://example.org, http://localhost:1313/",
            "WEB_BASE_URL": "https://talk.example.org/",
            "WEB_PUBLISH": "consented",
            "WEB_METRICS_TOKEN": "metrics-secret",
        },
    )
    settings = load_settings()
    assert settings.web_allowed_origins == ("https://example.org", "http://localhost:1313")
    assert settings.site_url == "https://talk.example.org"
    assert settings.web_publish == "consented"
    shown = settings.summary()
    assert shown["WEB_METRICS_TOKEN"] == "(set, hidden)"
    assert "metrics-secret" not in repr(settings) + str(shown)


def test_the_site_is_served_on_loopback_by_default():
    defaults = Settings(_env_file=None)
    assert defaults.web_listen == "127.0.0.1:8080"
    assert defaults.site_url == "http://127.0.0.1:8080"
    assert Settings(_env_file=None, web_listen="0.0.0.0:9000").site_url == "http://127.0.0.1:9000"
    assert Settings(_env_file=None, web_listen="").web_listen == ""


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("WEB_LISTEN", "8080", "HOST:PORT"),
        ("WEB_LISTEN", "localhost:99999", "HOST:PORT"),
        ("WEB_BASE_URL", "talk.example.org", "http:// or https://"),
        ("WEB_ALLOWED_ORIGINS", "https://example.org/blog", "is not an origin"),
        ("WEB_ALLOWED_ORIGINS", "example.org", "is not an origin"),
        ("WEB_PUBLISH", "everyone", "'all' or 'consented'"),
        ("WEB_RATE_LIMIT", "-1", "greater than or equal to 0"),
    ],
)
def test_bad_site_settings_are_named(monkeypatch, name, value, says):
    problems = problems_of(monkeypatch, {**VALID, name: value}, discord_needed=False)
    assert says in problems[name]
