"""How the bot's background parts are doing, for /about and the logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class ComponentHealth:
    name: str
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0

    def succeeded(self) -> None:
        self.last_success = datetime.now(UTC)
        self.consecutive_failures = 0

    def failed(self, error: str) -> None:
        self.last_error = error
        self.last_error_at = datetime.now(UTC)
        self.consecutive_failures += 1

    @property
    def ok(self) -> bool:
        return self.consecutive_failures == 0


@dataclass
class HealthBoard:
    components: dict[str, ComponentHealth] = field(default_factory=dict)

    def component(self, name: str) -> ComponentHealth:
        return self.components.setdefault(name, ComponentHealth(name))
