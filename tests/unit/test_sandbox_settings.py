"""What the sandbox takes from the operator's setup: their blog and log level, never Discord."""

from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.sandbox.fake_wordpress import FakeWordPress
from bot.sandbox.runner import operator_environment, sandbox_settings, uses_own_blog
from discord_emulator import DiscordEmulator


def test_operator_environment_keeps_blog_settings_and_drops_discord(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "DISCORD_TOKEN=Bot garbage\nDATABASE_PATH=/nowhere\nBLOG_URL=https://blog.example.org\n"
    )
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.delenv("BLOG_FEED_URL", raising=False)
    operator = operator_environment(env_file)
    assert operator["BLOG_URL"] == "https://blog.example.org"
    assert operator["LOG_LEVEL"] == "WARNING"
    assert "DISCORD_TOKEN" not in operator and "DATABASE_PATH" not in operator
    assert uses_own_blog(operator)


def test_built_in_blog_is_writable_and_polled_often(tmp_path: Path):
    emu, blog = DiscordEmulator(), FakeWordPress()
    blog.url = "http://127.0.0.1:9"
    settings = sandbox_settings({}, emu, tmp_path / "db.sqlite3", blog, "app pass word")
    assert settings.discord_api_base == emu.api_base
    assert settings.discord_token is None
    assert settings.blog_url == blog.url and settings.blog_writable
    assert settings.blog_allow_private_host and settings.blog_poll_seconds == 2


def test_operators_own_blog_is_used_as_configured(tmp_path: Path):
    operator = {"BLOG_URL": "https://blog.example.org", "BLOG_POLL_SECONDS": "300"}
    settings = sandbox_settings(operator, DiscordEmulator(), tmp_path / "db", None, "unused")
    assert (settings.blog_url, settings.blog_poll_seconds) == ("https://blog.example.org", 300)
    assert not settings.blog_writable
    with pytest.raises(ConfigError, match="BLOG_URL"):
        sandbox_settings({"BLOG_URL": "ftp://x"}, DiscordEmulator(), tmp_path / "db", None, "")
