-- The held-reply check runs every BLOG_POLL_SECONDS over all threads: an index of only the
-- held rows keeps it from reading the whole replies table (which only grows).
CREATE INDEX discord_replies_held ON discord_replies (message_id) WHERE status = 'held';
