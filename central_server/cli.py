"""`hajiri server`: run the central server, manage its database (migrate, tokens, users, device registration), or
check a closed month's report against its signature file (verify-report, no database needed)."""

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from central_server.access.tokens import Role, create_token
from central_server.access.users import UserError, create_user
from central_server.closing.signing import check_signature_file
from central_server.config import ServerConfig, load_server_config
from central_server.db.engine import make_engine
from central_server.db.migrate import migrate
from central_server.devices.registry import register_device
from central_server.errors import DomainError
from hajiri_common.config import ConfigError


def _add_common(parser: argparse.ArgumentParser, *, default=None) -> None:
    parser.add_argument("--config", type=Path, default=default,
                        help="TOML config file (default: built-in defaults; secrets may come from "
                             "HAJIRI_ADMIN_TOKEN / HAJIRI_MQTT_PASSWORD)")
    parser.add_argument("--database-url", default=default,
                        help="overrides database_url, e.g. sqlite:///./var/central.db or postgresql://user@host/db")


def configure(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)
    parser.add_argument("--host", help="HTTP listen address (overrides http.host)")
    parser.add_argument("--port", type=int, help="HTTP port (overrides http.port)")
    sub = parser.add_subparsers(dest="server_command", metavar="ACTION",
                                help="without an action: run the server (API, dashboard, MQTT ingest)")
    # Sub-level copies of the common options must not overwrite values given before the action.
    p = sub.add_parser("migrate", help="apply database migrations and exit",
                       description="Apply any pending database migrations and exit.")
    _add_common(p, default=argparse.SUPPRESS)
    p = sub.add_parser("create-token", help="create an API token and print it once",
                       description="Create an API token; it is printed once and stored only as a hash.")
    _add_common(p, default=argparse.SUPPRESS)
    p.add_argument("--role", required=True, choices=[r.value for r in Role], help="what the token may do")
    p.add_argument("--label", default="", help="whose token this is, e.g. 'IT desk, Ranchi' (default: the role)")
    p.add_argument("--site-id", help="the one site a site-scoped role (office_head, warden, employee) may see")
    p.add_argument("--district", help="limit a district_officer token to the sites of this district")
    p = sub.add_parser("create-user", help="create a password login",
                       description="Create a user who logs in with POST /api/v1/auth/login. The password is "
                                   f"read from ${PASSWORD_ENV} if set, else asked for twice at a prompt; "
                                   "never give it on the command line. Only its scrypt hash is stored.")
    _add_common(p, default=argparse.SUPPRESS)
    p.add_argument("--username", required=True, help="login name (letters, digits, _ . @ -)")
    p.add_argument("--role", required=True, choices=[r.value for r in Role], help="what the user may do")
    p.add_argument("--site-id", help="the one site of a site-scoped role (office_head, warden)")
    p.add_argument("--district", help="a district_officer's district (they see its sites only)")
    p.add_argument("--employee-id", help="an employee user's employee id (their site follows from it)")
    p = sub.add_parser("register-device", help="register a kiosk's public key",
                       description="Register a kiosk (device id, site, Ed25519 public key) so its records "
                                   "are accepted. An unknown site is created as an office.")
    _add_common(p, default=argparse.SUPPRESS)
    p.add_argument("--device-id", required=True, help="the kiosk's device id (also its broker user)")
    p.add_argument("--site-id", required=True, help="the site the kiosk stands in")
    p.add_argument("--public-key", required=True, help="base64 Ed25519 public key printed by `hajiri provision`")
    p = sub.add_parser("verify-report", help="check a closed month's report file against its signature file",
                       description="Check that FILE is exactly the report the server froze and signed when the "
                                   "month was closed (SIGFILE: GET /api/v1/reports/monthly.sig). Prints ok or "
                                   "failed and why; exits 0 or 1.")
    p.add_argument("file", type=Path, metavar="FILE", help="the downloaded report (CSV, XLSX or PDF)")
    p.add_argument("sigfile", type=Path, metavar="SIGFILE", help="its signature file (JSON)")
    p.add_argument("--public-key", dest="trusted_key",
                   help="the server's public key (base64, GET /api/v1/downlink/server-key): without it the file is "
                        "checked against the key named in SIGFILE only")


