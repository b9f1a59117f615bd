"""The fake WordPress now lives in the package (the sandbox serves it too); tests import it here."""

from bot.sandbox.fake_wordpress import (
    FLOOD_SECONDS,
    FakeComment,
    FakePost,
    FakeUser,
    FakeWordPress,
    Fault,
    Seen,
    WPError,
    autop,
    page_of,
)

__all__ = [
    "FLOOD_SECONDS",
    "FakeComment",
    "FakePost",
    "FakeUser",
    "FakeWordPress",
    "Fault",
    "Seen",
    "WPError",
    "autop",
    "page_of",
]
