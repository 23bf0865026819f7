"""Password login on SQLite and PostgreSQL: scrypt hashes, one message for unknown user and wrong password,
a throttle kept in the database (429 + Retry-After, unlocked after the window by a settable clock), expiring
tokens, disabled users, every outcome audited, and `hajiri server create-user`."""

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from central_server import cli
from central_server.access.login import LoginFailed, LoginThrottled, ThrottlePolicy
from central_server.access.login import login as do_login
from central_server.access.tokens import Role, find_principal
from central_server.access.users import (
    ScryptParams,
    UserError,
    create_user,
    hash_password,
    needs_rehash,
    parse_hash,
    verify_password,
)
from central_server.app import create_app
from central_server.config import AccessConfig, ServerConfig
from central_server.db.engine import make_engine
from central_server.db.schema import audit_log, login_attempts, users
from central_server.org.employees import create_employee
from central_server.org.sites import create_site

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(engine):
    with engine.begin() as conn:
        create_site(conn, "office-1", "Block Office", "office", actor="t")
        create_employee(conn, {"employee_id": "emp-1", "name": "E1", "site_id": "office-1"}, actor="t")
        create_user(conn, "head1", PASSWORD, Role.OFFICE_HEAD, actor="t", site_id="office-1")
        create_user(conn, "emp1", PASSWORD, Role.EMPLOYEE, actor="t", employee_id="emp-1")
    return engine


def make_client(engine, **access):
    config = ServerConfig(database_url="sqlite:///unused.db", access=AccessConfig(**access))
    app = create_app(config, engine=engine, start_ingest=False)
    app.state.clock = Clock()
    return TestClient(app)


@pytest.fixture
def client(world):
    with make_client(world) as c:
        yield c


