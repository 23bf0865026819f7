"""The login throttle's client address: X-Forwarded-For is believed only from a configured trusted proxy."""

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from starlette.requests import Request

from central_server.access.tokens import Role
from central_server.access.users import create_user
from central_server.app import create_app
from central_server.config import AccessConfig, HttpConfig, ServerConfig
from central_server.db.schema import login_attempts
from central_server.http.limits import client_address, parse_networks
from tests.central_server.web.world import CSRF_RE

PASSWORD = "correct horse battery"


@pytest.fixture
def world(sqlite_engine):
    with sqlite_engine.begin() as conn:
        create_user(conn, "head1", PASSWORD, Role.STATE_ADMIN, actor="t")
    return sqlite_engine


def make_client(engine, peer: str, trusted: list[str]) -> TestClient:
    config = ServerConfig(database_url="sqlite:///unused.db", access=AccessConfig(max_failures_per_ip=3),
                          http=HttpConfig(trusted_proxies=trusted))
    return TestClient(create_app(config, engine=engine, start_ingest=False), client=(peer, 40000))


def fail(client, username: str, forwarded: str | None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post("/api/v1/auth/login", json={"username": username, "password": "guess"}, headers=headers)


def recorded_addresses(engine) -> list[str]:
    with engine.connect() as conn:
        return [r.client_ip for r in conn.execute(sa.select(login_attempts.c.client_ip).order_by(login_attempts.c.id))]


def test_forwarded_for_from_an_untrusted_peer_does_not_escape_the_throttle(world):
    with make_client(world, "203.0.113.5", []) as c:
        for i in range(3):  # a new claimed address each time, and a new username so only the address counts
            assert fail(c, f"u{i}", f"198.51.100.{i}").status_code == 401
        r = fail(c, "u9", "198.51.100.99")
        assert r.status_code == 429 and "address" in r.json()["detail"]
    assert set(recorded_addresses(world)) == {"203.0.113.5"}


def test_a_peer_outside_the_trusted_proxies_is_not_believed_either(world):
    with make_client(world, "203.0.113.5", ["10.0.0.0/8"]) as c:
        for i in range(3):
            assert fail(c, f"u{i}", f"198.51.100.{i}").status_code == 401
        assert fail(c, "u9", "198.51.100.99").status_code == 429


def test_a_trusted_proxy_passes_the_client_address_on(world):
    with make_client(world, "10.0.0.2", ["10.0.0.0/8"]) as c:
        for i in range(4):  # four different clients behind the proxy: none reaches the per-address limit
            assert fail(c, f"u{i}", f"198.51.100.{i}").status_code == 401
        for i in range(3):  # one client behind it does
            assert fail(c, f"v{i}", "192.0.2.7").status_code == 401
        r = fail(c, "v9", "192.0.2.7")
        assert r.status_code == 429 and "address" in r.json()["detail"]
    assert recorded_addresses(world)[:4] == [f"198.51.100.{i}" for i in range(4)]


def _request(peer: str, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", v.encode()) for v in forwarded]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 1)})


def test_client_address_takes_the_right_most_untrusted_hop():
    trusted = parse_networks(["10.0.0.0/8", "::1"])
    # A client-made first entry is skipped: the proxies appended what they saw, right to left.
    assert client_address(_request("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.3"), trusted) == "198.51.100.7"
    assert client_address(_request("::1", "6.6.6.6", "198.51.100.7"), trusted) == "198.51.100.7"
    assert client_address(_request("10.0.0.2"), trusted) == "10.0.0.2"  # no header: the proxy itself
    assert client_address(_request("10.0.0.2", "10.0.0.9"), trusted) == "10.0.0.9"  # all trusted: the first
    assert client_address(_request("203.0.113.5", "198.51.100.7"), trusted) == "203.0.113.5"
    assert client_address(_request("203.0.113.5", "198.51.100.7"), ()) == "203.0.113.5"


def test_the_web_sign_in_form_uses_the_same_address(world):
    with make_client(world, "203.0.113.5", []) as c:
        page = c.get("/login")
        for i in range(4):
            # Each answer carries a fresh form token (and cookie), as a browser would resubmit it.
            page = c.post("/login", data={"csrf": CSRF_RE.search(page.text).group(1), "username": f"u{i}",
                                          "password": "guess"}, headers={"X-Forwarded-For": f"198.51.100.{i}"})
            assert page.status_code == (401 if i < 3 else 429)
    assert set(recorded_addresses(world)) == {"203.0.113.5"}
