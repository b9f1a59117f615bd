"""The `reviewbridge` command as an operator meets it: one line per problem, exit code 2."""

import os
import subprocess
import sys

import pytest

from bot import __version__

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"


def reviewbridge(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BLOG_"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=clean,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_version(tmp_path):
    result = reviewbridge("--version", env={}, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"reviewbridge {__version__}"


def test_run_without_token_says_what_to_do(tmp_path):
    result = reviewbridge("run", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "DISCORD_TOKEN: is not set. Copy the bot token from the Discord Developer Portal "
        "(Bot > Reset Token) into .env or the environment."
    ]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DISCORD_TOKEN", "Bot " + TOKEN),
        ("DISCORD_TOKEN", "short"),
        ("DEV_GUILD_ID", "abc"),
        ("LOG_LEVEL", "chatty"),
        ("DISCORD_API_BASE", "not a url"),
        ("DISCORD_GATEWAY_URL", "https://gateway.example"),
        ("BLOG_URL", "blog.example.org"),
        ("BLOG_POLL_SECONDS", "-5"),
    ],
)
def test_each_bad_variable_gives_one_line_and_exit_2(tmp_path, variable, value):
    result = reviewbridge(env={variable: value}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{variable}: ")
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stderr + result.stdout


def test_dotenv_file_is_read_and_environment_wins(tmp_path):
    (tmp_path / ".env").write_text("LOG_LEVEL=chatty\nDEV_GUILD_ID=abc\n")
    result = reviewbridge("check", env={"LOG_LEVEL": "INFO"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("DEV_GUILD_ID: ")


def test_check_migrates_the_database_and_passes_without_token(tmp_path):
    db = tmp_path / "nested" / "bot.sqlite3"
    result = reviewbridge("check", env={"DATABASE_PATH": str(db)}, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok   database: {db} (schema" in result.stdout
    assert db.exists()


def test_check_fails_on_a_database_from_the_future(tmp_path):
    import sqlite3

    db = tmp_path / "bot.sqlite3"
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA user_version = 999")
    result = reviewbridge("check", env={"DATABASE_PATH": str(db)}, cwd=tmp_path)
    assert result.returncode == 1
    assert "FAIL database:" in result.stdout
    assert "newer Reviewbridge" in result.stdout


def test_backup_command_copies_the_database(tmp_path):
    db = tmp_path / "bot.sqlite3"
    assert reviewbridge("check", env={"DATABASE_PATH": str(db)}, cwd=tmp_path).returncode == 0
    result = reviewbridge(
        "backup", str(tmp_path / "b" / "copy.sqlite3"), env={"DATABASE_PATH": str(db)}, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"backup written: {tmp_path / 'b' / 'copy.sqlite3'} (schema ")
    again = reviewbridge(
        "backup", str(tmp_path / "b" / "copy.sqlite3"), env={"DATABASE_PATH": str(db)}, cwd=tmp_path
    )
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"backup: {tmp_path / 'b' / 'copy.sqlite3'} already exists; choose a new file name"
    )
