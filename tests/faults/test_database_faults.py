"""A read-only database and a full disk: `reviewbridge check` and `reviewbridge run` say so in one
line (no traceback, no advice to throw the file away) and the file stays intact.

Read-only: the file is 0444 and its folder 0555. Root ignores modes, so as root the bot runs
under `setpriv` without the capabilities that bypass them. Full disk: a small tmpfs filled to
the last byte (needs root and mount rights; skipped where that is not possible).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from discord_emulator import DiscordEmulator
from tests.e2e.conftest import TOKEN

NO_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


def env_for(database: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BLOG_"))}
    env.update(DATABASE_PATH=str(database), **extra)
    return env


def as_operator() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("root without setpriv cannot be denied a write")
    return NO_OVERRIDE


async def reviewbridge(command: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *as_operator(), sys.executable, "-m", "bot", command, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, output.decode(errors="replace")


def populated(path: Path) -> str:
    """A migrated database with a little data; returns its content digest."""
    code = subprocess.run(
        [sys.executable, "-m", "bot", "check"], env=env_for(path), cwd=path.parent,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert code.returncode == 0, code.stdout + code.stderr
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return digest(path)


def digest(path: Path, *, frozen: bool = False) -> str:
    """The integrity-checked content; `frozen` reads without creating -wal/-shm files."""
    uri = f"file:{path}?mode=ro&immutable=1" if frozen else f"file:{path}"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return "\n".join(db.iterdump())


def one_clear_line(output: str, prefix: str, advice: str) -> None:
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, output
    assert advice in lines[0] and "restore a backup" not in lines[0], output


@contextlib.contextmanager
def tiny_disk(folder: Path, size_kb: int) -> Iterator[Path]:
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full disk is simulated with a tmpfs mount, which needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)],
        capture_output=True, text=True,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        with contextlib.suppress(OSError):  # ENOSPC: the disk is full
            while True:
                os.write(fd, b"\0" * 4096)
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0")
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "data"
    folder.mkdir()
    database = folder / "bot.sqlite3"
    populated(database)
    assert [p.name for p in folder.iterdir()] == ["bot.sqlite3"]  # no -wal/-shm to write to
    database.chmod(0o444)
    folder.chmod(0o555)
    yield database
    folder.chmod(0o755)
    database.chmod(0o644)


async def test_read_only_database_check_and_run_say_so_and_keep_the_file(
    read_only: Path, tmp_path: Path
):
    before = digest(read_only, frozen=True)
    code, output = await reviewbridge("check", env_for(read_only), tmp_path)
    assert code != 0, output
    one_clear_line(output, "FAIL database:", "writable")

    async with DiscordEmulator(time_scale=0.05) as emu:
        app = emu.create_application("Reviewbridge", token=TOKEN)
        emu.install_app(app, emu.create_guild("Film Club"))
        env = env_for(
            read_only,
            DISCORD_TOKEN=TOKEN,
            DISCORD_API_BASE=emu.api_base,
            DISCORD_GATEWAY_URL=emu.gateway_url,
        )
        code, output = await reviewbridge("run", env, tmp_path)
    assert code != 0, output
    one_clear_line(output, "DATABASE_PATH:", "writable")
    assert digest(read_only, frozen=True) == before


async def test_full_disk_check_and_run_say_so_then_work_once_space_is_freed(tmp_path: Path):
    with tiny_disk(tmp_path / "disk", 1024) as disk:
        database = disk / "bot.sqlite3"
        before = populated(database)
        filler = fill(disk)

        code, output = await reviewbridge("check", env_for(database), tmp_path)
        assert code != 0, output
        one_clear_line(output, "FAIL database:", "Free disk space")
        async with DiscordEmulator(time_scale=0.05) as emu:
            app = emu.create_application("Reviewbridge", token=TOKEN)
            emu.install_app(app, emu.create_guild("Film Club"))
            env = env_for(
                database,
                DISCORD_TOKEN=TOKEN,
                DISCORD_API_BASE=emu.api_base,
                DISCORD_GATEWAY_URL=emu.gateway_url,
            )
            code, output = await reviewbridge("run", env, tmp_path)
        assert code != 0, output
        one_clear_line(output, "DATABASE_PATH:", "Free disk space")

        filler.unlink()
        assert digest(database) == before
        code, output = await reviewbridge("check", env_for(database), tmp_path)
        assert "ok   database:" in output, output


async def test_fresh_database_on_a_full_disk_is_a_clear_error(tmp_path: Path):
    with tiny_disk(tmp_path / "disk", 64) as disk:
        fill(disk)
        code, output = await reviewbridge("check", env_for(disk / "bot.sqlite3"), tmp_path)
        assert code != 0, output
        one_clear_line(output, "FAIL database:", "Free disk space")