PASSWORD_ENV = "HAJIRI_NEW_USER_PASSWORD"


def read_new_password(env: dict[str, str] | None = None) -> str:
    """The new user's password from the environment, else typed twice at a prompt (never from argv)."""
    env = os.environ if env is None else env
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV]
    if not sys.stdin.isatty():
        raise UserError(f"no password: set {PASSWORD_ENV} or run in a terminal to be asked for one")
    first = getpass.getpass("password for the new user: ")
    if getpass.getpass("again: ") != first:
        raise UserError("the two passwords differ")
    return first


def _config(args: argparse.Namespace) -> ServerConfig:
    config = load_server_config(args.config)
    updates: dict = {}
    if args.database_url:
        updates["database_url"] = args.database_url
    http = {k: v for k, v in (("host", getattr(args, "host", None)), ("port", getattr(args, "port", None)))
            if v is not None}
    if http:
        updates["http"] = {**config.http.model_dump(), **http}
    # Re-validate so a bad --port or --database-url gets the same clear error as a bad config file.
    return ServerConfig.model_validate({**config.model_dump(), **updates}) if updates else config


def verify_report(file: Path, sigfile: Path, trusted_key: str | None = None) -> int:
    """`hajiri server verify-report`: 0 when FILE is exactly what SIGFILE signs, else 1 (with the reason)."""
    try:
        content = file.read_bytes()
        sig = json.loads(sigfile.read_bytes())
    except (OSError, ValueError) as e:
        print(f"failed: cannot read the files: {e}")
        return 1
    why = check_signature_file(content, sig, trusted_key)
    if why is not None:
        print(f"failed: {why}")
        return 1
    print(f"ok: {file.name} is the {sig['format']} report of site {sig['site_id']} for {sig['month']}, closed at "
          f"{sig['closed_at']} by {sig['closed_by']}, signed by key {sig['key_id']}")
    return 0


def run(args: argparse.Namespace) -> int:
    if getattr(args, "server_command", None) == "verify-report":
        return verify_report(args.file, args.sigfile, args.trusted_key)
    try:
        config = _config(args)
        action = getattr(args, "server_command", None)
        if action is None:
            return _serve(config)
        engine = make_engine(config.database_url)
        migrate(engine)
        if action == "migrate":
            print("database schema up to date")
            return 0
        # Asked before the transaction: a prompt must not hold the database's write lock.
        password = read_new_password() if action == "create-user" else ""
        with engine.begin() as conn:
            if action == "create-token":
                token = create_token(conn, args.role, args.label or args.role, args.site_id, district=args.district)
                print(token)
                print("(shown once: store it now; only its hash is kept)", file=sys.stderr)
            elif action == "create-user":
                user = create_user(conn, args.username, password, args.role, actor="cli",
                                   site_id=args.site_id, district=args.district, employee_id=args.employee_id)
                print(f"created user {user['username']} ({user['role']})")
            else:
                row = register_device(conn, args.device_id, args.site_id, args.public_key, actor="cli",
                                      create_missing_site=True)
                print(f"registered {row['device_id']} at site {row['site_id']}")
        return 0
    # Domain errors (token, user, registry) carry an HTTP status for the API; here only their message counts.
    except (ConfigError, DomainError, ValueError) as e:
        print(f"hajiri server: {e}", file=sys.stderr)
        return 2


def _serve(config: ServerConfig) -> int:
    import uvicorn

    from central_server.access.logsafe import install_redaction
    from central_server.app import create_app

    install_redaction()
    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1; http.trusted_proxies decides.
    uvicorn.run(create_app(config), host=config.http.host, port=config.http.port, log_config=None,
                proxy_headers=False)
    return 0
