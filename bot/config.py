"""Settings from the environment and `.env`, validated once into one typed object.

Every problem becomes a `ConfigError` naming the variable and the fix, so the CLI can print one
line and exit 2 instead of a traceback. Secrets are wrapped in `Secret` so that a repr, a log
line or an error message can never show them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

DEFAULT_DATABASE_PATH = Path("data/reviewbridge.sqlite3")
DEFAULT_POLL_SECONDS = 60
DEFAULT_PUSH_HOST = "127.0.0.1"
DEFAULT_PUSH_PORT = 8080
MIN_PUSH_SECRET = 32
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
DEFAULT_SHUTDOWN_DRAIN_SECONDS = 5.0  # below Docker's 10 s between SIGTERM and SIGKILL
MAX_SHUTDOWN_DRAIN_SECONDS = 300.0


class ConfigError(Exception):
    """A missing or malformed setting; `str()` is the one line shown to the operator."""

    def __init__(self, variable: str, problem: str, fix: str) -> None:
        self.variable = variable
        super().__init__(f"{variable}: {problem}. {fix}")


class Secret:
    """A string that never shows itself in repr, str or f-strings; `.reveal()` when needed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def masked(self) -> str:
        return f"<hidden, {len(self._value)} characters>"

    def __repr__(self) -> str:
        return f"Secret({self.masked()})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    discord_token: Secret | None = None
    database_path: Path = DEFAULT_DATABASE_PATH
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    log_format: str = "text"  # "json": one JSON object per line
    shutdown_drain_seconds: float = DEFAULT_SHUTDOWN_DRAIN_SECONDS
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    blog_url: str | None = None
    blog_feed_url: str | None = None
    wordpress_user: str | None = None
    wordpress_app_password: Secret | None = field(default=None)
    blog_poll_seconds: int = DEFAULT_POLL_SECONDS
    blog_allow_private_host: bool = False
    push_secret: Secret | None = None  # without it the push endpoint is off
    push_host: str = DEFAULT_PUSH_HOST
    push_port: int = DEFAULT_PUSH_PORT  # 0: any free port (tests)
    blog_name: str | None = None
    mirror_time_scale: float = 1.0  # < 1 only against a time-scaled Discord emulator (tests)

    @property
    def blog_configured(self) -> bool:
        return bool(self.blog_url or self.blog_feed_url)

    @property
    def blog_writable(self) -> bool:
        return bool(self.blog_url and self.wordpress_user and self.wordpress_app_password)

    @property
    def blog_display_name(self) -> str:
        """Shown after commenter names ("Ada · Frame by Frame"): BLOG_NAME, else the site's host."""
        if self.blog_name:
            return self.blog_name
        url = self.blog_url or self.blog_feed_url
        return (urlsplit(url).hostname if url else None) or "the blog"

    @property
    def log_level_number(self) -> int:
        return logging.getLevelName(self.log_level)

    def require_token(self) -> Secret:
        if self.discord_token is None:
            raise ConfigError(
                "DISCORD_TOKEN",
                "is not set",
                "Copy the bot token from the Discord Developer Portal (Bot > Reset Token) "
                "into .env or the environment.",
            )
        return self.discord_token


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Read the process environment (winning) over `.env` in the working directory."""
    merged: dict[str, str] = {}
    dotenv_path = env_file if env_file is not None else Path.cwd() / ".env"
    if dotenv_path.is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    return parse_settings(merged)


def parse_settings(env: Mapping[str, str]) -> Settings:
    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    password = get("WORDPRESS_APP_PASSWORD")
    settings = Settings(
        discord_token=_token(get("DISCORD_TOKEN")),
        database_path=_database_path(get("DATABASE_PATH")),
        dev_guild_id=_snowflake("DEV_GUILD_ID", get("DEV_GUILD_ID")),
        log_level=_log_level(get("LOG_LEVEL")),
        log_format=_log_format(get("LOG_FORMAT")),
        shutdown_drain_seconds=_drain_seconds(get("SHUTDOWN_DRAIN_SECONDS")),
        discord_api_base=_url("DISCORD_API_BASE", get("DISCORD_API_BASE"), ("http", "https")),
        discord_gateway_url=_url("DISCORD_GATEWAY_URL", get("DISCORD_GATEWAY_URL"), ("ws", "wss")),
        blog_url=_url("BLOG_URL", get("BLOG_URL"), ("http", "https")),
        blog_feed_url=_url("BLOG_FEED_URL", get("BLOG_FEED_URL"), ("http", "https")),
        wordpress_user=get("WORDPRESS_USER"),
        wordpress_app_password=Secret(password) if password else None,
        blog_poll_seconds=_poll_seconds(get("BLOG_POLL_SECONDS")),
        blog_allow_private_host=_boolean("BLOG_ALLOW_PRIVATE_HOST", get("BLOG_ALLOW_PRIVATE_HOST")),
        push_secret=_push_secret(get("PUSH_SECRET")),
        push_host=_push_host(get("PUSH_HOST")),
        push_port=_push_port(get("PUSH_PORT")),
        blog_name=_blog_name(get("BLOG_NAME")),
        mirror_time_scale=_time_scale(get("MIRROR_TIME_SCALE")),
    )
    _check_wordpress_pair(settings)
    return settings


def _token(value: str | None) -> Secret | None:
    if value is None:
        return None
    if value.lower().startswith("bot "):
        raise ConfigError(
            "DISCORD_TOKEN", "starts with 'Bot '", "Set only the token itself, without the prefix."
        )
    parts = value.split(".")
    if len(parts) != 3 or not all(parts) or any(ch.isspace() for ch in value):
        raise ConfigError(
            "DISCORD_TOKEN",
            "does not look like a bot token (three parts separated by dots)",
            "Copy it again from the Discord Developer Portal (Bot > Reset Token).",
        )
    return Secret(value)


def _database_path(value: str | None) -> Path:
    if value is None:
        return DEFAULT_DATABASE_PATH
    path = Path(value).expanduser()
    if path.is_dir():
        raise ConfigError(
            "DATABASE_PATH",
            f"'{value}' is a directory",
            "Give a file path such as data/bot.sqlite3.",
        )
    return path


def _snowflake(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 15 <= len(value) <= 21:
        raise ConfigError(
            name,
            f"'{value}' is not a Discord id",
            "Enable Developer Mode in Discord, right-click the server and choose Copy Server ID.",
        )
    return int(value)


def _log_level(value: str | None) -> str:
    if value is None:
        return "INFO"
    level = value.upper()
    if level not in LOG_LEVELS:
        raise ConfigError("LOG_LEVEL", f"'{value}' is not a log level", f"Use one of {LOG_LEVELS}.")
    return level


def _url(name: str, value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        example = f"{schemes[0]}://example.org"
        raise ConfigError(
            name,
            f"'{value}' is not a {' or '.join(schemes)} URL",
            f"Give a full URL such as {example}.",
        )
    return value.rstrip("/")


def _poll_seconds(value: str | None) -> int:
    if value is None:
        return DEFAULT_POLL_SECONDS
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(
            "BLOG_POLL_SECONDS",
            f"'{value}' is not a whole number of seconds",
            f"Use a number such as {DEFAULT_POLL_SECONDS}.",
        )
    return int(value)


def _boolean(name: str, value: str | None) -> bool:
    if value is None:
        return False
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, f"'{value}' is not true or false", "Use true or false.")


def _push_secret(value: str | None) -> Secret | None:
    if value is None:
        return None
    if len(value) < MIN_PUSH_SECRET:
        raise ConfigError(
            "PUSH_SECRET",
            f"is only {len(value)} characters long",
            f"Use at least {MIN_PUSH_SECRET} random characters, e.g. from `openssl rand -hex 32`.",
        )
    return Secret(value)


def _push_host(value: str | None) -> str:
    if value is None:
        return DEFAULT_PUSH_HOST
    host = value.strip("[]")
    if not host or any(ch.isspace() or ch in "/?#@" for ch in host):
        raise ConfigError(
            "PUSH_HOST",
            f"'{value}' is not a host name or address",
            "Use an address to listen on, such as 127.0.0.1 or 0.0.0.0.",
        )
    return host


def _push_port(value: str | None) -> int:
    if value is None:
        return DEFAULT_PUSH_PORT
    if not value.isdigit() or int(value) > 65535:
        raise ConfigError(
            "PUSH_PORT",
            f"'{value}' is not a port number",
            f"Use a number from 1 to 65535, such as {DEFAULT_PUSH_PORT}.",
        )
    return int(value)


def _blog_name(value: str | None) -> str | None:
    if value is not None and len(value) > 40:
        raise ConfigError(
            "BLOG_NAME",
            f"is {len(value)} characters long",
            "Use at most 40: it follows every commenter's name in Discord.",
        )
    return value


def _log_format(value: str | None) -> str:
    if value is None:
        return "text"
    if value.lower() not in LOG_FORMATS:
        raise ConfigError(
            "LOG_FORMAT", f"'{value}' is not a log format", "Use text (the default) or json."
        )
    return value.lower()


def _drain_seconds(value: str | None) -> float:
    if value is None:
        return DEFAULT_SHUTDOWN_DRAIN_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0.0 <= seconds <= MAX_SHUTDOWN_DRAIN_SECONDS:  # also refuses nan
        raise ConfigError(
            "SHUTDOWN_DRAIN_SECONDS",
            f"'{value}' is not a number of seconds from 0 to {MAX_SHUTDOWN_DRAIN_SECONDS:.0f}",
            "Use e.g. 5 (keep it below the time your supervisor waits after SIGTERM).",
        )
    return seconds


def _time_scale(value: str | None) -> float:
    if value is None:
        return 1.0
    try:
        scale = float(value)
    except ValueError:
        scale = 0.0
    if not 0.0 < scale <= 1.0:
        raise ConfigError(
            "MIRROR_TIME_SCALE",
            f"'{value}' is not a number above 0 and at most 1",
            "Leave it unset for real Discord; tests set the emulator's time scale, e.g. 0.05.",
        )
    return scale


def _check_wordpress_pair(settings: Settings) -> None:
    if bool(settings.wordpress_user) != bool(settings.wordpress_app_password):
        missing = "WORDPRESS_APP_PASSWORD" if settings.wordpress_user else "WORDPRESS_USER"
        raise ConfigError(
            missing,
            "is not set while its partner is",
            "Set both WORDPRESS_USER and WORDPRESS_APP_PASSWORD, or neither for read-only.",
        )
    if settings.wordpress_user and not settings.blog_url:
        raise ConfigError(
            "BLOG_URL",
            "is not set but WordPress credentials are",
            "Set BLOG_URL to your WordPress site, e.g. https://blog.example.org.",
        )
