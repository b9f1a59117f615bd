"""The WordPress push endpoint over real HTTP: only signed, fresh, first-seen hints get through."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Secret
from bot.storage.mirror import NonceRepository
from bot.sync.ports import SystemClock
from bot.sync.push import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    PushSettings,
    PushVerifier,
    create_push_app,
    signature,
)
from tests.component.fake_discord_port import FakeClock

SECRET = "correct horse battery staple"


@pytest.fixture
def hints():
    return []


@pytest.fixture
async def client(db, clock, hints):
    async def on_hint(post_id: str, comment_id: str) -> None:
        hints.append((post_id, comment_id))

    verifier = PushVerifier(PushSettings(Secret(SECRET)), NonceRepository(db), clock)
    async with TestClient(TestServer(create_push_app(verifier, on_hint))) as test_client:
        yield test_client


def signed(
    clock: FakeClock,
    *,
    event: str = "comment_posted",
    secret: str = SECRET,
    skew: float = 0,
    nonce: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    nonce = nonce or secrets.token_hex(16)
    body = json.dumps(
        {"event": event, "comment_id": 42, "post_id": 7, "nonce": nonce}, separators=(",", ":")
    ).encode()
    timestamp = str(int(clock.time() + skew))
    headers = {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "Content-Type": "application/json",
    }
    return body, headers


async def test_a_signed_push_is_accepted_and_hints_the_engine(client, clock, hints):
    body, headers = signed(clock)
    response = await client.post("/push/wordpress", data=body, headers=headers)
    assert response.status == 202
    assert hints == [("7", "42")]


@pytest.mark.parametrize("event", ["comment_edited", "comment_status", "comment_deleted"])
async def test_every_comment_event_is_a_hint(client, clock, hints, event):
    body, headers = signed(clock, event=event)
    assert (await client.post("/push/wordpress", data=body, headers=headers)).status == 202
    assert hints == [("7", "42")]


async def test_a_wrong_signature_is_refused(client, clock, hints):
    body, headers = signed(clock, secret="not the secret")
    response = await client.post("/push/wordpress", data=body, headers=headers)
    assert response.status == 401
    assert hints == []


async def test_a_tampered_body_is_refused(client, clock, hints):
    body, headers = signed(clock)
    tampered = body.replace(b'"post_id":7', b'"post_id":8')
    assert (await client.post("/push/wordpress", data=tampered, headers=headers)).status == 401
    assert hints == []


async def test_an_unsigned_request_is_refused(client, hints):
    response = await client.post("/push/wordpress", json={"event": "comment_posted"})
    assert response.status == 401
    assert hints == []


@pytest.mark.parametrize("skew", [-301, 301])
async def test_a_stale_or_future_timestamp_is_refused(client, clock, hints, skew):
    body, headers = signed(clock, skew=skew)
    assert (await client.post("/push/wordpress", data=body, headers=headers)).status == 401
    assert hints == []


async def test_a_replayed_request_is_refused(client, clock, hints):
    body, headers = signed(clock)
    assert (await client.post("/push/wordpress", data=body, headers=headers)).status == 202
    clock.now += 60
    assert (await client.post("/push/wordpress", data=body, headers=headers)).status == 409
    assert hints == [("7", "42")]


async def test_a_replay_under_a_fresh_nonce_header_is_refused(client, clock, hints):
    body, headers = signed(clock)
    await client.post("/push/wordpress", data=body, headers=headers)
    forged = {**headers, NONCE_HEADER: secrets.token_hex(16)}  # the body's nonce is signed
    assert (await client.post("/push/wordpress", data=body, headers=forged)).status == 401
    assert hints == [("7", "42")]


async def test_expired_nonces_are_forgotten(client, clock, db):
    body, headers = signed(clock)
    await client.post("/push/wordpress", data=body, headers=headers)
    clock.now += 3600
    body, headers = signed(clock)
    await client.post("/push/wordpress", data=body, headers=headers)
    rows = await db.fetch_all("SELECT nonce FROM push_nonces")
    assert len(rows) == 1


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2]",
        b'{"event": "comment_posted", "post_id": "7; DROP TABLE", "comment_id": 1}',
        b'{"event": "post_deleted", "post_id": 7, "comment_id": 1}',
    ],
)
async def test_a_malformed_but_signed_body_is_refused(client, clock, hints, payload):
    timestamp = str(int(clock.time()))
    headers = {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: secrets.token_hex(16),
        SIGNATURE_HEADER: signature(SECRET, timestamp, payload),
    }
    assert (await client.post("/push/wordpress", data=payload, headers=headers)).status == 400
    assert hints == []


async def test_an_oversized_body_is_refused(client, hints):
    response = await client.post("/push/wordpress", data=b"x" * 100_000)
    assert response.status == 413
    assert hints == []


async def test_a_failing_hint_handler_does_not_fail_the_push(db, clock):
    async def broken(post_id: str, comment_id: str) -> None:
        raise RuntimeError("engine is restarting")

    verifier = PushVerifier(PushSettings(Secret(SECRET)), NonceRepository(db), clock)
    async with TestClient(TestServer(create_push_app(verifier, broken))) as test_client:
        body, headers = signed(clock)
        response = await test_client.post("/push/wordpress", data=body, headers=headers)
        assert response.status == 202


async def test_health_check(client):
    response = await client.get("/healthz")
    assert response.status == 200 and await response.json() == {"ok": True}


def test_the_secret_never_shows_in_settings():
    assert SECRET not in repr(PushSettings(Secret(SECRET)))


# --- the WordPress plugin, run by PHP with WordPress' functions stubbed ----------------------

PLUGIN = (
    Path(__file__).resolve().parents[2] / "wordpress-plugin/reviewbridge-push/reviewbridge-push.php"
)
HARNESS = r"""<?php
define('ABSPATH', '/');
define('REVIEWBRIDGE_PUSH_URL', 'http://127.0.0.1/push/wordpress');
define('REVIEWBRIDGE_PUSH_SECRET', $argv[1]);
$GLOBALS['sent'] = array();
function add_action(...$args) {}
function register_uninstall_hook(...$args) {}
function wp_json_encode($value) { return json_encode($value); }
function get_option($name, $default = '') { return $default; }
class WP_Comment { public $comment_ID; public $comment_post_ID; }
function get_comment($id) {
    $comment = new WP_Comment();
    $comment->comment_ID = $id;
    $comment->comment_post_ID = 7;
    return $comment;
}
function wp_remote_post($url, $args) { $GLOBALS['sent'][] = array('url' => $url, 'args' => $args); }
require $argv[2];
Reviewbridge_Push::on_comment_post(42);
Reviewbridge_Push::on_edit_comment(42);
Reviewbridge_Push::on_deleted(43, get_comment(43));
Reviewbridge_Push::flush();
echo json_encode($GLOBALS['sent']);
"""


@pytest.mark.skipif(shutil.which("php") is None, reason="needs php-cli")
async def test_the_wordpress_plugin_sends_hints_the_bot_accepts(db, tmp_path):
    harness = tmp_path / "harness.php"
    harness.write_text(HARNESS)
    run = subprocess.run(
        ["php", str(harness), SECRET, str(PLUGIN)], capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 0, run.stderr
    sent = json.loads(run.stdout)
    assert [s["url"] for s in sent] == ["http://127.0.0.1/push/wordpress"] * 2  # one per comment
    verifier = PushVerifier(PushSettings(Secret(SECRET)), NonceRepository(db), SystemClock())
    hints = []
    for request in sent:
        args = request["args"]
        assert args["blocking"] is False and args["timeout"] <= 1
        hints.append(await verifier.verify(args["headers"], args["body"].encode()))
    assert [(h.event, h.post_id, h.comment_id) for h in hints] == [
        ("comment_edited", "7", "42"),
        ("comment_deleted", "7", "43"),
    ]
