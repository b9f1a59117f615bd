"""Fixtures for the integration tests against a real WordPress (Debian's package).

The site is started outside pytest, once per machine/CI run::

    sudo scripts/wordpress/install.sh   # Debian packages
    sudo scripts/wordpress/start.sh     # MariaDB + Apache on 127.0.0.1:8089, seed, env file

start.sh writes the env file (``$REVIEWBRIDGE_WP_ENV``, default
``/tmp/reviewbridge-wordpress/site.env``) that the ``wordpress`` fixture reads. When the file is
missing or the site does not answer, the tests are skipped locally and FAIL under CI (``CI`` set),
so that they can never be silently skipped there.

Fixtures:
    wordpress        (session) WordPressSite, read from the env file; the seed is restored once at
                     the start of the session when we run as root (opt out:
                     REVIEWBRIDGE_WP_NO_SESSION_RESEED=1).
    reseed_wordpress (function) a callable that restores the seed now and returns the new site.
    fresh_wordpress  (function) the site, restored to the seed after the test: use it in tests
                     that create, edit, approve or trash anything.
    wp_admin         (function, async) WordPressRest logged in as the administrator (a blog
                     moderator): edit, hold, approve, spam, trash or delete comments.
    wp_editor        (function, async) WordPressRest logged in as the bot's Editor account.
    http             (function, async) a plain aiohttp.ClientSession.
Functions:
    load_site(path), reseed(), set_option(name, value)
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import aiohttp
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = REPO_ROOT / "scripts" / "wordpress"
DEFAULT_ENV_FILE = "/tmp/reviewbridge-wordpress/site.env"
HOW_TO_START = (
    "Start the real WordPress first: run scripts/wordpress/install.sh and then "
    "scripts/wordpress/start.sh (as root) from the repository root."
)


def env_file_path() -> Path:
    return Path(os.environ.get("REVIEWBRIDGE_WP_ENV") or DEFAULT_ENV_FILE)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@dataclass(frozen=True)
class WordPressSite:
    """The seeded site, as described by start.sh's env file."""

    url: str  # BLOG_URL, no trailing slash, e.g. http://127.0.0.1:8089
    editor_user: str  # WORDPRESS_USER: the bot's Editor account
    editor_app_password: str  # WORDPRESS_APP_PASSWORD
    admin_user: str  # WP_ADMIN_USER
    admin_app_password: str  # WP_ADMIN_APP_PASSWORD
    her_post_id: int
    her_reader_comment_id: int
    her_reply_comment_id: int
    # Every WP_<NAME>_ID of the env file as ids["<name>"] (lower case), e.g. ids["her_post"],
    # ids["her_held_comment"], ids["hostile_comment"], ids["chain_3_comment"],
    # ids["category_film"], ids["author_user"].
    ids: Mapping[str, int] = field(hash=False)
    env: Mapping[str, str] = field(hash=False, repr=False)  # the whole env file
    env_file: str = ""

    @property
    def rest_url(self) -> str:
        """The REST root, with a trailing slash (…/wp-json/)."""
        return self.url + "/wp-json/"

    def rest(self, route: str) -> str:
        """Pretty-permalink URL of a REST route: rest("/wp/v2/posts")."""
        return self.url + "/wp-json/" + route.lstrip("/")

    def editor_headers(self) -> dict[str, str]:
        """Authorization header for the bot's Editor account (its Application Password)."""
        return basic_auth_headers(self.editor_user, self.editor_app_password)

    def admin_headers(self) -> dict[str, str]:
        return basic_auth_headers(self.admin_user, self.admin_app_password)

    def bot_environ(self) -> dict[str, str]:
        """Environment variables for the bot's config (BLOG_URL, WORDPRESS_USER, ...)."""
        keys = ("BLOG_URL", "WORDPRESS_USER", "WORDPRESS_APP_PASSWORD", "BLOG_ALLOW_PRIVATE_HOST")
        return {k: self.env[k] for k in keys if k in self.env}


