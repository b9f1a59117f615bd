from pathlib import Path

import pytest

from bot.config import ConfigError, Secret, parse_settings

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"


def test_defaults_need_nothing():
    settings = parse_settings({})
    assert settings.discord_token is None
    assert settings.database_path == Path("data/reviewbridge.sqlite3")
    assert settings.blog_poll_seconds == 60
    assert settings.log_level == "INFO"
    assert not settings.blog_configured


def test_token_never_shows_in_repr_or_str():
    settings = parse_settings(
        {
            "DISCORD_TOKEN": TOKEN,
            "WORDPRESS_USER": "bot",
            "WORDPRESS_APP_PASSWORD": "abcd efgh ijkl",
            "BLOG_URL": "https://blog.example.org",
        }
    )
    for text in (repr(settings), str(settings), f"{settings.discord_token}"):
        assert TOKEN not in text
        assert "abcd efgh ijkl" not in text
    assert settings.discord_token.reveal() == TOKEN
    assert "hidden" in repr(Secret("x"))


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DISCORD_TOKEN": "Bot " + TOKEN}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "not-a-token"}, "DISCORD_TOKEN"),
        ({"DEV_GUILD_ID": "my server"}, "DEV_GUILD_ID"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"DISCORD_API_BASE": "discord.example"}, "DISCORD_API_BASE"),
        ({"DISCORD_GATEWAY_URL": "http://127.0.0.1:1/"}, "DISCORD_GATEWAY_URL"),
        ({"BLOG_URL": "ftp://blog.example.org"}, "BLOG_URL"),
        ({"BLOG_POLL_SECONDS": "soon"}, "BLOG_POLL_SECONDS"),
        ({"BLOG_POLL_SECONDS": "0"}, "BLOG_POLL_SECONDS"),
        ({"BLOG_ALLOW_PRIVATE_HOST": "maybe"}, "BLOG_ALLOW_PRIVATE_HOST"),
        ({"BLOG_URL": "https://b.example", "WORDPRESS_USER": "bot"}, "WORDPRESS_APP_PASSWORD"),
        ({"WORDPRESS_USER": "bot", "WORDPRESS_APP_PASSWORD": "x y z"}, "BLOG_URL"),
        ({"PUSH_SECRET": "too-short"}, "PUSH_SECRET"),
        ({"PUSH_HOST": "bot.example/push"}, "PUSH_HOST"),
        ({"PUSH_PORT": "http"}, "PUSH_PORT"),
        ({"PUSH_PORT": "70000"}, "PUSH_PORT"),
        ({"BLOG_NAME": "x" * 41}, "BLOG_NAME"),
        ({"MIRROR_TIME_SCALE": "fast"}, "MIRROR_TIME_SCALE"),
        ({"MIRROR_TIME_SCALE": "2"}, "MIRROR_TIME_SCALE"),
    ],
)
def test_bad_value_names_the_variable_in_one_line(env, variable):
    with pytest.raises(ConfigError) as caught:
        parse_settings(env)
    message = str(caught.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message
    assert TOKEN not in message


def test_required_token_explains_where_to_get_it():
    with pytest.raises(ConfigError, match=r"^DISCORD_TOKEN: is not set.*Developer Portal"):
        parse_settings({}).require_token()


def test_urls_lose_trailing_slash():
    settings = parse_settings({"DISCORD_API_BASE": "http://127.0.0.1:5000/api/v10/"})
    assert settings.discord_api_base == "http://127.0.0.1:5000/api/v10"


def test_push_is_off_without_a_secret_and_the_secret_never_shows():
    assert parse_settings({}).push_secret is None
    secret = "s" * 40
    settings = parse_settings({"PUSH_SECRET": secret, "PUSH_PORT": "9000"})
    assert settings.push_secret is not None and settings.push_secret.reveal() == secret
    assert (settings.push_host, settings.push_port) == ("127.0.0.1", 9000)
    assert secret not in repr(settings)


def test_commenters_are_shown_with_the_blog_name_or_its_host():
    assert parse_settings({"BLOG_URL": "https://films.example.org/blog"}).blog_display_name == (
        "films.example.org"
    )
    named = parse_settings({"BLOG_URL": "https://films.example.org", "BLOG_NAME": "Frame by Frame"})
    assert named.blog_display_name == "Frame by Frame"
