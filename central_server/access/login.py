"""Password login: per-username and per-address throttle kept in the database, then a short-lived token."""

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa

from central_server.access.audit import write_audit
from central_server.access.tokens import create_token
from central_server.access.users import DUMMY_HASH, get_user, needs_rehash, rehash, verify_password
from central_server.db.schema import login_attempts
from hajiri_common.timefmt import utc_iso

# One message for an unknown user, a wrong password and a disabled user: the answer must not tell them apart.
LOGIN_FAILED = "wrong username or password"
MAX_NAME_CHARS = 128
KEEP_S = 86_400


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures_per_user: int = 5
    max_failures_per_ip: int = 20
    window_s: int = 15 * 60


class LoginFailed(Exception):
    """Bad credentials (deliberately vague, see LOGIN_FAILED)."""

    def __init__(self) -> None:
        super().__init__(LOGIN_FAILED)


class LoginThrottled(Exception):
    """Too many recent failures for this username or address; retry_after_s says when to try again."""

    def __init__(self, retry_after_s: int, what: str) -> None:
        super().__init__(f"too many failed logins for this {what}; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


def _lock_username(conn: sa.Connection, username: str) -> None:
    # Serialise attempts on one username across workers so a burst cannot slip past the count.
    # SQLite needs nothing: its transactions begin IMMEDIATE (one writer at a time).
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(b"login:" + username.encode()).digest()[:8], "big", signed=True)
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def _unlock_at(failures: list[float], limit: int, window_s: int) -> float | None:
    # Locked while `limit` failures lie within the window: until the limit-th newest one ages out.
    return failures[-limit] + window_s if len(failures) >= limit else None


def _failures(conn: sa.Connection, column: sa.Column, value: str, since: float) -> list[float]:
    q = (sa.select(login_attempts.c.at_epoch)
         .where(column == value, login_attempts.c.outcome == "failure", login_attempts.c.at_epoch > since)
         .order_by(login_attempts.c.at_epoch))
    return [r.at_epoch for r in conn.execute(q)]


def retry_after(conn: sa.Connection, username: str, client_ip: str, now: float, policy: ThrottlePolicy
                ) -> tuple[int, str] | None:
    """(seconds until a login may be tried, "username" or "address"), or None when not throttled."""
    since = now - policy.window_s
    last_ok = conn.execute(sa.select(sa.func.max(login_attempts.c.at_epoch)).where(
        login_attempts.c.username == username, login_attempts.c.outcome == "success")).scalar()
    # A success clears the username's count (not the address's: one good account must not reset it).
    user_fail = _failures(conn, login_attempts.c.username, username, max(since, last_ok or since))
    ip_fail = _failures(conn, login_attempts.c.client_ip, client_ip, since)
    waits = [(at, what) for at, what in ((_unlock_at(user_fail, policy.max_failures_per_user, policy.window_s),
                                          "username"),
                                         (_unlock_at(ip_fail, policy.max_failures_per_ip, policy.window_s),
                                          "address"))
             if at is not None and at > now]
    if not waits:
        return None
    at, what = max(waits)
    return max(1, int(at - now + 0.999)), what


def _record(conn: sa.Connection, username: str, client_ip: str, now: float, outcome: str) -> None:
    conn.execute(sa.insert(login_attempts).values(at=utc_iso(now), at_epoch=now, username=username,
                                                  client_ip=client_ip, outcome=outcome))


def login(conn: sa.Connection, username: str, password: str, client_ip: str, *, now: float,
          policy: ThrottlePolicy, token_ttl_s: int) -> dict:
    """A bearer token for good credentials; LoginFailed / LoginThrottled otherwise. Every outcome is stored
    and audited in `conn`'s transaction, so the caller must commit it even when this raises."""
    username = username.strip()[:MAX_NAME_CHARS]
    _lock_username(conn, username)
    throttled = retry_after(conn, username, client_ip, now, policy)
    if throttled is not None:
        _record(conn, username, client_ip, now, "throttled")
        write_audit(conn, username, "login.throttled", username, f"ip={client_ip} by={throttled[1]} "
                                                                 f"retry_after={throttled[0]}s")
        raise LoginThrottled(*throttled)
    user = get_user(conn, username)
    # An unknown user is checked against a dummy hash: the same scrypt work, so timing does not tell.
    good = verify_password(password, DUMMY_HASH if user is None else user["password_hash"])
    if user is None or not good or user["disabled"]:
        why = "unknown user" if user is None else "disabled user" if good else "wrong password"
        _record(conn, username, client_ip, now, "failure")
        write_audit(conn, username, "login.failure", username, f"ip={client_ip} {why}")
        locked = retry_after(conn, username, client_ip, now, policy)
        if locked is not None:
            write_audit(conn, username, "login.lockout", username,
                        f"ip={client_ip} by={locked[1]} for={locked[0]}s")
        raise LoginFailed()
    _record(conn, username, client_ip, now, "success")
    # Rows older than any window are no longer needed for the throttle (the audit log keeps the history).
    conn.execute(sa.delete(login_attempts).where(login_attempts.c.at_epoch < now - max(policy.window_s, KEEP_S)))
    if needs_rehash(user["password_hash"]):
        rehash(conn, username, password)
    expires_at = utc_iso(now + token_ttl_s)
    token = create_token(conn, user["role"], f"login {username}", user["site_id"], actor=username,
                         employee_id=user["employee_id"], district=user["district"], expires_at=expires_at,
                         username=username)
    write_audit(conn, username, "login.success", username, f"ip={client_ip} expires={expires_at}")
    return {"token": token, "token_type": "bearer", "expires_at": expires_at, "role": user["role"],
            "site_id": user["site_id"], "district": user["district"], "employee_id": user["employee_id"]}
