"""What the Dockerfile builds, checked without a Docker engine (the test machines have none):
the files its COPY lines bring are installed as its RUN line does (`pip install .`); from that
install alone, outside the repository, its ENTRYPOINT + CMD run the bot against the emulator
with its ENV and WORKDIR, its HEALTHCHECK command says the bot is alive, and its STOPSIGNAL stops
it cleanly within Docker's grace period. The base image and the apt line are not exercised.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from bot.config import DEFAULT_PUSH_PORT

from .conftest import World
from .test_run_process import operator_env

REPO = Path(__file__).resolve().parents[2]
DOCKER_STOP_GRACE = 10  # seconds `docker stop` waits before SIGKILL


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    logical, pending = [], ""
    for line in dockerfile.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    parsed = []
    for text in logical:
        keyword, _, arguments = text.strip().partition(" ")
        parsed.append((keyword.upper(), arguments.strip()))
    return parsed


def one(parsed: list[tuple[str, str]], keyword: str) -> str:
    [value] = [arguments for name, arguments in parsed if name == keyword]
    return value


def exec_form(arguments: str) -> list[str]:
    return json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)


def image_env(parsed: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, arguments in parsed:
        if name == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(arguments))
    return env


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[tuple[str, str]], Path]:
    """The Dockerfile's instructions, and its /app installed into a folder (the image's
    site-packages): the build context holds only what the COPY lines name."""
    parsed = instructions(REPO / "Dockerfile")
    assert any(n == "RUN" and a.startswith("pip install .") for n, a in parsed)
    root = tmp_path_factory.mktemp("image")
    app = root / "app"
    for name, arguments in parsed:
        if name == "COPY":
            *sources, destination = shlex.split(arguments)
            for source in sources:
                copy_into(REPO / source, app, destination)
    site = root / "site"
    # `pip install .` as in the image; --target keeps it out of this test's own venv.
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site)]
    completed = subprocess.run([*pip, str(app)], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return parsed, site


def copy_into(origin: Path, app: Path, destination: str) -> None:
    """COPY origin destination, with destination relative to WORKDIR (/app)."""
    relative = app / PurePosixPath(destination)
    target = relative / origin.name if destination.endswith("/") else relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if origin.is_dir():
        shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copy2(origin, target)


def container_env(world: World, parsed: list[tuple[str, str]], site: Path, data: Path) -> dict:
    """The image's ENV with /data mapped to `data`, the operator's variables, and the image's
    site-packages ahead of this venv's (which supplies the dependencies)."""
    env = operator_env(world)
    for name, value in image_env(parsed).items():
        env[name] = value.replace(volume(parsed), str(data), 1)
    env["PYTHONPATH"] = str(site)
    return env


def volume(parsed: list[tuple[str, str]]) -> str:
    [path] = exec_form(one(parsed, "VOLUME"))
    return path


async def run(args: list[str], env: dict, cwd: Path, timeout: float) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *args, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=timeout)
    assert process.returncode is not None
    return process.returncode, output.decode()


def test_the_image_runs_as_a_user_with_its_database_on_the_volume(image):
    parsed, _ = image
    assert one(parsed, "USER") not in ("root", "0")
    assert image_env(parsed)["DATABASE_PATH"].startswith(volume(parsed) + "/")
    assert [a for n, a in parsed if n == "WORKDIR"][-1] == volume(parsed)
    assert int(one(parsed, "EXPOSE")) == DEFAULT_PUSH_PORT
    # A published port reaches the container's interface, never its loopback.
    assert image_env(parsed)["PUSH_HOST"] == "0.0.0.0"
    assert exec_form(one(parsed, "HEALTHCHECK").partition("CMD")[2].strip())[1:] == [
        "check",
        "--live",
    ]


async def test_entrypoint_runs_the_installed_bot_and_the_healthcheck_sees_it(
    world: World, image, tmp_path: Path
):
    parsed, site = image
    data = tmp_path / "data"
    data.mkdir()
    env = container_env(world, parsed, site, data)
    script = site / "bin" / exec_form(one(parsed, "ENTRYPOINT"))[0]
    code, where = await run(
        [sys.executable, "-c", "import bot, cogs; print(bot.__file__, cogs.__file__)"],
        env,
        data,
        30,
    )
    assert code == 0 and where.count(str(site)) == 2, where  # not this repository's copy

    healthcheck = exec_form(one(parsed, "HEALTHCHECK").partition("CMD")[2].strip())
    health = [str(site / "bin" / healthcheck[0]), *healthcheck[1:]]
    command = [str(script), *exec_form(one(parsed, "CMD"))]
    bot = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=data,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await world.emu.wait_until(lambda: bool(world.emu.commands(world.app)), timeout=30)
        await world.emu.wait_for_gateway(world.app)
        about = await world.emu.run_command(world.alice, world.channel, "about")
        assert (await about.wait_for_message(timeout=10)).embeds[0]["title"] == "Reviewbridge"
        code, output = await run(health, env, data, timeout=20)  # HEALTHCHECK --timeout=20s
        assert code == 0 and "ok   running bot: heartbeat" in output, output
    finally:
        bot.send_signal(signal.SIGTERM)  # STOPSIGNAL
        output, _ = await asyncio.wait_for(bot.communicate(), timeout=DOCKER_STOP_GRACE)
    assert one(parsed, "STOPSIGNAL") == "SIGTERM"
    assert bot.returncode == 0, output.decode()[-3000:]
    assert Path(env["DATABASE_PATH"]).is_file()  # on the volume
    assert "Traceback" not in output.decode()
