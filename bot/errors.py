"""Errors a user can cause. Their message is shown to that user as it is, so write it for them."""


class UserFacingError(Exception):
    """Raised by core code or cogs when the user asked for something that cannot be done."""