def login(client, username, password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def audit_actions(engine, target):
    with engine.connect() as conn:
        return [r.action for r in conn.execute(sa.select(audit_log.c.action).where(audit_log.c.target == target)
                                               .order_by(audit_log.c.id))]


def test_password_is_stored_as_scrypt_with_its_parameters(world):
    with world.connect() as conn:
        stored = conn.execute(sa.select(users.c.password_hash).where(users.c.username == "head1")).scalar_one()
    assert stored.startswith("scrypt$n=16384,r=8,p=1$") and PASSWORD not in stored
    params, salt, key = parse_hash(stored)
    assert params == ScryptParams() and len(salt) == 16 and len(key) == 32
    assert verify_password(PASSWORD, stored) and not verify_password(PASSWORD + "x", stored)
    assert hash_password(PASSWORD) != hash_password(PASSWORD)  # per-user salt
    weak = hash_password(PASSWORD, ScryptParams(n=2**10))
    assert needs_rehash(weak) and not needs_rehash(stored) and verify_password(PASSWORD, weak)
    assert audit_actions(world, "head1") == ["user.create"]


def test_user_rules(world):
    with world.begin() as conn:
        with pytest.raises(UserError, match="too short"):
            create_user(conn, "x1", "short", Role.STATE_ADMIN, actor="t")
        with pytest.raises(UserError, match="already exists"):
            create_user(conn, "head1", PASSWORD, Role.STATE_ADMIN, actor="t")
        with pytest.raises(UserError, match="needs a district"):
            create_user(conn, "do1", PASSWORD, Role.DISTRICT_OFFICER, actor="t")
        with pytest.raises(UserError, match="one site only"):
            create_user(conn, "w1", PASSWORD, Role.WARDEN, actor="t")


def test_login_gives_an_expiring_token(client, world):
    r = login(client, "head1")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["role"] == "office_head" and body["site_id"] == "office-1"
    h = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/employees", headers=h).status_code == 200
    client.app.state.clock.now += 8 * 3600 + 1
    r = client.get("/api/v1/employees", headers=h)
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    assert audit_actions(world, "head1")[-1] == "login.success"


def test_employee_login_is_bound_to_the_employee(client):
    r = login(client, "emp1")
    assert r.status_code == 200 and r.json()["employee_id"] == "emp-1"
    h = {"Authorization": f"Bearer {r.json()['token']}"}
    assert [e["employee_id"] for e in client.get("/api/v1/employees", headers=h).json()] == ["emp-1"]


def test_unknown_user_and_wrong_password_look_the_same(client, world):
    wrong, unknown = login(client, "head1", "not the password"), login(client, "nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong username or password"}
    assert audit_actions(world, "head1")[-1] == "login.failure"
    assert audit_actions(world, "nobody") == ["login.failure"]


def test_throttle_then_unlock_after_the_window(client, world):
    for _ in range(5):
        assert login(client, "head1", "guess").status_code == 401
    r = login(client, "head1")  # even the right password waits
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 15 * 60
    assert "username" in r.json()["detail"]
    assert login(client, "emp1").status_code == 200  # another user at the same address is not locked
    client.app.state.clock.now += int(r.headers["Retry-After"])
    assert login(client, "head1").status_code == 200
    actions = audit_actions(world, "head1")
    assert actions.count("login.failure") == 5 and actions.count("login.lockout") == 1
    assert actions[-2:] == ["login.throttled", "login.success"]
    with world.connect() as conn:
        outcomes = [r.outcome for r in conn.execute(sa.select(login_attempts.c.outcome).where(
            login_attempts.c.username == "head1").order_by(login_attempts.c.id))]
    assert outcomes == ["failure"] * 5 + ["throttled", "success"]


def test_throttle_holds_across_app_instances(world):
    # The count lives in the database: a second worker (or a restarted server) sees the same failures.
    with make_client(world) as a:
        for _ in range(5):
            assert login(a, "head1", "guess").status_code == 401
    with make_client(world) as b:
        assert login(b, "head1").status_code == 429


def test_address_throttle(world):
    with make_client(world, max_failures_per_ip=3) as c:
        for name in ("u1", "u2", "u3"):
            assert login(c, name, "guess").status_code == 401
        r = login(c, "head1")
        assert r.status_code == 429 and "address" in r.json()["detail"]


def test_disabled_user_cannot_log_in_and_loses_tokens(client, world):
    token = login(client, "head1").json()["token"]
    admin = login_as_admin(client, world)
    r = client.post("/api/v1/users/head1/disabled", params={"disabled": "true"}, headers=admin)
    assert r.status_code == 204
    assert client.get("/api/v1/employees", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert login(client, "head1").json() == {"detail": "wrong username or password"}
    assert "user.disable" in audit_actions(world, "head1")


def login_as_admin(client, engine) -> dict:
    with engine.begin() as conn:
        create_user(conn, "root", PASSWORD, Role.STATE_ADMIN, actor="t")
    return {"Authorization": f"Bearer {login(client, 'root').json()['token']}"}


def test_admin_creates_users_over_the_api(client, world):
    admin = login_as_admin(client, world)
    new = {"username": "do-khurda", "password": PASSWORD, "role": "district_officer", "district": "Khurda"}
    r = client.post("/api/v1/users", json=new, headers=admin)
    assert r.status_code == 201 and "password" not in str(r.json()) and r.json()["district"] == "Khurda"
    r = client.post("/api/v1/users", json={**new, "username": "w9", "role": "warden", "district": None},
                    headers=admin)
    assert r.status_code == 422 and "one site only" in r.json()["detail"]
    head = {"Authorization": f"Bearer {login(client, 'head1').json()['token']}"}
    assert client.post("/api/v1/users", json={**new, "username": "x2"}, headers=head).status_code == 403
    assert login(client, "do-khurda").json()["district"] == "Khurda"


def test_logout_revokes_the_token(client):
    h = {"Authorization": f"Bearer {login(client, 'head1').json()['token']}"}
    assert client.post("/api/v1/auth/logout", headers=h).status_code == 204
    assert client.get("/api/v1/employees", headers=h).status_code == 401


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hajiri server")
    cli.configure(parser)
    return cli.run(parser.parse_args(argv))


def test_cli_create_user_takes_the_password_from_the_environment(sqlite_url, monkeypatch, capsys):
    base = ["create-user", "--database-url", sqlite_url, "--username", "ops", "--role", "state_admin"]
    monkeypatch.delenv(cli.PASSWORD_ENV, raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert run_cli(base) == 2 and cli.PASSWORD_ENV in capsys.readouterr().err
    monkeypatch.setenv(cli.PASSWORD_ENV, PASSWORD)
    assert run_cli(base) == 0 and "created user ops" in capsys.readouterr().out
    assert run_cli(base) == 2 and "already exists" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_cli(["create-user", "--help"])
    assert "never give it on the command line" in " ".join(capsys.readouterr().out.split())
    assert run_cli(["create-token", "--database-url", sqlite_url, "--role", "district_officer",
                    "--district", "Khurda"]) == 0
    token = capsys.readouterr().out.strip()
    with make_engine(sqlite_url).connect() as conn:
        assert find_principal(conn, token).district == "Khurda"


def test_a_weak_hash_is_raised_at_the_next_login(client, world):
    with world.begin() as conn:
        conn.execute(sa.update(users).where(users.c.username == "head1").values(
            password_hash=hash_password(PASSWORD, ScryptParams(n=2**10))))
    assert login(client, "head1").status_code == 200
    with world.connect() as conn:
        stored = conn.execute(sa.select(users.c.password_hash).where(users.c.username == "head1")).scalar_one()
    assert stored.startswith("scrypt$n=16384,") and verify_password(PASSWORD, stored)
    assert "user.rehash" in audit_actions(world, "head1")


def test_old_attempts_are_pruned(client, world):
    assert login(client, "head1", "guess").status_code == 401
    client.app.state.clock.now += 2 * 86_400
    assert login(client, "head1").status_code == 200
    with world.connect() as conn:
        assert [r.outcome for r in conn.execute(sa.select(login_attempts.c.outcome))] == ["success"]


def test_a_parallel_burst_cannot_slip_past_the_count(world):
    # Eight guesses at once on separate connections: attempts on one username are serialised (PostgreSQL
    # advisory lock, SQLite's write lock), so exactly five count as failures and the rest are throttled.
    def attempt(_: int) -> str:
        with world.begin() as conn:  # caught inside: the attempt row must be committed, as the API does
            try:
                do_login(conn, "head1", "guess", "10.0.0.9", now=time.time(), policy=ThrottlePolicy(),
                         token_ttl_s=60)
            except LoginFailed:
                return "failure"
            except LoginThrottled:
                return "throttled"
        return "success"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(attempt, range(8)))
    assert outcomes == ["failure"] * 5 + ["throttled"] * 3
