"""Logging setup: discord.py's human format by default, or one JSON object per line.

`LOG_FORMAT=json` writes `{"time", "level", "logger", "message", ...context}` per event. The
context comes from `extra={"guild": ..., "review": ..., "comment": ...}` and from the
`key=value` pairs the messages already carry ("sync failed review=42"); parsed values stay
strings, so Discord ids keep every digit in any JSON reader. Exceptions are one `exc` field.
No configured secret reaches the output in either format.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.config import Secret, Settings

REDACTED = "[redacted]"
# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_FIXED = ("time", "level", "logger", "message", "exc", "stack")
_SCALARS = (str, int, float, bool, type(None))
_EXACT_IN_JSON = 2**53
_PAIR = re.compile(r"(?<![\w.=])([A-Za-z_][\w.]*)=([^\s,;()\[\]{}'\"]+)")


class RedactSecrets(logging.Filter):
    """Defence in depth: no log record may carry a configured secret, whoever logs it."""

    def __init__(self, secrets: Sequence[Secret]) -> None:
        super().__init__()
        self._secrets = [s.reveal() for s in secrets if s.reveal()]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            record.msg, record.args = redact(message, self._secrets), None
        return True


def redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, context."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        for key, value in _PAIR.findall(message):
            if key not in _FIXED:
                event.setdefault(key, value.rstrip(".:"))
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in _FIXED and not key.startswith("_"):
                event[key] = value if isinstance(value, _SCALARS) else str(value)
                if isinstance(value, int) and abs(value) > _EXACT_IN_JSON:
                    event[key] = str(value)  # a Discord id: JavaScript readers would round it
        if record.exc_info:
            event["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            event["exc"] = record.exc_text
        if record.stack_info:
            event["stack"] = self.formatStack(record.stack_info)
        return json.dumps(event, ensure_ascii=False, default=str)


class Redacting(logging.Formatter):
    """Wraps a formatter and removes the secrets from its final text (tracebacks, extras)."""

    def __init__(self, inner: logging.Formatter, secrets: Sequence[str]) -> None:
        super().__init__()
        self._inner = inner
        self._secrets = list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return redact(self._inner.format(record), self._secrets)


def setup_logging(settings: Settings) -> None:
    import discord

    if settings.log_format == "json":
        discord.utils.setup_logging(level=settings.log_level_number, formatter=JsonFormatter())
    else:
        discord.utils.setup_logging(level=settings.log_level_number)
    secrets = [s for s in (settings.discord_token, settings.wordpress_app_password) if s]
    revealed = [s.reveal() for s in secrets if s.reveal()]
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets(secrets))
        if handler.formatter is not None and not isinstance(handler.formatter, Redacting):
            handler.setFormatter(Redacting(handler.formatter, revealed))
