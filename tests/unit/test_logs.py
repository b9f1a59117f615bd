"""LOG_FORMAT: the human format by default, JSON lines on request, secrets in neither."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from bot.config import ConfigError, parse_settings
from bot.logs import JsonFormatter, setup_logging

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"
APP_PASSWORD = "abcd EFGH ijkl MNOP qrst UVWX"
ENV = {
    "DISCORD_TOKEN": TOKEN,
    "BLOG_URL": "https://blog.example.org",
    "WORDPRESS_USER": "reviewbridge",
    "WORDPRESS_APP_PASSWORD": APP_PASSWORD,
}


@pytest.fixture(autouse=True)
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def record(message: str, *args: object, **kwargs: object) -> logging.LogRecord:
    return logging.getLogger("bot.sync").makeRecord(
        "bot.sync", logging.WARNING, __file__, 1, message, args, None, **kwargs
    )


def as_json(rec: logging.LogRecord) -> dict[str, object]:
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    return json.loads(line)


def test_json_line_has_time_level_logger_message():
    event = as_json(record("connected to %d guilds", 3))
    assert event["level"] == "WARNING"
    assert event["logger"] == "bot.sync"
    assert event["message"] == "connected to 3 guilds"
    assert str(event["time"]).endswith("Z") and "T" in str(event["time"])


def test_key_value_pairs_in_the_message_become_fields():
    message = "outbox row %d (%s thread=%d) failed: sync failed review=%s comment=%s guild=%s."
    event = as_json(record(message, 7, "post", 123456789012345678, "42", "9", 10))
    assert event["thread"] == "123456789012345678"  # strings: every digit survives
    assert event["review"] == "42"
    assert event["comment"] == "9"
    assert event["guild"] == "10"


def test_extra_context_becomes_fields_and_wins_over_the_message():
    extra = {"guild": 123456789012345678, "review": "2", "comment": 9, "channel": None}
    event = as_json(record("linked review=1", extra=extra))
    assert (event["review"], event["comment"], event["channel"]) == ("2", 9, None)
    assert event["guild"] == "123456789012345678"  # too big for a JSON double: a string


def test_an_exception_is_one_field_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        rec = logging.getLogger("bot").makeRecord(
            "bot", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    event = as_json(rec)
    assert "ValueError: boom" in str(event["exc"])
    assert "Traceback" in str(event["exc"])


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_reaches_the_output_in_either_format(capsys, log_format):
    settings = parse_settings({**ENV, "LOG_FORMAT": log_format})
    setup_logging(settings)
    log = logging.getLogger("bot.test")
    log.warning("token %s and password %s", TOKEN, APP_PASSWORD)
    log.warning("context", extra={"guild": TOKEN, "review": APP_PASSWORD})
    try:
        raise RuntimeError(f"401 for {TOKEN} / {APP_PASSWORD}")
    except RuntimeError:
        log.exception("request failed")
    output = capsys.readouterr().err
    assert "[redacted]" in output
    assert TOKEN not in output
    assert APP_PASSWORD not in output
    lines = [line for line in output.splitlines() if line.strip()]
    if log_format == "json":
        events = [json.loads(line) for line in lines]
        assert [e["message"] for e in events][-3:] == [
            "token [redacted] and password [redacted]",
            "context",
            "request failed",
        ]
    else:
        assert not lines[0].startswith("{")


def test_default_is_the_human_format():
    assert parse_settings({}).log_format == "text"
    assert parse_settings({"LOG_FORMAT": "JSON"}).log_format == "json"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOG_FORMAT", "xml"),
        ("SHUTDOWN_DRAIN_SECONDS", "soon"),
        ("SHUTDOWN_DRAIN_SECONDS", "-1"),
        ("SHUTDOWN_DRAIN_SECONDS", "nan"),
        ("SHUTDOWN_DRAIN_SECONDS", "3600"),
    ],
)
def test_bad_values_are_one_line_config_errors(variable, value):
    with pytest.raises(ConfigError) as caught:
        parse_settings({variable: value})
    assert str(caught.value).startswith(f"{variable}: ")
    assert "\n" not in str(caught.value)


def test_shutdown_drain_seconds():
    assert parse_settings({}).shutdown_drain_seconds == 5.0
    assert parse_settings({"SHUTDOWN_DRAIN_SECONDS": "0"}).shutdown_drain_seconds == 0.0
    assert parse_settings({"SHUTDOWN_DRAIN_SECONDS": "2.5"}).shutdown_drain_seconds == 2.5
