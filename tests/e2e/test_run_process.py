"""`reviewbridge run` and `reviewbridge check` as separate processes against the emulator."""

import asyncio
import os
import signal
import sqlite3
import sys

from discord_emulator import DiscordEmulator

from .conftest import TOKEN, World


def operator_env(world: World, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BLOG_"))}
    env.pop("DATABASE_PATH", None)
    env.update(
        {
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_BASE": world.emu.api_base,
            "DISCORD_GATEWAY_URL": world.emu.gateway_url,
            **extra,
        }
    )
    return env


async def test_run_with_only_token_and_urls_answers_about_and_stops_on_sigterm(world, tmp_path):
    emu: DiscordEmulator = world.emu
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=operator_env(world),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await emu.wait_until(lambda: bool(emu.commands(world.app)), timeout=30)
        await emu.wait_for_gateway(world.app)
        result = await emu.run_command(world.alice, world.channel, "about")
        reply = await result.wait_for_message(timeout=10)
        assert reply.ephemeral
        assert reply.embeds[0]["title"] == "Reviewbridge"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    log = output.decode()
    assert process.returncode == 0, log
    assert (tmp_path / "data" / "reviewbridge.sqlite3").exists()  # the default home
    assert TOKEN not in log
    assert "Traceback" not in log


async def run_check(world: World, tmp_path, token: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        env=operator_env(world, DISCORD_TOKEN=token),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    return process.returncode, output.decode()


async def test_check_verifies_the_token_and_prints_the_invite(world, tmp_path):
    code, output = await run_check(world, tmp_path, TOKEN)
    assert code == 0, output
    assert f"ok   discord token: logged in as Reviewbridge (id {world.app.bot.id})" in output
    assert (
        f"ok   invite: https://discord.com/oauth2/authorize?client_id={world.app.id}"
        "&scope=bot+applications.commands&permissions=326954503232"
    ) in output
    assert TOKEN not in output


async def test_check_reports_a_rejected_token(world, tmp_path):
    wrong = TOKEN[:-4] + "XXXX"
    code, output = await run_check(world, tmp_path, wrong)
    assert code == 1
    assert "FAIL discord token: Discord rejected the token" in output
    assert wrong not in output


async def test_check_live_follows_the_running_bot(world, tmp_path):
    async def check_live() -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "check", "--live",
            env=operator_env(world), cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
        return process.returncode, output.decode()

    code, output = await check_live()
    assert code == 1 and "FAIL running bot: no heartbeat yet" in output
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=operator_env(world), cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await world.emu.wait_for_gateway(world.app)
        await asyncio.sleep(0.5)
        code, output = await check_live()
        assert code == 0, output
        assert "ok   running bot: heartbeat" in output
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.wait(), timeout=30)


async def test_sigterm_during_start_up_stops_cleanly(world, tmp_path):
    """An operator stopping the bot while it still starts (a slow Discord holds its command
    sync): it stops at once with exit status 0, no traceback, the database intact."""
    sync = "PUT /applications/{application_id}/commands"
    world.emu.stall_next(sync, seconds=20)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=operator_env(world), cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    async with asyncio.timeout(30):
        while not world.emu.stats.requests[sync]:  # start-up is waiting for the sync
            await asyncio.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=10)
    log = output.decode()
    assert process.returncode == 0, log
    assert "stopped during start-up" in log and "Traceback" not in log, log
    database = tmp_path / "data" / "reviewbridge.sqlite3"
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