def basic_auth_headers(user: str, password: str) -> dict[str, str]:
    """HTTP Basic auth as a header (aiohttp 3.14 deprecates BasicAuth / auth=)."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def parse_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


def load_site(path: Path | None = None) -> WordPressSite:
    """Read start.sh's env file. Raises FileNotFoundError / KeyError / ValueError."""
    path = path or env_file_path()
    env = parse_env_file(path)
    ids = {
        key[len("WP_") : -len("_ID")].lower(): int(value)
        for key, value in env.items()
        if key.startswith("WP_") and key.endswith("_ID") and value.isdigit()
    }
    return WordPressSite(
        url=env["BLOG_URL"].rstrip("/"),
        editor_user=env["WORDPRESS_USER"],
        editor_app_password=env["WORDPRESS_APP_PASSWORD"],
        admin_user=env["WP_ADMIN_USER"],
        admin_app_password=env["WP_ADMIN_APP_PASSWORD"],
        her_post_id=ids["her_post"],
        her_reader_comment_id=ids["her_reader_comment"],
        her_reply_comment_id=ids["her_reply_comment"],
        ids=MappingProxyType(ids),
        env=MappingProxyType(env),
        env_file=str(path),
    )


def site_answers(site: WordPressSite, timeout: float = 5.0) -> str | None:
    """None when the REST root answers with the wp/v2 namespace, else what went wrong."""
    try:
        with urllib.request.urlopen(site.rest_url, timeout=timeout) as resp:
            body = json.load(resp)
    except (OSError, urllib.error.URLError, ValueError) as exc:
        return f"{site.rest_url} does not answer: {exc}"
    if "wp/v2" not in body.get("namespaces", []):
        return f"{site.rest_url} answers but has no wp/v2 namespace"
    return None


def _unavailable(reason: str) -> None:
    message = f"Real WordPress not available: {reason}. {HOW_TO_START}"
    if in_ci():
        pytest.fail(message + " (CI is set: integration tests must not be skipped.)", pytrace=False)
    pytest.skip(message)


