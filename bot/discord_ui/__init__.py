"""The one place in bot/ that knows Discord's shapes and limits: embeds, views, invites."""
