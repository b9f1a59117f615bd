"""The core stays discord-agnostic and imports point one way: cogs -> bot."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DISCORD_FREE = ("bot/domain", "bot/sync", "bot/blog", "bot/storage")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_core_packages_do_not_import_discord():
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for folder in DISCORD_FREE
        for path in python_files(folder)
        for name in imported_modules(path)
        if name == "discord" or name.startswith("discord.")
    ]
    assert offenders == []


def test_bot_never_imports_cogs():
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files("bot")
        if any(name == "cogs" or name.startswith("cogs.") for name in imported_modules(path))
    ]
    assert offenders == []


def test_domain_does_no_io():
    io_modules = {"aiohttp", "aiosqlite", "sqlite3", "socket", "requests", "urllib.request"}
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in python_files("bot/domain")
        for name in imported_modules(path)
        if name.split(".")[0] in io_modules or name in io_modules or name.startswith("bot.storage")
    ]
    assert offenders == []