def reseed(timeout: float = 180.0) -> WordPressSite:
    """Restore the seed (posts, comments, options) by running start.sh; return the new site.

    Seeded ids and the Application Passwords normally stay the same, but always use the
    returned site. Needs root, like start.sh.
    """
    env = dict(os.environ, REVIEWBRIDGE_WP_ENV=str(env_file_path()))
    proc = subprocess.run(
        ["bash", str(SCRIPTS / "start.sh"), "--reseed"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"scripts/wordpress/start.sh --reseed failed ({proc.returncode}):\n"
            f"{proc.stdout}\n{proc.stderr}",
            pytrace=False,
        )
    return load_site()


def set_option(name: str, value: str | int) -> str:
    """Set a WordPress option (e.g. set_option("comment_moderation", 1) to hold new comments).

    A reseed restores the options the seed manages. Needs root. Returns the stored value.
    """
    proc = subprocess.run(
        ["php", str(SCRIPTS / "wp-option.php"), name, str(value)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"wp-option.php {name} failed: {proc.stderr}", pytrace=False)
    return proc.stdout.strip()


# ------------------------------------------------------------------------------------ fixtures


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees every collected item of the session: mark only ours.
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.wordpress)


@pytest.fixture(scope="session")
def wordpress() -> WordPressSite:
    path = env_file_path()
    try:
        site = load_site(path)
    except FileNotFoundError:
        _unavailable(f"env file {path} is missing")
    except (KeyError, ValueError) as exc:
        _unavailable(f"env file {path} is incomplete ({exc!r})")
    problem = site_answers(site)
    if problem:
        _unavailable(problem)
    # Start from the known seed even if an earlier run or a developer left the site changed.
    if os.geteuid() == 0 and not os.environ.get("REVIEWBRIDGE_WP_NO_SESSION_RESEED"):
        site = reseed()
    return site


@pytest.fixture
def reseed_wordpress(wordpress: WordPressSite) -> Callable[[], WordPressSite]:
    return reseed


@pytest.fixture
def fresh_wordpress(wordpress: WordPressSite) -> Iterator[WordPressSite]:
    """The site for a test that changes it; the seed is restored afterwards."""
    yield wordpress
    reseed()


class WordPressRestError(AssertionError):
    def __init__(self, method: str, url: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {url} -> {status}: {body!r}")
        self.status = status
        self.body = body


class WordPressRest:
    """A small authenticated REST client (aiohttp, Basic auth with an Application Password).

    Raises WordPressRestError (an AssertionError with .status and .body) on unexpected status.
    """

    def __init__(
        self, site: WordPressSite, session: aiohttp.ClientSession, headers: Mapping[str, str]
    ) -> None:
        self.site = site
        self.session = session
        self.headers = dict(headers)

    async def request(
        self,
        method: str,
        route: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
        expect: int | tuple[int, ...] = (200, 201),
    ) -> Any:
        url = self.site.rest(route)
        async with self.session.request(
            method, url, params=params, json=json_body, headers=self.headers
        ) as resp:
            body = await resp.json(content_type=None)
            ok = (expect,) if isinstance(expect, int) else expect
            if resp.status not in ok:
                raise WordPressRestError(method, url, resp.status, body)
            return body

    async def get(self, route: str, **params: Any) -> Any:
        return await self.request("GET", route, params=params)

    async def post(self, route: str, body: Mapping[str, Any]) -> Any:
        return await self.request("POST", route, json_body=body)

    async def delete(self, route: str, **params: Any) -> Any:
        return await self.request("DELETE", route, params=params)

    # Moderator actions on comments -------------------------------------------------------
    async def comment(self, comment_id: int) -> dict[str, Any]:
        """The comment in context=edit (raw content, e-mail, any status)."""
        return await self.get(f"/wp/v2/comments/{comment_id}", context="edit")

    async def set_comment_status(self, comment_id: int, status: str) -> dict[str, Any]:
        """status: "approved", "hold", "spam" or "trash"."""
        return await self.post(f"/wp/v2/comments/{comment_id}", {"status": status})

    async def hold_comment(self, comment_id: int) -> dict[str, Any]:
        return await self.set_comment_status(comment_id, "hold")

    async def approve_comment(self, comment_id: int) -> dict[str, Any]:
        return await self.set_comment_status(comment_id, "approved")

    async def edit_comment(self, comment_id: int, content: str) -> dict[str, Any]:
        return await self.post(f"/wp/v2/comments/{comment_id}", {"content": content})

    async def trash_comment(self, comment_id: int) -> dict[str, Any]:
        return await self.delete(f"/wp/v2/comments/{comment_id}")

    async def delete_comment(self, comment_id: int) -> dict[str, Any]:
        """Permanently, as "Delete permanently" in wp-admin."""
        return await self.delete(f"/wp/v2/comments/{comment_id}", force="true")

    async def create_comment(self, post_id: int, content: str, **fields: Any) -> dict[str, Any]:
        return await self.post("/wp/v2/comments", {"post": post_id, "content": content, **fields})

    async def comments(self, **params: Any) -> list[dict[str, Any]]:
        params.setdefault("per_page", 100)
        return await self.get("/wp/v2/comments", **params)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


@pytest.fixture
async def wp_admin(
    wordpress: WordPressSite, http: aiohttp.ClientSession
) -> AsyncIterator[WordPressRest]:
    yield WordPressRest(wordpress, http, wordpress.admin_headers())


@pytest.fixture
async def wp_editor(
    wordpress: WordPressSite, http: aiohttp.ClientSession
) -> AsyncIterator[WordPressRest]:
    yield WordPressRest(wordpress, http, wordpress.editor_headers())
