"""The `reviewbridge` command: run the bot, check a setup, look at the blog as the bot sees it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__
from bot.config import ConfigError, Secret, Settings, load_settings

if TYPE_CHECKING:
    from bot.app import ReviewBridge

# discord.py and the bot are imported inside the commands that need them, so that `--version`
# and a configuration error answer at once.
log = logging.getLogger("bot")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reviewbridge",
        description="A Discord bot for the community around a review blog.",
    )
    parser.add_argument("--version", action="version", version=f"reviewbridge {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="start the bot (the default)")
    check = commands.add_parser(
        "check", help="check the configuration, database, Discord token and blog"
    )
    check.add_argument(
        "--live", action="store_true", help="only check that the running bot is alive (health)"
    )

    blog = commands.add_parser("blog", help="look at the blog as the bot sees it")
    blog_commands = blog.add_subparsers(dest="blog_command", metavar="WHAT", required=True)
    reviews = blog_commands.add_parser("reviews", help="published reviews, newest first")
    reviews.add_argument("--limit", type=_positive, default=20, metavar="N")
    reviews.add_argument("--json", action="store_true", help="JSON objects instead of lines")
    comments = blog_commands.add_parser("comments", help="a review's approved comment thread")
    comments.add_argument("post_id", metavar="POST_ID")
    comments.add_argument("--json", action="store_true", help="JSON objects instead of text")

    inspect = commands.add_parser("inspect", help="the review card the bot would post for a page")
    inspect.add_argument("target", metavar="URL_OR_HTML_FILE")
    inspect.add_argument("--json", action="store_true", help="a JSON object instead of text")

    backup = commands.add_parser(
        "backup", help="copy the database to PATH (safe while the bot runs)"
    )
    backup.add_argument("path", metavar="PATH")

    sandbox = commands.add_parser(
        "sandbox", help="try the bot in a local emulated Discord server, in your browser"
    )
    sandbox.add_argument(
        "--port", type=_port, default=8765, metavar="N", help="page port (0: any free port)"
    )
    sandbox.add_argument("--no-browser", action="store_true", help="only print the page's URL")
    return parser


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0 to 65535)")
    return int(text)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of at least 1")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sandbox":
        return run_sandbox(args)  # needs no token: its Discord is the emulator
    try:
        settings = load_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "check":
        from bot.checks import CHECKS, LIVE_CHECKS, run_checks

        return asyncio.run(run_checks(settings, LIVE_CHECKS if args.live else CHECKS))
    if args.command in ("blog", "inspect"):
        return run_blog_command(settings, args)
    if args.command == "backup":
        return run_backup(settings, Path(args.path))
    return run_bot(settings)


def run_blog_command(settings: Settings, args: argparse.Namespace) -> int:
    from bot import blog_cli
    from bot.blog.errors import BlogError

    if args.command == "inspect":
        job = blog_cli.inspect(settings, args.target, as_json=args.json)
    elif args.blog_command == "reviews":
        job = blog_cli.list_reviews(settings, limit=args.limit, as_json=args.json)
    else:
        job = blog_cli.list_comments(settings, args.post_id, as_json=args.json)
    try:
        return asyncio.run(job)
    except BlogError as error:
        return blog_cli.report_blog_error(error)


def run_backup(settings: Settings, target: Path) -> int:
    from bot.storage import DatabaseError
    from bot.storage.backup import backup_database

    try:
        result = asyncio.run(backup_database(settings.database_path, target))
    except DatabaseError as error:
        print(f"backup: {error}", file=sys.stderr)
        return EXIT_FAILED
    size_mb = result.size_bytes / 1_000_000
    print(f"backup written: {result.path} (schema {result.schema_version}, {size_mb:.1f} MB)")
    return EXIT_OK


def run_sandbox(args: argparse.Namespace) -> int:
    import errno

    from bot.config import parse_settings
    from bot.sandbox.runner import operator_environment, serve_sandbox

    try:
        operator = operator_environment()
        setup_logging(parse_settings(operator))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG
    try:
        asyncio.run(
            serve_sandbox(port=args.port, open_browser=not args.no_browser, operator=operator)
        )
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(
            f"sandbox: port {args.port} is in use; choose another with --port N (0: any free port)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def run_bot(settings: Settings) -> int:
    import aiohttp
    import discord

    from bot.storage import DatabaseError

    try:
        token = settings.require_token()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(settings)
    try:
        asyncio.run(_serve(settings, token))
    except discord.LoginFailure:
        print(
            "DISCORD_TOKEN: Discord rejected the token. Reset it in the Developer Portal "
            "(Bot > Reset Token) and update .env.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    except DatabaseError as error:
        print(f"DATABASE_PATH: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except (aiohttp.ClientError, OSError) as error:
        where = settings.discord_api_base or "Discord"
        print(
            f"Cannot reach {where} ({error}). Check the network, or DISCORD_API_BASE.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


async def _serve(settings: Settings, token: Secret) -> None:
    from bot.app import ReviewBridge

    bot = ReviewBridge(settings)
    serving = asyncio.current_task()
    assert serving is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda s=signum: _shutdown(bot, s, serving))
    try:
        async with bot:  # its exit closes everything, also after a cancelled start-up
            await bot.start(token.reveal())
    except asyncio.CancelledError:
        if not _stopped_early:
            raise
        serving.uncancel()
        log.info("stopped during start-up")
        return
    # start() returns as soon as Discord is disconnected; a close begun by a signal still has
    # the mirror, the HTTP session and the database to close (its aiosqlite thread would keep
    # the process alive).
    await asyncio.gather(*_closing)
    log.info("stopped")


_closing: set[asyncio.Future[None]] = set()
_stopped_early: list[int] = []  # the signal that cut start-up short, if one did


def _shutdown(bot: ReviewBridge, signum: int, serving: asyncio.Task[None]) -> None:
    log.info("received %s, closing", signal.Signals(signum).name)
    if not bot.set_up:
        # Closing now would shut the database under setup_hook's feet: stop start-up itself
        # (once: a second signal must not cut short the closing that follows).
        if not _stopped_early:
            _stopped_early.append(signum)
            serving.cancel()
        return
    task = asyncio.ensure_future(bot.close())
    _closing.add(task)  # the loop keeps only weak references to tasks
    task.add_done_callback(_closing.discard)


def setup_logging(settings: Settings) -> None:
    """LOG_FORMAT's format (human or JSON lines) on the root logger, secrets redacted."""
    from bot import logs

    logs.setup_logging(settings)
