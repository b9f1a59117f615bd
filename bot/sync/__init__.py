"""The comment mirror between the blog and Discord threads: planning, rendering, the outbox
worker and the ports it talks through. Discord-agnostic: the cog layer implements the ports."""
